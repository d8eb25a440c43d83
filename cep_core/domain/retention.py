"""Retention rules: how long a person's file is kept, and what is left of it afterwards.

A case is kept as it is until its deadline — the retention period after the *last contact* —
then anonymised, not deleted: the row keeps the operator, status, level, counsellor, dates and
the structured facts the indicators need (age at the reference date, status flags, region,
objective, channels, information given, funding by funder), while identity, contact details,
notes, free text and PDFs go. The period is an operator setting, bounded, defaulting to the
dated value in force (`DEFAULT_RETENTION_MONTHS`). Nothing here reads a clock or a database.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from cep_core.domain.case import Beneficiary, Case, StepRecord
from cep_core.domain.parameters import DatedValue, Parameter
from cep_core.domain.requests import (
    RETENTION_MAX_MONTHS,
    RETENTION_MIN_MONTHS,
    AppointmentRequest,
    ContactDetails,
    Identity,
)
from cep_core.domain.rules.calendar import add_months as calendar_add_months
from cep_core.domain.situation import Situation, age_on

# The CNIL's reference framework for employment-support files ("référentiel relatif aux
# traitements de données personnelles mis en œuvre dans le cadre de l'accompagnement
# social et professionnel") keeps active files 2 years after the last contact.
DEFAULT_RETENTION_MONTHS = Parameter(
    name="gdpr.retention_months",
    description="Durée de conservation d'un dossier après le dernier contact, en mois",
    unit="mois",
    values=(
        DatedValue(
            valid_from=date(2014, 3, 5),
            value=24,
            source="CNIL, référentiel accompagnement social et professionnel : 2 ans après "
            "le dernier contact",
        ),
    ),
)

# Sent e-mails keep their envelope (kind, dates; the body is already emptied) this long.
SENT_MAIL_RETENTION = timedelta(days=90)

ANONYMOUS_FIRST_NAME = "Personne"
ANONYMOUS_LAST_NAME = "anonymisée"

# Step answers kept after anonymisation: enumerated, non-identifying facts the indicators use.
# Everything else in a step (free text, names of providers, dates, amounts) goes.
STATISTICAL_STEP_FIELDS: Mapping[str, tuple[str, ...]] = {
    "level1.record": ("information_given", "continues"),
    "level2.project": ("objective",),
}
# In the action plan, only each service's kind is kept (how many trainings, VAE, ...).
ACTION_PLAN_STEP = "level2.action_plan"

_TOKEN = re.compile(r"^[a-z0-9_]{1,40}$")


def default_retention_months(on: date) -> int:
    return int(DEFAULT_RETENTION_MONTHS.at(on))


class RetentionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """One operator's policy: months after the last contact before anonymisation."""

    months: int

    @classmethod
    def default(cls, on: date) -> RetentionPolicy:
        return cls(months=int(DEFAULT_RETENTION_MONTHS.at(on)))

    @classmethod
    def of(cls, months: int | None, on: date) -> RetentionPolicy:
        """The operator's setting, or the default in force on `on`."""
        if months is None:
            return cls.default(on)
        return cls(months=min(max(months, RETENTION_MIN_MONTHS), RETENTION_MAX_MONTHS))


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months (31 January + 1 month = 28/29 February), time of
    day and zone kept: the calendar rule of `cep_core.domain.rules.calendar`, on a datetime."""
    day = calendar_add_months(moment.date(), months)
    return moment.replace(year=day.year, month=day.month, day=day.day)


def last_contact(case: Case, event_times: Iterable[datetime] = ()) -> datetime:
    """The latest of the case's update, sessions (held or recorded), journal lines and end.

    Any of them shows the person and the operator were still in touch, so the retention
    period runs from the latest one.
    """
    moments = [case.created_at, case.updated_at, *event_times]
    for session in case.sessions:
        moments.extend((session.start, session.recorded_at))
    if case.closure is not None:
        moments.append(case.closure.at)
    if case.referral is not None:
        moments.append(case.referral.at)
    return max(moments)


def retention_deadline(last: datetime, policy: RetentionPolicy) -> datetime:
    """The moment after which the case must be anonymised."""
    return add_months(last, policy.months)


def is_due(last: datetime, policy: RetentionPolicy, now: datetime) -> bool:
    return now >= retention_deadline(last, policy)


def coarse_birth_date(situation: Situation) -> date:
    """A birth date that gives the same age on the reference date and reveals nothing else:
    the reference day, that many years earlier (age bands stay right)."""
    age = age_on(situation.birth_date, situation.as_of)
    year = situation.as_of.year - age
    day = min(situation.as_of.day, calendar.monthrange(year, situation.as_of.month)[1])
    return date(year, situation.as_of.month, day)


def anonymised_situation(situation: Situation) -> Situation:
    return msgspec.structs.replace(situation, birth_date=coarse_birth_date(situation))


def _tokens(value: Any) -> Any:
    """Only enumerated values (lower-case codes), booleans and lists of them survive."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if _TOKEN.match(value) else None
    if isinstance(value, list | tuple):
        kept = [_tokens(item) for item in value]
        return [item for item in kept if item is not None]
    return None


