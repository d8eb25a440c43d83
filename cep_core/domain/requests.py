"""Appointment requests: what a person sends from the public form, and what the operator does.

A request is addressed to ONE operator the orientation found competent; it lands in that
operator's queue (``pending``) until a counsellor accepts it (a case is opened from it) or
declines it with a reason. A counsellor may propose an appointment on a pending or accepted
request. The person is known by a short reference (``CEP-7K3M-Q9TX``) they can quote on the
phone: Crockford base32 (no I, L, O or U), so it survives being read aloud or retyped.

Operator settings (the queue's notification address, whether public requests are open, a
welcome text, the default appointment duration) live here too: they are the operator's
answers to "how do you take requests".
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import date, datetime
from typing import Annotated

import msgspec

from cep_core.domain.forms import SessionChannel
from cep_core.domain.issues import Issue
from cep_core.domain.rules.calendar import add_months
from cep_core.domain.situation import MAX_AGE, Situation, Status

# -- references ------------------------------------------------------------------------------

# Crockford's base32: digits and letters without I, L, O, U (read aloud without ambiguity).
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "CEP"
REFERENCE_GROUPS = 2
REFERENCE_GROUP_LENGTH = 4
REFERENCE_LENGTH = len(REFERENCE_PREFIX) + REFERENCE_GROUPS * (REFERENCE_GROUP_LENGTH + 1)
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_REFERENCE_CHARS = REFERENCE_GROUPS * REFERENCE_GROUP_LENGTH


def new_reference() -> str:
    """A fresh reference, ``CEP-XXXX-XXXX`` (40 random bits; storage makes it unique)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(_REFERENCE_CHARS))
    groups = [
        chars[i : i + REFERENCE_GROUP_LENGTH]
        for i in range(0, _REFERENCE_CHARS, REFERENCE_GROUP_LENGTH)
    ]
    return "-".join([REFERENCE_PREFIX, *groups])


def normalise_reference(text: str) -> str | None:
    """The reference as stored, from what a person typed or said; None when it cannot be one.

    Case, spaces and dashes do not matter, the ``CEP`` prefix may be left out, and the letters
    Crockford reads as digits are read so (O as 0, I and L as 1).
    """
    raw = re.sub(r"[\s\-.]", "", text.upper())[: REFERENCE_LENGTH + 5]
    if len(raw) == len(REFERENCE_PREFIX) + _REFERENCE_CHARS:
        raw = raw.removeprefix(REFERENCE_PREFIX)
    raw = raw.translate(_READ_AS)
    if len(raw) != _REFERENCE_CHARS or any(c not in REFERENCE_ALPHABET for c in raw):
        return None
    groups = [
        raw[i : i + REFERENCE_GROUP_LENGTH]
        for i in range(0, _REFERENCE_CHARS, REFERENCE_GROUP_LENGTH)
    ]
    return "-".join([REFERENCE_PREFIX, *groups])


# -- vocabulary ------------------------------------------------------------------------------


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


REQUEST_STATUS_LABELS: dict[RequestStatus, str] = {
    RequestStatus.PENDING: "En attente",
    RequestStatus.ACCEPTED: "Acceptée",
    RequestStatus.DECLINED: "Refusée",
}

# The channels are the sessions' own: the CEP is face to face by default, remote delivery
# carrying the same requirements (cahier des charges 2019, §3.1).
CHANNEL_LABELS: dict[SessionChannel, str] = {
    SessionChannel.IN_PERSON: "Sur place",
    SessionChannel.PHONE: "Par téléphone",
    SessionChannel.VIDEO: "En visioconférence",
}


