"""Activity indicators, computed in SQL for one operator and one period.

Every figure is an aggregate the database computes (COUNT, SUM, AVG, GROUP BY) on indexed
columns: the cases' dates, level, status and counsellor, the journal's transitions and
sessions, the survey answers' scores. Three measures read a value inside the case document
(the project's objective, the funding lines, the referral's target) through the database's
own JSON functions, still in SQL; nothing loads case documents into Python. Two medians are
computed in Python over one number per case that changed level in the period (the bound:
a national operator's monthly transitions, tens of thousands of integers).

Period: from the first day 00:00 to the day after the last, Paris time. A case "enters" the
period when it was opened in it. Filters narrow to one counsellor's cases, or to the cases
of the counsellors of one agency (`staff_agencies`). Anonymised cases keep the columns and the
non-identifying facts, so they still count.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from cep_core.clock import PARIS, Clock, date_in_france
from cep_core.domain.case import CaseStatus
from cep_core.domain.forms import SessionChannel
from cep_core.domain.reporting import (
    FOLLOW_UP_LABELS,
    FollowUpSituation,
    IndicatorDefinition,
    IndicatorResult,
    Measure,
    SeriesPoint,
    SurveyKind,
)
from cep_core.domain.steps import LEVEL_TWO_PROJECT, PROJECT_OBJECTIVE_LABELS
from cep_core.plugins import Hooks
from cep_core.storage.case_joins import with_case
from cep_core.storage.database import Database
from cep_core.storage.tables import (
    case_events,
    cases,
    staff_agencies,
    staff_users,
    survey_answers,
    survey_invitations,
)

MONTHS_FR = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
LEVEL_LABELS = {1: "Niveau 1", 2: "Niveau 2", None: "Pas encore au niveau 1"}
UNASSIGNED = "Sans conseiller attribué"
NO_ACCOUNT = "Conseiller sans compte"
CHANNEL_LABELS = {
    SessionChannel.IN_PERSON.value: "Présentiel",
    SessionChannel.PHONE.value: "Téléphone",
    SessionChannel.VIDEO.value: "Visioconférence",
}
UNKNOWN = "Non renseigné"
AGENCY_MAX_LENGTH = 80
NO_AGENCY = "Sans agence"


class UnknownStaff(LookupError):
    """No such staff member at this operator."""


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """Whole days, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("La date de début est postérieure à la date de fin.")

    @property
    def lower(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=PARIS).astimezone(UTC)

    @property
    def upper(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=PARIS).astimezone(UTC)

    def months(self) -> list[date]:
        first = self.start.replace(day=1)
        found = []
        while first <= self.end:
            found.append(first)
            first = (first + timedelta(days=32)).replace(day=1)
        return found


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """Whose cases: one operator, optionally one agency or one counsellor."""

    operator: str
    agency: str | None = None
    counsellor: str | None = None


def month_label(month: date) -> str:
    return f"{MONTHS_FR[month.month - 1]} {month.year}"