def anonymised_steps(steps: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, StepRecord] = {}
    for step_id, record in steps.items():
        data: dict[str, Any] = {}
        for name in STATISTICAL_STEP_FIELDS.get(step_id, ()):
            kept = _tokens(record.data.get(name))
            if kept is not None:
                data[name] = kept
        if step_id == ACTION_PLAN_STEP:
            services = record.data.get("services")
            if isinstance(services, list):
                data["services"] = [
                    {"kind": s["kind"]}
                    for s in services
                    if isinstance(s, dict) and _tokens(s.get("kind")) is not None
                ]
        result[step_id] = msgspec.structs.replace(record, data=data)
    return result


def anonymised_case(case: Case) -> Case:
    """The case as statistics may keep it once its retention period is over."""
    from cep_core.domain.funding import FundingPlan

    sessions = tuple(msgspec.structs.replace(s, notes=None) for s in case.sessions)
    intake = None if case.intake is None else msgspec.structs.replace(case.intake, answers={})
    closure = None if case.closure is None else msgspec.structs.replace(case.closure, note=None)
    referral = None if case.referral is None else msgspec.structs.replace(case.referral, note=None)
    plan: FundingPlan | None = case.funding_plan
    if plan is not None:
        project = (
            None
            if plan.project is None
            else msgspec.structs.replace(
                plan.project,
                title="",
                start_date=None,
                end_date=None,
                certification_code=None,
            )
        )
        plan = msgspec.structs.replace(
            plan,
            lines=tuple(
                msgspec.structs.replace(line, request_deadline=None) for line in plan.lines
            ),
            project=project,
            situation=None,
            ptp=None,
            verdicts=(),
            warnings=(),
            options=(),
        )
    return msgspec.structs.replace(
        case,
        situation=anonymised_situation(case.situation),
        intake=intake,
        steps=anonymised_steps(case.steps),
        sessions=sessions,
        closure=closure,
        referral=referral,
        funding_plan=plan,
    )


def anonymised_beneficiary(person: Beneficiary) -> Beneficiary:
    """The person's row, kept because cases point to it, with nothing left that names them."""
    return msgspec.structs.replace(
        person,
        first_name=ANONYMOUS_FIRST_NAME,
        last_name=ANONYMOUS_LAST_NAME,
        email=None,
        phone=None,
    )


def anonymised_request(request: AppointmentRequest) -> AppointmentRequest:
    """An appointment request with its identity, contact, message and free text gone."""
    appointment = (
        None
        if request.appointment is None
        else msgspec.structs.replace(request.appointment, location=None, counsellor_name=None)
    )
    return msgspec.structs.replace(
        request,
        identity=Identity(first_name=ANONYMOUS_FIRST_NAME, last_name=ANONYMOUS_LAST_NAME),
        contact=ContactDetails(email=""),
        message=None,
        situation=anonymised_situation(request.situation),
        decline_text=None,
        appointment=appointment,
    )