class Weekday(enum.StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"


WEEKDAY_LABELS: dict[Weekday, str] = {
    Weekday.MONDAY: "Lundi",
    Weekday.TUESDAY: "Mardi",
    Weekday.WEDNESDAY: "Mercredi",
    Weekday.THURSDAY: "Jeudi",
    Weekday.FRIDAY: "Vendredi",
    Weekday.SATURDAY: "Samedi",
}


class HalfDay(enum.StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


HALF_DAY_LABELS: dict[HalfDay, str] = {
    HalfDay.MORNING: "Le matin",
    HalfDay.AFTERNOON: "L'après-midi",
}


class DeclineReason(enum.StrEnum):
    OTHER_OPERATOR = "other_operator"
    NOT_ELIGIBLE = "not_eligible"
    DUPLICATE = "duplicate"
    UNREACHABLE = "unreachable"
    WITHDRAWN = "withdrawn"
    OTHER = "other"


DECLINE_REASON_LABELS: dict[DeclineReason, str] = {
    DeclineReason.OTHER_OPERATOR: "Un autre opérateur est plus adapté à la situation",
    DeclineReason.NOT_ELIGIBLE: "La personne ne relève pas du conseil en évolution professionnelle",
    DeclineReason.DUPLICATE: "Demande en double",
    DeclineReason.UNREACHABLE: "Personne injoignable",
    DeclineReason.WITHDRAWN: "La personne a renoncé à sa demande",
    DeclineReason.OTHER: "Autre motif (à préciser)",
}

# The notice the person agreed to; bump it whenever its text changes, so each request says
# which wording its consent was given to.
PRIVACY_NOTICE_VERSION = "2026-12"

# -- bounds ----------------------------------------------------------------------------------

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 30
MESSAGE_MAX_LENGTH = 1000
DECLINE_TEXT_MAX_LENGTH = 500
LOCATION_MAX_LENGTH = 300
COUNSELLOR_NAME_MAX_LENGTH = 120
WELCOME_MAX_LENGTH = 500
MIN_AGE = 15
APPOINTMENT_MIN_MINUTES = 15
APPOINTMENT_MAX_MINUTES = 240
DEFAULT_APPOINTMENT_MINUTES = 60

_ONE_LINE = r"^(?=.*\S)[^\x00-\x1f\x7f]+$"
# An address both the case (``NewBeneficiary``) and the mail outbox accept: one plain
# ``local@domain`` with a dot in the domain, nothing a header could be injected with.
EMAIL_PATTERN = (
    r"^[^@\s<>(),;:\"\[\]\\]{1,64}@(?=[^@]*\.)"
    r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
)
PHONE_PATTERN = r"^\+?[0-9][0-9 .()\-]{5,29}$"

OperatorId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
PersonName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=NAME_MAX_LENGTH, pattern=_ONE_LINE)
]
Email = Annotated[str, msgspec.Meta(max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN)]
Phone = Annotated[str, msgspec.Meta(max_length=PHONE_MAX_LENGTH, pattern=PHONE_PATTERN)]
Message = Annotated[str, msgspec.Meta(max_length=MESSAGE_MAX_LENGTH)]
RegionCode = Annotated[str, msgspec.Meta(max_length=3)]
Minutes = Annotated[int, msgspec.Meta(ge=APPOINTMENT_MIN_MINUTES, le=APPOINTMENT_MAX_MINUTES)]
# Retention of a file after the last contact (see `cep_core.domain.retention`).
RETENTION_MIN_MONTHS = 6
RETENTION_MAX_MONTHS = 120
RetentionMonths = Annotated[int, msgspec.Meta(ge=RETENTION_MIN_MONTHS, le=RETENTION_MAX_MONTHS)]

CONSENT_REQUIRED = Issue(
    path="consent",
    code="consent_required",
    message="Cochez la case pour accepter le traitement de vos données : sans elles, "
    "l'opérateur ne peut pas vous recontacter.",
)

# -- what the person sends -------------------------------------------------------------------


class PublicSituation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The situation as the public form asks it: a birth date, or only an age.

    An age is enough for every orientation rule; asking no more is data minimisation. The
    reference date is always today (a person cannot pick it).
    """

    status: Status
    birth_date: date | None = None
    age: Annotated[int, msgspec.Meta(ge=MIN_AGE, le=MAX_AGE)] | None = None
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False
    region: RegionCode | None = None

    def problems(self) -> list[Issue]:
        if self.birth_date is None and self.age is None:
            return [
                Issue(
                    path="birth_date",
                    code="missing_field",
                    message="Indiquez votre date de naissance, ou à défaut votre âge.",
                )
            ]
        return []

    @property
    def age_only(self) -> bool:
        return self.birth_date is None

    def to_situation(self, today: date) -> Situation:
        """The orientation's `Situation` on `today`; an age alone gives a birth date that has
        exactly that age today (the case records it as declared, see ``age_only``)."""
        if self.birth_date is not None:
            birth_date = self.birth_date
        elif self.age is not None:
            birth_date = add_months(today, -12 * self.age)
        else:
            raise ValueError("a birth date or an age is required (see problems())")
        return Situation(
            birth_date=birth_date,
            as_of=today,
            status=self.status,
            cadre=self.cadre,
            registered_jobseeker=self.registered_jobseeker,
            disability_recognition=self.disability_recognition,
            working=self.working,
            seeking_job=self.seeking_job,
            region=self.region,
        )


class RequestSubmission(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The public « Demander un rendez-vous » form: to whom, who, how to reach them, when."""

    operator: OperatorId
    situation: PublicSituation
    first_name: PersonName
    last_name: PersonName
    email: Email
    phone: Phone | None = None
    preferred_channel: SessionChannel
    preferred_days: Annotated[tuple[Weekday, ...], msgspec.Meta(max_length=len(Weekday))] = ()
    preferred_half_days: Annotated[tuple[HalfDay, ...], msgspec.Meta(max_length=len(HalfDay))] = ()
    message: Message | None = None
    consent: bool = False

    def problems(self) -> list[Issue]:
        """Rules across fields (the bounds are the Struct's own)."""
        issues = [_prefixed(issue, "situation") for issue in self.situation.problems()]
        if not self.consent:
            issues.append(CONSENT_REQUIRED)
        return issues


