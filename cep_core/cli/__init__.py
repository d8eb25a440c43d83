"""The ``cep`` command line.

Exit codes: 0 success; 1 the kit failed (refused plugin, unreachable database, port in use);
2 what was given is wrong (unknown option, malformed or impossible situation). Heavy modules
(Litestar, SQLAlchemy, the plugins) are imported only by the sub-command that needs them, so
``cep --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cep_core.cli.french_argparse import FrenchArgumentParser

if TYPE_CHECKING:
    from cep_core.kit import Kit

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

DESCRIPTION = """\
cep-kit : le kit du Conseil en évolution professionnelle (CEP).

Configuration par variables d'environnement :
  CEP_DATABASE_URL       base de données (défaut : fichier SQLite dans CEP_DATA_DIR)
  CEP_DATA_DIR           dossier des données (défaut : ~/.local/share/cep-kit)
  CEP_PLUGINS            plugins autorisés, séparés par des virgules (défaut : tous)
  CEP_DISABLED_PLUGINS   plugins désactivés, séparés par des virgules
  CEP_TRACE_HOOKS=1      journalise chaque appel de hook
"""

EPILOG = """\
codes de sortie : 0 succès, 1 échec du kit, 2 saisie ou usage incorrect.
Aide d'une commande : cep COMMANDE --help. Les plugins peuvent ajouter des commandes
(voir cep plugins)."""


def build_parser() -> FrenchArgumentParser:
    from cep_core import HOOK_API_VERSION, __version__

    parser = FrenchArgumentParser(prog="cep", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument(
        "--version",
        action="version",
        version=f"cep-kit {__version__} (API des hooks {HOOK_API_VERSION})",
        help="afficher la version et quitter",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMANDE", title="commandes", parser_class=FrenchArgumentParser
    )

    serve = commands.add_parser(
        "serve",
        help="lancer l'application web (API et pages)",
        description="Lance l'application web après avoir appliqué les migrations.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="adresse d'écoute (défaut : %(default)s)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="port d'écoute (défaut : %(default)s)"
    )
    serve.add_argument(
        "--demo", action="store_true", help="ajouter des données de démonstration au démarrage"
    )

    db = commands.add_parser("db", help="gérer la base de données", description="Base de données.")
    db_commands = db.add_subparsers(
        dest="db_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    db_commands.required = True
    db_commands.add_parser(
        "upgrade",
        help="appliquer les migrations",
        description="Applique les migrations jusqu'à la dernière version du schéma.",
    )

    plugins = commands.add_parser(
        "plugins",
        help="lister les plugins chargés, refusés et désactivés",
        description="Liste les plugins : nom, version, type, libellé, hooks ; "
        "et pour les plugins refusés, la raison. Sort avec 1 si un plugin est refusé.",
    )
    plugins.add_argument("--json", action="store_true", help="sortie JSON")

    orient = commands.add_parser(
        "orient",
        help="dire si une personne a droit au CEP et quels opérateurs peuvent l'accompagner",
        description="Oriente une personne. La situation est donnée en JSON (fichier, ou - "
        "pour l'entrée standard) ou par options. Exemple :\n"
        "  cep orient --birth-date 1990-04-23 --status employee --cadre --region 53\n"
        '  echo \'{"birth_date": "2001-02-03", "status": "jobseeker"}\' | cep orient -',
    )
    orient.add_argument("file", nargs="?", metavar="FICHIER", help="situation JSON, ou -")
    orient.add_argument("--birth-date", metavar="AAAA-MM-JJ", help="date de naissance")
    orient.add_argument(
        "--as-of", metavar="AAAA-MM-JJ", help="date de référence (défaut : aujourd'hui)"
    )
    orient.add_argument(
        "--status",
        choices=[
            "employee",
            "public_agent",
            "self_employed",
            "jobseeker",
            "apprentice",
            "student",
            "retired",
            "inactive",
        ],
        help="statut",
    )
    for flag, text in (
        ("--cadre", "cadre"),
        ("--registered-jobseeker", "inscrit(e) à France Travail"),
        ("--disability-recognition", "reconnaissance de handicap (RQTH ou équivalent)"),
        ("--working", "exerce une activité"),
        ("--seeking-job", "recherche un emploi"),
    ):
        orient.add_argument(flag, action="store_true", help=text)
    orient.add_argument("--region", metavar="CODE", help="code INSEE de la région (ex. 53)")

    plugin = commands.add_parser(
        "plugin",
        help="outils pour les auteurs de plugins",
        description="Outils pour les auteurs de plugins d'opérateur (voir docs/plugins.md).",
    )
    plugin_commands = plugin.add_subparsers(
        dest="plugin_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    plugin_commands.required = True
    plugin_new = plugin_commands.add_parser(
        "new",
        help="créer un plugin d'opérateur complet, prêt à installer et à tester",
        description="Crée DOSSIER/cep-NOM : la distribution d'un plugin d'opérateur (pyproject "
        "avec son entry point, hooks, paramètres datés, modèle de synthèse, tests utilisant la "
        "vérification de conformité du kit). Exemple :\n  cep plugin new mon_operateur",
    )
    plugin_new.add_argument(
        "name", metavar="NOM", type=_plugin_name, help="nom du plugin (ex. mon_operateur)"
    )
    plugin_new.add_argument(
        "--dir", default=".", metavar="DOSSIER", help="dossier parent (défaut : dossier courant)"
    )

    funding = commands.add_parser(
        "funding",
        help="simuler le financement d'une formation",
        description="Financement : simulation d'un plan de financement (CPF, participation, "
        "abondements, reste à charge).",
    )
    funding_commands = funding.add_subparsers(
        dest="funding_command",
        metavar="ACTION",
        title="actions",
        parser_class=FrenchArgumentParser,
    )
    funding_commands.required = True
    simulate = funding_commands.add_parser(
        "simulate",
        help="simuler un plan de financement",
        description="Simule le plan de financement d'une formation, comme POST "
        "/api/v1/funding/simulate. La demande est donnée en JSON (fichier, ou - pour l'entrée "
        "standard). Exemple :\n"
        '  echo \'{"training": {"cost_eur": 1000, "kind": "certification", '
        '"certification_code": "RNCP34828", "qualiopi": true}, "situation": {"status": '
        '"employee", "cpf_balance_eur": 500}}\' | cep funding simulate -',
    )
    simulate.add_argument("file", metavar="FICHIER", help="demande JSON, ou - (entrée standard)")

    demo = commands.add_parser(
        "demo",
        help="créer des données de démonstration",
        description="Crée des dossiers fictifs pour chaque opérateur installé (sans doublon).",
    )
    demo.add_argument(
        "--per-operator",
        type=_positive,
        default=12,
        help="nombre de dossiers par opérateur (défaut : %(default)s)",
    )

    mail = commands.add_parser(
        "mail",
        help="envoyer les messages électroniques en attente",
        description="Messages électroniques (accusés de réception, rendez-vous, liens de "
        "téléchargement) : ils sont mis en file d'attente avec les changements qu'ils "
        "annoncent, puis envoyés par cette commande (à lancer régulièrement, par exemple "
        "chaque minute). Destination : CEP_MAIL_BACKEND (console, file ou smtp).",
    )
    mail_commands = mail.add_subparsers(
        dest="mail_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    mail_commands.required = True
    send = mail_commands.add_parser(
        "send",
        help="envoyer les messages dus",
        description="Envoie les messages dus ; un échec est retenté plus tard, puis le message "
        "passe en échec définitif (sans être perdu). Sort avec 1 si un message a échoué "
        "définitivement pendant cet envoi.",
    )
    send.add_argument(
        "--limit",
        type=_positive,
        default=1000,
        help="nombre maximal de messages à envoyer (défaut : %(default)s)",
    )
    send.add_argument(
        "--retry-failed",
        action="store_true",
        help="remettre d'abord en file les messages en échec définitif (après avoir corrigé "
        "la cause)",
    )
    from cep_core.cli import accounts, gdpr, reports

    accounts.add_parsers(commands)
    gdpr.add_parsers(commands)
    reports.add_parsers(commands)
    return parser


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port invalide : « {value} »") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port hors limites (1 à 65535) : {port}")
    return port


def _plugin_name(value: str) -> str:
    from cep_core.scaffold import ScaffoldError, check_name

    try:
        return check_name(value)
    except ScaffoldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu : « {value} »") from None
    if not 1 <= number <= 100_000:
        raise argparse.ArgumentTypeError(f"doit être entre 1 et 100000 : {number}")
    return number


CORE_COMMANDS = (
    "serve",
    "db",
    "plugins",
    "plugin",
    "orient",
    "funding",
    "demo",
    "mail",
    "users",
    "tokens",
    "gdpr",
    "purge",
    "report",
    "surveys",
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    first = next((a for a in argv if not a.startswith("-")), None)
    plugin_kit = None
    if first is not None and first not in CORE_COMMANDS:
        # Only an unknown command pays for loading plugins, to find the ones they add.
        plugin_kit = _add_plugin_commands(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if plugin_kit is not None and args.command not in CORE_COMMANDS:
            return int(args.plugin_handler(args, plugin_kit))
        from cep_core.cli import accounts, commands, gdpr, reports

        handler = {
            "serve": commands.serve,
            "db": commands.db,
            "plugins": commands.plugins,
            "plugin": commands.plugin,
            "orient": commands.orient,
            "funding": commands.funding,
            "demo": commands.demo,
            "mail": commands.mail,
            "users": accounts.users,
            "tokens": accounts.tokens,
            "gdpr": gdpr.gdpr,
            "purge": gdpr.purge,
            "report": reports.report,
            "surveys": reports.surveys,
        }[args.command]
        return handler(args)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    finally:
        if plugin_kit is not None:
            plugin_kit.close()


def _add_plugin_commands(parser: FrenchArgumentParser) -> Kit:
    from cep_core.commands import CommandRegistry
    from cep_core.kit import Kit

    kit = Kit()
    registry = CommandRegistry()
    kit.hooks.register_commands(registry)
    subparsers = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    for command in registry:
        if command.name in CORE_COMMANDS:
            continue
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        if command.configure is not None:
            command.configure(sub)
        sub.set_defaults(plugin_handler=command.handler)
    return kit


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