def json_text(dialect: str, column: Any, *path: str) -> ColumnElement[Any]:
    """A text value inside a JSON document stored as text, in the database's own dialect."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(cast(column, JSONB), *(literal(p) for p in path))
    steps = "".join(f'."{p}"' if "." in p else f".{p}" for p in path)
    return func.json_extract(column, "$" + steps)


class IndicatorService:
    def __init__(self, database: Database, hooks: Hooks, *, clock: Clock) -> None:
        self._database = database
        self._hooks = hooks
        self._clock = clock

    def definitions(self, operator: str) -> list[IndicatorDefinition]:
        """The core's indicators plus those of `operator`'s plugin (never another's)."""
        found = [d for d in self._hooks.indicators() if d.operator in (None, operator)]
        return sorted(found, key=lambda d: (d.order, d.id))

    def compute(
        self, scope: Scope, period: Period, *, only: Sequence[str] | None = None
    ) -> list[IndicatorResult]:
        results = []
        with self._database.read() as conn:
            for definition in self.definitions(scope.operator):
                if only is not None and definition.id not in only:
                    continue
                results.append(self._one(conn, definition, scope, period))
        return results

    def counsellors(self, operator: str) -> list[tuple[str, str]]:
        """(id, name) of the operator's staff who hold cases, for the dashboard's filter."""
        with self._database.read() as conn:
            rows = conn.execute(
                select(staff_users.c.id, staff_users.c.display_name)
                .where(staff_users.c.operator == operator)
                .order_by(staff_users.c.display_name)
            ).all()
        return [(row.id, row.display_name) for row in rows]

    # -- agencies ---------------------------------------------------------------------------

    def agencies(self, operator: str) -> dict[str, str]:
        """Staff id -> agency label, for the operator's staff that have one."""
        with self._database.read() as conn:
            rows = conn.execute(
                select(staff_agencies.c.user_id, staff_agencies.c.agency).where(
                    staff_agencies.c.operator == operator
                )
            ).all()
        return {row.user_id: row.agency for row in rows}

    def set_agency(self, operator: str, user_id: str, agency: str | None) -> None:
        """Set (or clear, with an empty label) a staff member's agency; the manager's tool.

        Raises `UnknownStaff` unless the account belongs to `operator` (SEC-01)."""
        label = " ".join((agency or "").split())
        if len(label) > AGENCY_MAX_LENGTH:
            raise ValueError(f"Le nom de l'agence dépasse {AGENCY_MAX_LENGTH} caractères.")
        with self._database.write() as conn:
            found = conn.execute(
                select(staff_users.c.id).where(
                    staff_users.c.id == user_id, staff_users.c.operator == operator
                )
            ).first()
            if found is None:
                raise UnknownStaff(user_id)
            conn.execute(
                delete(staff_agencies).where(
                    staff_agencies.c.user_id == user_id, staff_agencies.c.operator == operator
                )
            )
            if label:
                conn.execute(
                    staff_agencies.insert().values(
                        user_id=user_id, operator=operator, agency=label, updated_at=self._clock()
                    )
                )

    def agency_names(self, operator: str) -> list[str]:
        return sorted(set(self.agencies(operator).values()))

    # -- internals -------------------------------------------------------------------------

    def _one(
        self, conn: Connection, definition: IndicatorDefinition, scope: Scope, period: Period
    ) -> IndicatorResult:
        base: dict[str, Any] = {
            "id": definition.id,
            "label": definition.label,
            "unit": definition.unit,
            "description": definition.description,
            "chart": definition.chart,
        }
        if definition.measure is None:
            return IndicatorResult(**base, computed=False)
        compute = _MEASURES[definition.measure]
        value, points, count = compute(self, conn, scope, period)
        return IndicatorResult(**base, value=value, points=tuple(points), base=count)

    def _scoped(self, scope: Scope) -> list[ColumnElement[bool]]:
        """Conditions on `cases` for the scope (operator, then agency or counsellor)."""
        where: list[ColumnElement[bool]] = [cases.c.operator == scope.operator]
        if scope.counsellor is not None:
            where.append(cases.c.counsellor_id == scope.counsellor)
        if scope.agency is not None:
            members = select(staff_agencies.c.user_id).where(
                staff_agencies.c.operator == scope.operator,
                staff_agencies.c.agency == scope.agency,
            )
            where.append(cases.c.counsellor_id.in_(members))
        return where

    def _entered(self, scope: Scope, period: Period) -> list[ColumnElement[bool]]:
        return [
            *self._scoped(scope),
            cases.c.created_at >= period.lower,
            cases.c.created_at < period.upper,
        ]

    def _counted(
        self, conn: Connection, query: Select[Any, Any], labels: dict[Any, str] | None = None
    ) -> Result:
        rows = conn.execute(query).all()
        points = [
            SeriesPoint(
                key=str(key) if key is not None else "",
                label=(labels or {}).get(key, str(key) if key is not None else UNKNOWN),
                value=float(count),
            )
            for key, count in rows
        ]
        return None, _ranked(points), sum(int(count) for _, count in rows)

    # -- measures --------------------------------------------------------------------------

    def _entries_by_month(self, conn: Connection, scope: Scope, period: Period) -> Result:
        """One statement for the whole period: a sum per month, with Paris-time bounds."""
        months = period.months()
        starts = [Period(start=month, end=month).lower for month in months]
        created = cases.c.created_at
        in_month = [
            and_(created >= lo, created < hi)
            for lo, hi in zip(starts, [*starts[1:], period.upper], strict=True)
        ]
        counts = conn.execute(
            select(
                *(func.coalesce(func.sum(case((month, 1), else_=0)), 0) for month in in_month)
            ).where(*self._entered(scope, period))
        ).one()
        points = [
            SeriesPoint(key=month.isoformat()[:7], label=month_label(month), value=int(n))
            for month, n in zip(months, counts, strict=True)
        ]
        return None, points, sum(int(n) for n in counts)

    def _entries_by_level(self, conn: Connection, scope: Scope, period: Period) -> Result:
        query = (
            select(cases.c.level, func.count())
            .where(*self._entered(scope, period))
            .group_by(cases.c.level)
        )
        return self._counted(conn, query, LEVEL_LABELS)

    def _entries_by_counsellor(self, conn: Connection, scope: Scope, period: Period) -> Result:
        """By counsellor: their name; a case nobody holds, or held by an id with no account
        (imported data, a deleted account), is shown as such."""
        name = case(
            (cases.c.counsellor_id.is_(None), UNASSIGNED),
            else_=func.coalesce(staff_users.c.display_name, NO_ACCOUNT),
        )
        return self._entries_grouped(conn, scope, period, name, staff_users, staff_users.c.id)

    def _entries_by_agency(self, conn: Connection, scope: Scope, period: Period) -> Result:
        agency = func.coalesce(staff_agencies.c.agency, NO_AGENCY)
        return self._entries_grouped(
            conn, scope, period, agency, staff_agencies, staff_agencies.c.user_id
        )

    def _entries_grouped(
        self,
        conn: Connection,
        scope: Scope,
        period: Period,
        label: ColumnElement[Any],
        staff: Table,
        staff_id: ColumnElement[Any],
    ) -> Result:
        """Entries counted by `label`, read from the `staff` row of each case's counsellor
        (of the case's operator), if any."""
        query = (
            select(label, func.count())
            .select_from(
                cases.outerjoin(
                    staff,
                    and_(staff_id == cases.c.counsellor_id, staff.c.operator == cases.c.operator),
                )
            )
            .where(*self._entered(scope, period))
            .group_by(label)
        )
        return self._counted(conn, query)

    def _entries_by_channel(self, conn: Connection, scope: Scope, period: Period) -> Result:
        first = (
            select(case_events.c.case_id, func.min(case_events.c.seq).label("seq"))
            .where(
                case_events.c.operator == scope.operator,
                case_events.c.kind == "session_recorded",
            )
            .group_by(case_events.c.case_id)
            .subquery()
        )
        channel = case_events.c.reason
        query = (
            select(channel, func.count())
            .select_from(
                cases.join(first, first.c.case_id == cases.c.id).join(
                    case_events,
                    and_(
                        case_events.c.case_id == first.c.case_id,
                        case_events.c.seq == first.c.seq,
                    ),
                )
            )
            .where(*self._entered(scope, period))
            .group_by(channel)
        )
        return self._counted(conn, query, CHANNEL_LABELS)

    def _reached(self, status: CaseStatus) -> ColumnElement[bool]:
        return exists().where(
            case_events.c.case_id == cases.c.id,
            case_events.c.operator == cases.c.operator,
            case_events.c.to_status == status.value,
        )

    def _level_two_share(self, conn: Connection, scope: Scope, period: Period) -> Result:
        row = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((self._reached(CaseStatus.LEVEL_TWO), 1), else_=0)), 0),
            ).where(*self._entered(scope, period), self._reached(CaseStatus.LEVEL_ONE))
        ).one()
        level_one, level_two = int(row[0]), int(row[1])
        return _share(level_two, level_one), [], level_one

    def _transition_days(
        self,
        conn: Connection,
        scope: Scope,
        period: Period,
        start: CaseStatus,
        end: CaseStatus,
    ) -> Result:
        """Median days from the first move to `start` to a move to `end` within the period."""
        began = (
            select(case_events.c.case_id, func.min(case_events.c.at).label("at"))
            .where(case_events.c.operator == scope.operator, case_events.c.to_status == start)
            .group_by(case_events.c.case_id)
            .subquery()
        )
        rows = conn.execute(
            select(began.c.at, case_events.c.at)
            .select_from(
                case_events.join(began, began.c.case_id == case_events.c.case_id).join(
                    cases,
                    and_(cases.c.id == case_events.c.case_id, cases.c.operator == scope.operator),
                )
            )
            .where(
                *self._scoped(scope),
                case_events.c.operator == scope.operator,
                case_events.c.to_status == end,
                *([case_events.c.from_status == start] if end is CaseStatus.CLOSED else []),
                case_events.c.at >= period.lower,
                case_events.c.at < period.upper,
            )
        ).all()
        days = [(date_in_france(finish) - date_in_france(begun)).days for begun, finish in rows]
        value = float(statistics.median(days)) if days else None
        return value, [], len(days)

    def _days_to_level_two(self, conn: Connection, scope: Scope, period: Period) -> Result:
        return self._transition_days(
            conn, scope, period, CaseStatus.LEVEL_ONE, CaseStatus.LEVEL_TWO
        )

    def _level_two_days(self, conn: Connection, scope: Scope, period: Period) -> Result:
        return self._transition_days(conn, scope, period, CaseStatus.LEVEL_TWO, CaseStatus.CLOSED)

    def _referrals_by_operator(self, conn: Connection, scope: Scope, period: Period) -> Result:
        target = json_text(self._database.dialect, cases.c.doc, "referral", "target_operator")
        query = (
            select(target, func.count())
            .select_from(with_case(case_events))
            .where(
                *self._scoped(scope),
                case_events.c.to_status == CaseStatus.REFERRED.value,
                case_events.c.at >= period.lower,
                case_events.c.at < period.upper,
            )
            .group_by(target)
        )
        found: Result = self._counted(conn, query)
        labels = {p.key: self._operator_label(p.key) for p in found[1]}
        points = [msgspec.structs.replace(p, label=labels[p.key]) for p in found[1]]
        return None, points, found[2]

    def _projects_by_objective(self, conn: Connection, scope: Scope, period: Period) -> Result:
        objective = json_text(
            self._database.dialect, cases.c.doc, "steps", LEVEL_TWO_PROJECT, "data", "objective"
        )
        query = (
            select(objective, func.count())
            .where(*self._entered(scope, period), cases.c.level == 2, objective.is_not(None))
            .group_by(objective)
        )
        labels = {o.value: label for o, label in PROJECT_OBJECTIVE_LABELS.items()}
        return self._counted(conn, query, labels)

    def _funding_by_funder(self, conn: Connection, scope: Scope, period: Period) -> Result:
        """Sum of the plan lines not refused, by funder, in euros (amounts are in cents)."""
        postgres = self._database.dialect == "postgresql"
        if postgres:
            plan = func.jsonb_extract_path(cast(cases.c.doc, JSONB), "funding_plan", "lines")
            line = func.jsonb_array_elements(plan).table_valued("value").alias("line")
        else:
            line = func.json_each(cases.c.doc, "$.funding_plan.lines").table_valued("value")
            line = line.alias("line")

        def field(name: str) -> ColumnElement[Any]:
            if postgres:
                return func.jsonb_extract_path_text(line.c.value, literal(name))
            return func.json_extract(line.c.value, f"$.{name}")

        funder, label = field("funder"), field("label")
        status = func.coalesce(field("status"), "requested")
        rows = conn.execute(
            select(funder, func.max(label), func.sum(cast(field("amount"), BigInteger)))
            .select_from(cases.join(line, true()))
            .where(*self._entered(scope, period), cases.c.level == 2, status != "refused")
            .group_by(funder)
        ).all()
        points = _ranked(
            [
                SeriesPoint(key=str(key), label=str(name or key), value=int(cents or 0) / 100)
                for key, name, cents in rows
            ]
        )
        return sum(p.value or 0 for p in points), points, len(points)

    def _answers(self, scope: Scope, period: Period, kind: SurveyKind) -> list[Any]:
        return [
            survey_answers.c.kind == kind.value,
            survey_answers.c.answered_at >= period.lower,
            survey_answers.c.answered_at < period.upper,
            *self._scoped(scope),
        ]

    def _satisfaction_mean(self, conn: Connection, scope: Scope, period: Period) -> Result:
        mean, count = conn.execute(
            select(func.avg(survey_answers.c.satisfaction), func.count())
            .select_from(with_case(survey_answers))
            .where(*self._answers(scope, period, SurveyKind.SATISFACTION))
        ).one()
        return (round(float(mean), 2) if mean is not None else None), [], int(count)

    def _satisfied_share(self, conn: Connection, scope: Scope, period: Period) -> Result:
        satisfied, count = conn.execute(
            select(
                func.coalesce(func.sum(case((survey_answers.c.satisfaction >= 4, 1), else_=0)), 0),
                func.count(),
            )
            .select_from(with_case(survey_answers))
            .where(*self._answers(scope, period, SurveyKind.SATISFACTION))
        ).one()
        return _share(int(satisfied), int(count)), [], int(count)

    def _response_rate(
        self, conn: Connection, scope: Scope, period: Period, kind: SurveyKind
    ) -> Result:
        sent, answered = conn.execute(
            select(
                func.count(),
                func.coalesce(
                    func.sum(case((survey_invitations.c.answered_at.is_not(None), 1), else_=0)), 0
                ),
            )
            .select_from(with_case(survey_invitations))
            .where(
                *self._scoped(scope),
                survey_invitations.c.kind == kind.value,
                survey_invitations.c.sent_at >= period.lower,
                survey_invitations.c.sent_at < period.upper,
            )
        ).one()
        return _share(int(answered), int(sent)), [], int(sent)

    def _survey_response_rate(self, conn: Connection, scope: Scope, period: Period) -> Result:
        return self._response_rate(conn, scope, period, SurveyKind.SATISFACTION)

    def _follow_up_response_rate(self, conn: Connection, scope: Scope, period: Period) -> Result:
        return self._response_rate(conn, scope, period, SurveyKind.FOLLOW_UP)

    def _follow_up_results(self, conn: Connection, scope: Scope, period: Period) -> Result:
        query = (
            select(survey_answers.c.situation, func.count())
            .select_from(with_case(survey_answers))
            .where(*self._answers(scope, period, SurveyKind.FOLLOW_UP))
            .group_by(survey_answers.c.situation)
        )
        labels = {s.value: label for s, label in FOLLOW_UP_LABELS.items()}
        result = self._counted(conn, query, labels)
        order = [s.value for s in FollowUpSituation]
        points = sorted(result[1], key=lambda p: order.index(p.key) if p.key in order else 99)
        return None, points, result[2]

    def _operator_label(self, operator: str) -> str:
        if not operator:
            return UNKNOWN
        return self._hooks.operator_label(operator, date_in_france(self._clock()))


