"""``cep report`` (pseudonymised statistical exports, SEC-20) and ``cep surveys send``.

``cep report`` writes to standard output or ``--output``; progress goes to standard error so
the export can be piped. Without ``--operator`` it exports every installed operator in turn
(one file each with ``--output``, the operator's id before the extension). ``cep surveys
send`` schedules the satisfaction and follow-up surveys due and queues their e-mails; run
``cep mail send`` after it (or both from the same timer).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from cep_core.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from cep_core.cli.french_argparse import FrenchArgumentParser


def add_parsers(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="exporter les statistiques pseudonymisées d'une période",
        description="Exporte l'activité (effectifs, petits effectifs masqués) ou les parcours "
        "(une ligne par dossier, identifiants pseudonymisés) des dossiers ouverts dans la "
        "période. Exemple :\n  cep report --from 2026-01-01 --to 2026-06-30 --format csv "
        "--kind paths --operator regional --output parcours.csv",
    )
    report.add_argument("--from", dest="start", required=True, help="premier jour (AAAA-MM-JJ)")
    report.add_argument("--to", dest="end", required=True, help="dernier jour (AAAA-MM-JJ)")
    report.add_argument("--format", dest="fmt", required=True, help="csv ou json")
    report.add_argument("--kind", default="activity", help="activity (défaut) ou paths (parcours)")
    report.add_argument("--operator", help="un seul opérateur (défaut : tous)")
    report.add_argument("--output", help="fichier de sortie (défaut : sortie standard)")
    surveys = commands.add_parser(
        "surveys",
        help="envoyer les questionnaires de satisfaction et de suivi",
        description="Questionnaires de satisfaction (fin de niveau) et enquête à six mois.",
    )
    actions = surveys.add_subparsers(
        dest="surveys_command", metavar="ACTION", title="actions", parser_class=FrenchArgumentParser
    )
    actions.required = True
    actions.add_parser(
        "send",
        help="programmer et mettre en file les questionnaires dus",
        description="Programme les questionnaires des niveaux terminés et met en file les "
        "messages des questionnaires arrivés à échéance (puis lancez cep mail send).",
    )


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _day(value: str, option: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"cep report : date invalide pour {option} : « {value} » (attendu : AAAA-MM-JJ)")
        return None


def _progress(operator: str) -> Callable[[int], None]:
    return lambda done: _err(f"{operator} : {done} dossier(s) lus…")


def report(args: argparse.Namespace) -> int:
    from cep_core.cli.accounts import _open_kit
    from cep_core.services.indicators import Period
    from cep_core.services.reports import ExportFormat, ExportKind

    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start is None or end is None:
        return EXIT_USAGE
    if start > end:
        _err(f"cep report : --from ({start.isoformat()}) est après --to ({end.isoformat()})")
        return EXIT_USAGE
    try:
        fmt = ExportFormat(args.fmt)
    except ValueError:
        _err(f"cep report : format inconnu : « {args.fmt} » (csv ou json)")
        return EXIT_USAGE
    try:
        kind = ExportKind(args.kind)
    except ValueError:
        _err(f"cep report : type d'export inconnu : « {args.kind} » (activity ou paths)")
        return EXIT_USAGE
    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    try:
        known = [info.id for info in kit.hooks.operators()]
        if args.operator is not None and args.operator not in known:
            _err(f"cep report : opérateur inconnu : « {args.operator} »")
            return EXIT_USAGE
        operators = [args.operator] if args.operator else known
        for operator in operators:
            export = kit.reports.export(
                operator,
                Period(start=start, end=end),
                kind=kind,
                fmt=fmt,
                actor="cli",
                progress=_progress(operator),
            )
            if args.output:
                target = Path(args.output)
                if len(operators) > 1:
                    target = target.with_name(f"{target.stem}-{operator}{target.suffix}")
                target.write_bytes(export.content)
                _err(f"{operator} : {export.rows} ligne(s) écrites dans {target}.")
            else:
                sys.stdout.buffer.write(export.content)
                sys.stdout.flush()
                _err(f"{operator} : {export.rows} ligne(s).")
        return EXIT_OK
    except OSError as exc:
        _err(f"cep report : écriture impossible : {exc.strerror or exc}")
        return EXIT_FAILURE
    finally:
        kit.close()


def surveys(args: argparse.Namespace) -> int:
    from cep_core.cli.accounts import _open_kit

    kit = _open_kit()
    if kit is None:
        return EXIT_FAILURE
    try:
        run = kit.surveys.run()
        print(
            f"Questionnaires programmés : {run.scheduled} ; mis en file d'envoi : {run.sent} ; "
            f"sans adresse électronique : {run.skipped}."
        )
        return EXIT_OK
    finally:
        kit.close()
