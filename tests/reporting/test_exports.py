"""Pseudonymised exports (SEC-20): no direct identifier, small cells suppressed, stable
pseudonyms under one key, the five-month warning, and ``cep report`` / ``cep surveys send``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cep_core import NewBeneficiary
from cep_core.cli import main
from cep_core.services.indicators import Period
from cep_core.services.pseudonymisation import Pseudonymiser
from cep_core.services.reports import ExportFormat, ExportKind, ReportService
from cep_core.storage.tables import audit_events, report_exports

MARCH_APRIL = Period(start=date(2026, 3, 1), end=date(2026, 4, 30))
# What the world's people are made of: none of it may leave in an export.
IDENTIFYING = (
    "Maëlle",
    "Roussel",
    "roussel@exemple.fr",
    "06 39 98 12 34",
    "1979-05-04",
    "04/05/1979",
    "Je souhaite faire le point",  # free text of the level-1 record
    "Évoluer vers un poste",  # free text of the project
    "Très utile",  # a survey comment
)


def export(world, kind: ExportKind, fmt: ExportFormat) -> bytes:
    return world.kit.reports.export("apec", MARCH_APRIL, kind=kind, fmt=fmt, actor="test").content


@pytest.mark.parametrize("kind", list(ExportKind))
@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_no_direct_identifier_leaves(world, kind: ExportKind, fmt: ExportFormat) -> None:
    world.answer_surveys()
    text = export(world, kind, fmt).decode()
    assert text.strip()
    for value in IDENTIFYING:
        assert value not in text, value
    for case_id in world.cases.values():
        assert case_id not in text
    for user in world.counsellors.values():
        assert user.id not in text and user.display_name not in text


def test_paths_carry_the_facts_with_pseudonyms(world) -> None:
    world.answer_surveys()
    rows = list(
        csv.DictReader(io.StringIO(export(world, ExportKind.PATHS, ExportFormat.CSV).decode()))
    )
    assert len(rows) == 5
    pseudonymiser = world.kit.pseudonymiser
    by_case = {pseudonymiser.pseudonym("case", world.cases[k]): k for k in world.cases}
    found = {by_case[row["case"]]: row for row in rows}
    a = found["A"]
    assert (a["level"], a["status"], a["close_reason"]) == ("2", "closed", "completed")
    assert (a["days_to_level_2"], a["level_2_days"]) == ("10", "40")
    assert (a["objective"], a["funders"], a["channel"]) == (
        "career_development",
        "cpf",
        "presentiel",
    )
    assert (a["age_band"], a["satisfaction"], a["entry_month"]) == ("45-54 ans", "4", "2026-03")
    assert a["counsellor"] == pseudonymiser.pseudonym("counsellor", world.counsellors["c1"].id)
    assert found["C"]["referred_to"] == "regional"
    assert found["D"]["level"] == "" and found["D"]["channel"] == ""


def test_small_cells_are_suppressed(world) -> None:
    from cep_core import Situation, Status

    world.move("2026-05-04")
    person = Situation(
        birth_date=date(1990, 1, 2), as_of=date(2026, 5, 4), status=Status.EMPLOYEE, cadre=True
    )
    for index in range(12):
        world.kit.cases.open_case(
            "apec", NewBeneficiary(first_name="Léa", last_name=f"Blanc{index}"), person
        )
    period = Period(start=date(2026, 3, 1), end=date(2026, 5, 31))
    content = world.kit.reports.export(
        "apec", period, kind=ExportKind.ACTIVITY, fmt=ExportFormat.JSON, actor="test"
    ).content
    rows = json.loads(content)["rows"]
    cells = {(r["month"], r["age_band"], r["level"], r["channel"]): r["entries"] for r in rows}
    assert cells[("2026-05", "35-44 ans", "", "")] == 12  # kept
    assert cells[("2026-03", "45-54 ans", "2", "presentiel")] is None  # A alone: hidden
    assert all(v is None or v >= 11 for v in cells.values())
    assert "pseudonymisé" in json.loads(content)["notice"]


def test_pseudonyms_are_stable_under_one_key_only(world) -> None:
    def cases_column(service: ReportService) -> list[str]:
        content = service.export(
            "apec", MARCH_APRIL, kind=ExportKind.PATHS, fmt=ExportFormat.CSV, actor="test"
        ).content
        return sorted(row["case"] for row in csv.DictReader(io.StringIO(content.decode())))

    first, second = cases_column(world.kit.reports), cases_column(world.kit.reports)
    assert first == second and len(set(first)) == 5
    other = ReportService(
        world.kit.database,
        pseudonymiser=lambda: Pseudonymiser(b"une toute autre clef de hachage"),
        audit=lambda: world.kit.audit,
        clock=world.kit.clock,
    )
    assert not set(cases_column(other)) & set(first)


def test_every_export_is_recorded_and_audited(world) -> None:
    export(world, ExportKind.ACTIVITY, ExportFormat.CSV)
    with world.kit.database.read() as conn:
        recorded = conn.execute(select(report_exports)).one()
        audited = conn.execute(
            select(audit_events).where(audit_events.c.action == "report.export")
        ).one()
    assert (recorded.kind, recorded.format, recorded.rows) == ("activity", "csv", recorded.rows)
    assert (recorded.period_from, recorded.period_to) == (MARCH_APRIL.start, MARCH_APRIL.end)
    assert (audited.record_id, audited.operator, audited.actor) == (recorded.id, "apec", "test")


def test_the_five_month_warning(world) -> None:
    reports = world.kit.reports
    assert reports.status("apec").overdue  # never exported
    world.move("2026-05-10")
    export(world, ExportKind.ACTIVITY, ExportFormat.CSV)
    assert not reports.status("apec").overdue
    world.move("2026-10-10", 20)  # five months to the day: not yet
    status = reports.status("apec")
    assert (status.overdue, status.alert_months) == (False, 5)
    world.now[0] += timedelta(days=1)
    assert reports.status("apec").overdue
    assert reports.status("regional").overdue  # one operator's export is not another's


def test_cep_report_writes_the_file(cli_env, tmp_path: Path, capsys) -> None:
    target = tmp_path / "parcours.json"
    code = main(
        ["report", "--from", "2026-03-01", "--to", "2026-04-30", "--format", "json",
         "--kind", "paths", "--operator", "apec", "--output", str(target)]
    )  # fmt: skip
    assert code == 0
    document = json.loads(target.read_text(encoding="utf-8"))
    assert len(document["rows"]) == 5
    assert "5 ligne(s) écrites" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-05-01", "--to", "2026-04-30", "--format", "csv"], "est après --to"),
        (["--from", "2026-02-30", "--to", "2026-04-30", "--format", "csv"], "date invalide"),
        (["--from", "2026-03-01", "--to", "2026-04-30", "--format", "xls"], "format inconnu"),
        (["--from", "2026-03-01", "--to", "2026-04-30", "--format", "csv", "--kind", "x"], "type"),
    ],
)
def test_cep_report_refuses_bad_input(cli_env, capsys, args: list[str], message: str) -> None:
    assert main(["report", *args]) == 2
    assert message in capsys.readouterr().err


def test_cep_report_names_an_unknown_operator(cli_env, capsys) -> None:
    code = main(
        ["report", "--from", "2026-03-01", "--to", "2026-04-30", "--format", "csv",
         "--operator", "inconnu"]
    )  # fmt: skip
    assert code == 2
    assert "opérateur inconnu" in capsys.readouterr().err


def test_cep_surveys_send(cli_env, capsys) -> None:
    """The CLI runs on the real clock: the world's level ends are too old to survey, and
    its follow-ups (due 2026-09-12 and 2026-10-02) are sent once their day has come."""
    import re

    from sqlalchemy import func

    from cep_core.storage.tables import survey_invitations

    assert main(["surveys", "send"]) == 0
    out = capsys.readouterr().out
    found = re.search(
        r"programmés : (\d+) ; mis en file d'envoi : (\d+) ; sans adresse .* (\d+)\.", out
    )
    assert found, out
    scheduled, sent, skipped = map(int, found.groups())
    with cli_env.kit.database.read() as conn:
        states = dict(
            conn.execute(
                select(survey_invitations.c.status, func.count())
                .where(survey_invitations.c.kind == "follow_up")
                .group_by(survey_invitations.c.status)
            ).all()
        )
    assert scheduled == 0
    assert (states.get("sent", 0), states.get("skipped", 0)) == (sent, skipped)
    assert sent + skipped + states.get("scheduled", 0) == 2