Result = tuple[float | None, list[SeriesPoint], int]


def _ranked(points: list[SeriesPoint]) -> list[SeriesPoint]:
    """Largest first, then by label: the order of every bar chart."""
    return sorted(points, key=lambda p: (-(p.value or 0), p.label))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


_MEASURES: dict[Measure, Any] = {
    Measure.ENTRIES_BY_MONTH: IndicatorService._entries_by_month,
    Measure.ENTRIES_BY_LEVEL: IndicatorService._entries_by_level,
    Measure.ENTRIES_BY_CHANNEL: IndicatorService._entries_by_channel,
    Measure.ENTRIES_BY_AGENCY: IndicatorService._entries_by_agency,
    Measure.ENTRIES_BY_COUNSELLOR: IndicatorService._entries_by_counsellor,
    Measure.LEVEL_TWO_SHARE: IndicatorService._level_two_share,
    Measure.DAYS_TO_LEVEL_TWO: IndicatorService._days_to_level_two,
    Measure.LEVEL_TWO_DAYS: IndicatorService._level_two_days,
    Measure.REFERRALS_BY_OPERATOR: IndicatorService._referrals_by_operator,
    Measure.PROJECTS_BY_OBJECTIVE: IndicatorService._projects_by_objective,
    Measure.FUNDING_BY_FUNDER: IndicatorService._funding_by_funder,
    Measure.SATISFACTION_MEAN: IndicatorService._satisfaction_mean,
    Measure.SATISFIED_SHARE: IndicatorService._satisfied_share,
    Measure.SURVEY_RESPONSE_RATE: IndicatorService._survey_response_rate,
    Measure.FOLLOW_UP_RESULTS: IndicatorService._follow_up_results,
    Measure.FOLLOW_UP_RESPONSE_RATE: IndicatorService._follow_up_response_rate,
}
