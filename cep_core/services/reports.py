"""Pseudonymised statistical exports (SEC-20; rule 22: L6111-6-1 activity, R6323-34 paths).

Two kinds, for one operator and one period (cases opened in it):

- ``activity``: counts of entries by month, age band, level reached and first-session
  channel; every count from 1 to 10 is suppressed (`suppress_small_cells`);
- ``paths``: one row per case: its pseudonym and its counsellor's (keyed hashes,
  `kit.pseudonymiser`), the entry month, level reached, status, closure reason, days to level
  2 and length of level 2, objective, funders, referral target, age band, first channel,
  satisfaction score and six-month situation. Never a name, an e-mail, a phone number, a
  birth date, a postcode or any free text.

What comes out is pseudonymised, not anonymous (the key links it back): the file says so.
Each export is recorded (``report_exports``: the dashboard warns after five months without
one) and written to the audit journal (``report.export``). Paths read each case document of
the period once, streamed in batches (``yield_per``) and decoded into a narrow Struct of the
fields above: memory stays flat; time grows with the period's cases (progress reported).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, Final

import msgspec
from sqlalchemy import func, select

from cep_core.clock import Clock, date_in_france, today_in_france
from cep_core.domain.case import CaseStatus
from cep_core.domain.reporting import age_band, export_alert_months
from cep_core.domain.rules import add_months
from cep_core.domain.steps import LEVEL_TWO_PROJECT
from cep_core.services.indicators import Period
from cep_core.services.pseudonymisation import Pseudonymiser, suppress_small_cells
from cep_core.storage.case_joins import with_case
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.tables import case_events, cases, report_exports, survey_answers

NOTICE: Final = (
    "Export pseudonymisé (RGPD art. 4(5)) : les identifiants sont remplacés par un hachage "
    "à clé conservée à part ; ce fichier reste une donnée personnelle. Effectifs de 1 à 10 "
    "masqués."
)
BATCH = 1000


class ExportKind(enum.StrEnum):
    ACTIVITY = "activity"
    PATHS = "paths"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


ACTIVITY_FIELDS = ("month", "age_band", "level", "channel", "entries")
PATH_FIELDS = (
    "case",
    "counsellor",
    "entry_month",
    "level",
    "status",
    "close_reason",
    "days_to_level_2",
    "level_2_days",
    "objective",
    "funders",
    "referred_to",
    "age_band",
    "channel",
    "satisfaction",
    "follow_up_situation",
)


class Export(msgspec.Struct, frozen=True, kw_only=True):
    content: bytes
    rows: int
    media_type: str
    filename: str


class ExportStatus(msgspec.Struct, frozen=True, kw_only=True):
    """When the last export was made and whether the dashboard must warn."""

    last_export_at: datetime | None
    alert_months: int
    overdue: bool


# -- the narrow view of a case document ------------------------------------------------------


class _Situation(msgspec.Struct, frozen=True):
    birth_date: date | None = None


class _Step(msgspec.Struct, frozen=True):
    data: dict[str, Any] = {}


class _Session(msgspec.Struct, frozen=True):
    start: datetime
    channel: str | None = None


class _Closure(msgspec.Struct, frozen=True):
    reason: str | None = None


class _Referral(msgspec.Struct, frozen=True):
    target_operator: str | None = None


class _Line(msgspec.Struct, frozen=True):
    funder: str
    status: str = "requested"


class _Plan(msgspec.Struct, frozen=True):
    lines: tuple[_Line, ...] = ()


class _CaseFacts(msgspec.Struct, frozen=True):
    situation: _Situation = _Situation()
    steps: dict[str, _Step] = {}
    sessions: tuple[_Session, ...] = ()
    closure: _Closure | None = None
    referral: _Referral | None = None
    funding_plan: _Plan | None = None


_decoder = msgspec.json.Decoder(_CaseFacts)


class ReportService:
    def __init__(
        self,
        database: Database,
        *,
        pseudonymiser: Callable[[], Pseudonymiser],
        audit: Callable[[], Any],
        clock: Clock,
    ) -> None:
        self._database = database
        self._pseudonymiser = pseudonymiser
        self._audit = audit
        self._clock = clock

    def export(
        self,
        operator: str,
        period: Period,
        *,
        kind: ExportKind,
        fmt: ExportFormat,
        actor: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> Export:
        fields: tuple[str, ...]
        if kind is ExportKind.ACTIVITY:
            rows, fields = self._activity(operator, period), ACTIVITY_FIELDS
        else:
            rows, fields = list(self._paths(operator, period, progress)), PATH_FIELDS
        now = self._clock().astimezone(UTC)
        name = f"cep-{kind.value}-{operator}-{period.start.isoformat()}-{period.end.isoformat()}"
        if fmt is ExportFormat.CSV:
            content, media_type = _csv(rows, fields), "text/csv; charset=utf-8"
        else:
            document = {
                "notice": NOTICE,
                "operator": operator,
                "kind": kind.value,
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "generated_at": now.isoformat(),
                "rows": rows,
            }
            content = json.dumps(document, ensure_ascii=False, indent=1).encode()
            media_type = "application/json"
        export_id = new_id()
        with self._database.write() as conn:
            conn.execute(
                report_exports.insert().values(
                    id=export_id,
                    operator=operator,
                    kind=kind.value,
                    format=fmt.value,
                    period_from=period.start,
                    period_to=period.end,
                    created_at=now,
                    actor=actor,
                    rows=len(rows),
                )
            )
        self._audit().record(
            action="report.export",
            operator=operator,
            actor=actor,
            record_type="report",
            record_id=export_id,
        )
        return Export(
            content=content,
            rows=len(rows),
            media_type=media_type,
            filename=f"{name}.{fmt.value}",
        )

    def status(self, operator: str) -> ExportStatus:
        """The five-month warning: no export for more than `export_alert_months` months."""
        today = today_in_france(self._clock)
        months = export_alert_months(today)
        with self._database.read() as conn:
            last = conn.execute(
                select(func.max(report_exports.c.created_at)).where(
                    report_exports.c.operator == operator
                )
            ).scalar_one()
        overdue = last is None or add_months(date_in_france(last), months) < today
        return ExportStatus(last_export_at=last, alert_months=months, overdue=overdue)

    # -- activity --------------------------------------------------------------------------

    def _activity(self, operator: str, period: Period) -> list[dict[str, Any]]:
        counts: dict[tuple[str, str, str, str], int] = {}
        for facts in self._facts(operator, period, None):
            key = (facts["entry_month"], facts["age_band"] or "", str(facts["level"] or ""))
            cell = (*key, facts["channel"] or "")
            counts[cell] = counts.get(cell, 0) + 1
        rows = [
            {"month": m, "age_band": a, "level": lv, "channel": ch, "entries": n}
            for (m, a, lv, ch), n in sorted(counts.items())
        ]
        return suppress_small_cells(rows, ["entries"])

    # -- paths -----------------------------------------------------------------------------

    def _paths(
        self, operator: str, period: Period, progress: Callable[[int], None] | None
    ) -> Iterator[dict[str, Any]]:
        pseudonymiser = self._pseudonymiser()
        for facts in self._facts(operator, period, progress):
            yield {
                **facts,
                "case": pseudonymiser.pseudonym("case", facts["case"]),
                "counsellor": pseudonymiser.optional("counsellor", facts["counsellor"]),
                "funders": " ".join(facts["funders"]),
            }

    def _facts(
        self, operator: str, period: Period, progress: Callable[[int], None] | None
    ) -> Iterator[dict[str, Any]]:
        """One dict of non-identifying facts per case opened in the period (ids still raw)."""
        window = (
            cases.c.operator == operator,
            cases.c.created_at >= period.lower,
            cases.c.created_at < period.upper,
        )
        with self._database.read() as conn:
            moves: dict[str, dict[str, datetime]] = {}
            for case_id, to_status, at in conn.execute(
                select(case_events.c.case_id, case_events.c.to_status, case_events.c.at)
                .select_from(with_case(case_events))
                .where(*window, case_events.c.kind == "transition")
                .order_by(case_events.c.seq)
            ):
                moves.setdefault(case_id, {}).setdefault(to_status, at)
            answers: dict[tuple[str, str], Any] = {}
            for case_id, kind, satisfaction, situation in conn.execute(
                select(
                    survey_answers.c.case_id,
                    survey_answers.c.kind,
                    survey_answers.c.satisfaction,
                    survey_answers.c.situation,
                )
                .select_from(with_case(survey_answers))
                .where(*window)
                .order_by(survey_answers.c.answered_at)
            ):
                answers[(case_id, kind)] = situation if kind == "follow_up" else satisfaction
            result = conn.execution_options(yield_per=BATCH).execute(
                select(
                    cases.c.id,
                    cases.c.counsellor_id,
                    cases.c.created_at,
                    cases.c.level,
                    cases.c.status,
                    cases.c.doc,
                )
                .where(*window)
                .order_by(cases.c.created_at, cases.c.id)
            )
            done = 0
            for row in result:
                facts = _decoder.decode(row.doc)
                entered = date_in_france(row.created_at)
                moved = moves.get(row.id, {})
                project = facts.steps.get(LEVEL_TWO_PROJECT)
                sessions = sorted(facts.sessions, key=lambda s: s.start)
                yield {
                    "case": row.id,
                    "counsellor": row.counsellor_id,
                    "entry_month": entered.isoformat()[:7],
                    "level": row.level,
                    "status": row.status,
                    "close_reason": facts.closure.reason if facts.closure else None,
                    "days_to_level_2": _days(
                        moved.get(CaseStatus.LEVEL_ONE), moved.get(CaseStatus.LEVEL_TWO)
                    ),
                    "level_2_days": _days(
                        moved.get(CaseStatus.LEVEL_TWO), moved.get(CaseStatus.CLOSED)
                    ),
                    "objective": project.data.get("objective") if project else None,
                    "funders": sorted(
                        {
                            line.funder
                            for line in (facts.funding_plan.lines if facts.funding_plan else ())
                            if line.status != "refused"
                        }
                    ),
                    "referred_to": facts.referral.target_operator if facts.referral else None,
                    "age_band": age_band(facts.situation.birth_date, entered),
                    "channel": sessions[0].channel if sessions else None,
                    "satisfaction": answers.get((row.id, "satisfaction")),
                    "follow_up_situation": answers.get((row.id, "follow_up")),
                }
                done += 1
                if progress is not None and done % BATCH == 0:
                    progress(done)
            if progress is not None:
                progress(done)


def _days(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return (date_in_france(end) - date_in_france(start)).days


def _csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row[name] for name in fields})
    return buffer.getvalue().encode()