# -- what is stored --------------------------------------------------------------------------


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ContactDetails(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    phone: str | None = None


class Preferences(msgspec.Struct, frozen=True, kw_only=True):
    """How and when the person would like to be met (empty lists: no preference)."""

    channel: SessionChannel
    days: tuple[Weekday, ...] = ()
    half_days: tuple[HalfDay, ...] = ()


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    """When the person agreed to the processing of their data, and to which notice."""

    given_at: datetime
    notice_version: str


class Appointment(msgspec.Struct, frozen=True, kw_only=True):
    """The appointment a counsellor proposed (the latest proposal replaces the previous)."""

    starts_at: datetime
    duration_minutes: int
    channel: SessionChannel
    location: str | None = None
    counsellor_name: str | None = None
    proposed_at: datetime
    proposed_by: str | None = None


class AppointmentRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One request in one operator's queue (see the module docstring)."""

    id: str
    reference: str
    operator: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    identity: Identity
    contact: ContactDetails
    preferences: Preferences
    message: str | None = None
    situation: Situation
    # The person gave an age, not a birth date: the situation's birth date is derived.
    age_only: bool = False
    consent: Consent
    decided_at: datetime | None = None
    decided_by: str | None = None
    decline_reason: DeclineReason | None = None
    decline_text: str | None = None
    case_id: str | None = None
    appointment: Appointment | None = None
    version: int = 1

    @property
    def pending(self) -> bool:
        return self.status is RequestStatus.PENDING

    def proposal_problems(self) -> list[Issue]:
        """Why no appointment may be proposed now (a declined request is over)."""
        if self.status is RequestStatus.DECLINED:
            return [
                Issue(
                    path="status",
                    code="request_declined",
                    message="Cette demande a été refusée : aucun rendez-vous ne peut plus être "
                    "proposé.",
                )
            ]
        return []

    def decision_problems(self) -> list[Issue]:
        """Why the request cannot be accepted or declined (it was already decided)."""
        if self.status is RequestStatus.PENDING:
            return []
        done = "acceptée" if self.status is RequestStatus.ACCEPTED else "refusée"
        return [
            Issue(
                path="status",
                code="already_decided",
                message=f"Cette demande a déjà été {done} : rechargez la page pour voir son état.",
            )
        ]


# -- what the counsellor sends ---------------------------------------------------------------


class DeclineInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why the operator declines a request: a reason from the list, and a text for « other »."""

    reason: DeclineReason
    text: Annotated[str, msgspec.Meta(max_length=DECLINE_TEXT_MAX_LENGTH)] | None = None

    def problems(self) -> list[Issue]:
        if self.reason is DeclineReason.OTHER and not (self.text or "").strip():
            return [
                Issue(
                    path="text",
                    code="missing_field",
                    message="Précisez le motif du refus.",
                )
            ]
        return []


class AppointmentInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An appointment to propose; the duration defaults to the operator's setting."""

    starts_at: Annotated[datetime, msgspec.Meta(tz=True)]
    channel: SessionChannel
    duration_minutes: Minutes | None = None
    location: (
        Annotated[str, msgspec.Meta(max_length=LOCATION_MAX_LENGTH, pattern=_ONE_LINE)] | None
    ) = None

    def problems(self, now: datetime | None = None) -> list[Issue]:
        """Its rules; without `now`, those that do not depend on the time (a form checks
        them with its other fields, the service again with the time)."""
        issues: list[Issue] = []
        if now is not None and self.starts_at <= now:
            issues.append(
                Issue(
                    path="starts_at",
                    code="in_the_past",
                    message="Le rendez-vous doit être fixé à une date et une heure à venir.",
                )
            )
        if self.channel is SessionChannel.IN_PERSON and not (self.location or "").strip():
            issues.append(
                Issue(
                    path="location",
                    code="missing_field",
                    message="Indiquez l'adresse du rendez-vous sur place.",
                )
            )
        return issues


# -- operator settings -----------------------------------------------------------------------


class OperatorSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How an operator takes public requests; `version` 0 means never saved (defaults)."""

    operator: str
    queue_email: str | None = None
    public_requests_open: bool = True
    welcome_text: str | None = None
    default_duration_minutes: int = DEFAULT_APPOINTMENT_MINUTES
    # Months a file is kept after the last contact, then anonymised (None: the kit's default,
    # `cep_core.domain.retention.DEFAULT_RETENTION_MONTHS`).
    retention_months: int | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    version: int = 0


class OperatorSettingsInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a manager edits; every field is replaced (a form sends them all)."""

    queue_email: Email | None = None
    public_requests_open: bool = True
    welcome_text: Annotated[str, msgspec.Meta(max_length=WELCOME_MAX_LENGTH)] | None = None
    default_duration_minutes: Minutes = DEFAULT_APPOINTMENT_MINUTES
    retention_months: RetentionMonths | None = None


def _prefixed(issue: Issue, prefix: str) -> Issue:
    return msgspec.structs.replace(issue, path=f"{prefix}.{issue.path}" if issue.path else prefix)
