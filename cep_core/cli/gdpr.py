"""``cep gdpr`` and ``cep purge``: data-subject rights and retention from a shell.

The CLI is an operator-admin tool: every ``gdpr`` action names its operator (``--operator``)
and a person of another operator is "unknown" (SEC-22). Each export, rectification and
erasure writes an event to the audit journal (actor ``cli``). Exit codes: 0 done, 1 the kit
failed, 2 bad usage or unknown person.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cep_core.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from cep_core.cli.french_argparse import FrenchArgumentParser

if TYPE_CHECKING:
    from cep_core.kit import Kit

CLI_ACTOR = "cli"
CONFIRMATION_WORD = "effacer"


def add_parsers(commands: Any) -> None:
    gdpr = commands.add_parser(
        "gdpr",
        help="droits des personnes (RGPD) : export, rectification, effacement",
        description="Droits des personnes sur leurs données, pour UN opérateur (--operator). "
        "L'identifiant de la personne est celui de la table beneficiaries (visible dans "
        "l'API des dossiers : beneficiary_id).",
    )
    actions = gdpr.add_subparsers(
        dest="gdpr_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    actions.required = True
    export = actions.add_parser(
        "export",
        help="exporter toutes les données d'une personne (JSON et PDF)",
        description="Écrit l'export complet d'une personne : un fichier JSON (lisible par une "
        "machine, documents de synthèse compris, en base64) et un PDF lisible, puis affiche "
        "leurs chemins. Exemple :\n  cep gdpr export 0190f1c2-... --operator apec --output /tmp",
    )
    erase = actions.add_parser(
        "erase",
        help="effacer les données d'une personne",
        description="Efface les données d'une personne : identité, coordonnées, textes libres, "
        "notes, documents de synthèse, liens, demandes, réponses aux enquêtes, messages en "
        "attente. Restent, sans donnée personnelle, les éléments statistiques des dossiers et "
        "les journaux (qui a fait quoi, quand). Demande confirmation, sauf avec --yes.",
    )
    rectify = actions.add_parser(
        "rectify",
        help="rectifier l'identité ou les coordonnées d'une personne",
        description="Corrige l'identité ou les coordonnées d'une personne et en garde la trace "
        "(quand, par qui, quels champs, pourquoi ; jamais les valeurs). Une valeur vide "
        "supprime l'adresse ou le téléphone.",
    )
    for action in (export, erase, rectify):
        action.add_argument("beneficiary_id", metavar="IDENTIFIANT", help="la personne")
        action.add_argument("--operator", required=True, help="l'opérateur de la personne")
    export.add_argument(
        "--output",
        metavar="DOSSIER",
        default=".",
        help="dossier où écrire les fichiers (défaut : le dossier courant)",
    )
    erase.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
    for flag, text in (
        ("--first-name", "prénom corrigé"),
        ("--last-name", "nom corrigé"),
        ("--email", "adresse électronique corrigée"),
        ("--phone", "téléphone corrigé"),
    ):
        rectify.add_argument(flag, help=text)
    rectify.add_argument("--reason", required=True, help="motif de la rectification")

    purge = commands.add_parser(
        "purge",
        help="appliquer les durées de conservation (anonymisation, purges)",
        description="Anonymise les dossiers arrivés au terme de la durée de conservation de "
        "leur opérateur (2 ans après le dernier contact par défaut) et purge ce qui a expiré : "
        "journal d'audit, clés d'idempotence, sessions, liens de téléchargement, messages "
        "envoyés. À lancer chaque jour (cron, minuteur systemd). Sort avec 1 si une tâche "
        "échoue (les autres sont quand même faites).",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="compter seulement, sans rien modifier"
    )


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _open_kit() -> Kit | None:
    from cep_core.cli.accounts import _open_kit

    return _open_kit()


def _audit(kit: Kit, action: str, args: argparse.Namespace, outcome: str) -> None:
    kit.audit.record(
        action=action,
        operator=args.operator,
        actor=CLI_ACTOR,
        record_type="beneficiary",
        record_id=args.beneficiary_id,
        outcome=outcome,
    )


def gdpr(args: argparse.Namespace) -> int:
    from cep_core.domain.issues import InvalidInput
    from cep_core.errors import UnknownOperator
    from cep_core.services.gdpr import BeneficiaryNotFound

    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    action = args.gdpr_command
    audit_action = {"export": "gdpr.export", "erase": "gdpr.erase", "rectify": "gdpr.rectify"}
    try:
        try:
            kit.hooks.operator(args.operator)
        except UnknownOperator:
            _err(f"cep : opérateur inconnu : « {args.operator} »")
            return EXIT_USAGE
        try:
            if action == "export":
                code = _export(kit, args)
            elif action == "erase":
                code = _erase(kit, args)
            else:
                code = _rectify(kit, args)
        except BeneficiaryNotFound as exc:
            _audit(kit, audit_action[action], args, "not_found")
            _err(f"cep : {exc}")
            return EXIT_USAGE
        except InvalidInput as exc:
            _audit(kit, audit_action[action], args, "invalid")
            for issue in exc.issues:
                _err(f"cep : {issue.path or 'saisie'} : {issue.message}")
            return EXIT_USAGE
        except Exception as exc:
            _audit(kit, audit_action[action], args, "failure")
            _err(f"cep : échec : {type(exc).__name__} : {exc}")
            return EXIT_FAILURE
        if code == EXIT_OK:
            _audit(kit, audit_action[action], args, "success")
        return code
    finally:
        kit.close()


def _export(kit: Kit, args: argparse.Namespace) -> int:
    output = Path(args.output)
    if not output.is_dir():
        _err(f"cep : dossier introuvable : « {output} »")
        return EXIT_USAGE
    export = kit.gdpr.export(args.operator, args.beneficiary_id)
    stamp = kit.clock().strftime("%Y%m%d-%H%M%S")
    stem = f"export-rgpd-{args.operator}-{args.beneficiary_id}-{stamp}"
    paths = (output / f"{stem}.json", output / f"{stem}.pdf")
    for path, content in zip(paths, (export.json, export.pdf), strict=True):
        path.write_bytes(content)
        path.chmod(0o600)  # personal data: readable by its owner only
    for path in paths:
        print(path)
    rows = sum(len(t["rows"]) for t in export.document["tables"].values())
    _err(f"Export écrit : {rows} enregistrement(s), JSON et PDF.")
    return EXIT_OK


def _erase(kit: Kit, args: argparse.Namespace) -> int:
    from cep_core.services.gdpr import ACTION_LABELS

    if not args.yes:
        # Unknown person: exit 2 before asking (with --yes, `erase` itself says so).
        kit.gdpr.select(args.operator, args.beneficiary_id)
        if not sys.stdin.isatty():
            _err("cep : confirmation requise : relancez avec --yes, ou dans un terminal")
            return EXIT_USAGE
        answer = input(
            f"Effacer les données de la personne {args.beneficiary_id} chez {args.operator} ? "
            f"C'est définitif. Tapez « {CONFIRMATION_WORD} » pour confirmer : "
        )
        if answer.strip().casefold() != CONFIRMATION_WORD:
            _err("Abandon : rien n'a été effacé.")
            return EXIT_USAGE
    report = kit.gdpr.erase(args.operator, args.beneficiary_id)
    print(f"Données de la personne {args.beneficiary_id} effacées ({args.operator}) :")
    for outcome in report.outcomes:
        print(f"  {outcome.label} : {outcome.rows} {ACTION_LABELS[outcome.action]}")
    return EXIT_OK


def _rectify(kit: Kit, args: argparse.Namespace) -> int:
    changes = {
        name: getattr(args, name)
        for name in ("first_name", "last_name", "email", "phone")
        if getattr(args, name) is not None
    }
    kit.gdpr.rectify(
        args.operator, args.beneficiary_id, changes, actor=CLI_ACTOR, reason=args.reason
    )
    print(f"Rectification enregistrée : {', '.join(sorted(changes)) or 'aucun champ'}.")
    return EXIT_OK


def purge(args: argparse.Namespace) -> int:
    from cep_core.services.retention import JobResult

    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    prefix = "[simulation] " if args.dry_run else ""

    def show(result: JobResult) -> None:
        if result.error is not None:
            _err(f"  ÉCHEC : {result.error}")
        else:
            verb = "à traiter" if args.dry_run else "traité(s)"
            print(f"{prefix}{result.label} : {result.count} {verb}")

    try:
        results = kit.retention.run(
            dry_run=args.dry_run, progress=lambda line: _err(prefix + line), on_result=show
        )
    except Exception as exc:
        _err(f"cep : échec de la purge : {type(exc).__name__} : {exc}")
        return EXIT_FAILURE
    finally:
        kit.close()
    failed = [r for r in results if r.error is not None]
    if failed:
        _err(f"cep : {len(failed)} tâche(s) en échec.")
        return EXIT_FAILURE
    return EXIT_OK
