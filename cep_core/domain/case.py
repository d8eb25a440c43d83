"""The case (dossier): a person's CEP with one operator, and its journal.

A case is ONE document: its status and level, the intake answers, the record of each step,
the sessions, and how it ended (closure or referral). Storage keeps it as msgspec JSON plus a
few indexed columns; every field added after the first release has a default, so documents
written by older versions still decode. The transition rules live in `lifecycle`, the
legal steps in `steps`.

Confidential notes: a session's ``notes`` are for the operator's counsellors only. Whatever
leaves the counsellor's own screen (another role, a synthesis, an export) goes through
`Case.without_confidential_notes` unless someone explicitly chose otherwise.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

import msgspec

from cep_core.domain.context import Role
from cep_core.domain.issues import Issue
from cep_core.domain.situation import Situation, Status


class Level(enum.IntEnum):
    ONE = 1  # accueil individualisé
    TWO = 2  # accompagnement personnalisé


class CaseStatus(enum.StrEnum):
    OPENED = "opened"
    LEVEL_ONE = "level_1"
    LEVEL_TWO = "level_2"
    PAUSED = "paused"
    CLOSED = "closed"
    REFERRED = "referred"


class Beneficiary(msgspec.Struct, frozen=True, kw_only=True):
    """The person, as known to one operator (files are never shared across operators)."""

    id: str
    operator: str
    first_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    last_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    created_at: datetime


class CloseReason(enum.StrEnum):
    """Why a case was closed; only ``completed`` requires the level's steps to be done."""

    COMPLETED = "completed"
    ABANDONED = "abandoned"
    UNREACHABLE = "unreachable"
    MOVED_AWAY = "moved_away"
    OTHER = "other"


CLOSE_REASON_LABELS: dict[CloseReason, str] = {
    CloseReason.COMPLETED: "Accompagnement mené à son terme",
    CloseReason.ABANDONED: "Abandon de la personne",
    CloseReason.UNREACHABLE: "Personne injoignable",
    CloseReason.MOVED_AWAY: "Déménagement",
    CloseReason.OTHER: "Autre motif",
}


class ReferralReason(enum.StrEnum):
    """Why a case was referred to another operator (recorded in the level-1 record)."""

    BETTER_SUITED = "better_suited"
    SITUATION_CHANGED = "situation_changed"
    PERSON_REQUEST = "person_request"
    MOVED_AWAY = "moved_away"
    OTHER = "other"


REFERRAL_REASON_LABELS: dict[ReferralReason, str] = {
    ReferralReason.BETTER_SUITED: "Opérateur plus adapté à la situation de la personne",
    ReferralReason.SITUATION_CHANGED: "Changement de situation de la personne",
    ReferralReason.PERSON_REQUEST: "Choix de la personne",
    ReferralReason.MOVED_AWAY: "Déménagement",
    ReferralReason.OTHER: "Autre motif",
}

# Bounds shared by the stored records and the inputs that fill them.
NOTE_MAX_LENGTH = 1000
SESSION_NOTES_MAX_LENGTH = 10_000
SESSION_MAX_MINUTES = 480

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=NOTE_MAX_LENGTH)]


class IntakeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The operator's intake answers, checked against its form for that channel.

    ``answers`` are the plain JSON values of the form's input Struct (``to_builtins``), so any
    reader (orientation, funding, synthesis) can decode them again with the same Struct.
    """

    channel: _forms.FormChannel
    answers: dict[str, Any]
    submitted_at: datetime
    submitted_by: str | None = None


class StepRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What was saved for one step: the answers and whether the step is completed.

    A draft keeps the answers exactly as typed, even when they are not valid yet (bounded in
    size): a draft is never lost. A completed step holds answers that passed every check,
    normalised through the step's input Struct.
    """

    data: dict[str, Any]
    completed: bool = False
    updated_at: datetime
    updated_by: str | None = None
    completed_at: datetime | None = None


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One session (entretien). Remote delivery carries the same requirements as face to face.

    ``notes`` are the counsellor's confidential notes: see `Case.without_confidential_notes`.
    """

    id: str
    start: datetime
    channel: _forms.SessionChannel
    duration_minutes: int
    counsellor_id: str
    outside_working_time: bool | None = None
    notes: str | None = None
    level: Level | None = None
    recorded_at: datetime
    recorded_by: str | None = None


# People whose sessions may fall in their working time: saying whether they did is required.
SALARIED_STATUSES = frozenset({Status.EMPLOYEE, Status.APPRENTICE, Status.PUBLIC_AGENT})


def session_problems(situation: Situation, outside_working_time: bool | None) -> list[Issue]:
    """For an employee the CEP happens outside working time unless an agreement says
    otherwise, so each session says which it was."""
    if outside_working_time is None and situation.status in SALARIED_STATUSES:
        return [
            Issue(
                path="outside_working_time",
                code="missing_field",
                message=(
                    "Indiquez si l'entretien a eu lieu en dehors du temps de travail : pour un "
                    "salarié, le CEP se déroule hors temps de travail, sauf accord de branche "
                    "ou d'entreprise."
                ),
            )
        ]
    return []


class Closure(msgspec.Struct, frozen=True, kw_only=True):
    reason: CloseReason
    note: str | None = None
    at: datetime
    by: str | None = None


class Referral(msgspec.Struct, frozen=True, kw_only=True):
    """The case was handed to another operator; the person's file is not shared with it."""

    target_operator: str
    reason: ReferralReason
    note: str | None = None
    at: datetime
    by: str | None = None


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """A person's CEP with one operator.

    ``level`` is the level the case is at (or was at, once paused or ended); ``paused_from``
    is the status a paused case resumes to. ``steps`` maps a step id to its record, for both
    levels. ``funding_plan`` is attached by the funding use case.
    """

    id: str
    operator: str
    beneficiary_id: str
    status: CaseStatus
    level: Level | None
    situation: Situation
    counsellor_id: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    intake: IntakeRecord | None = None
    steps: dict[str, StepRecord] = {}
    sessions: tuple[SessionRecord, ...] = ()
    paused_from: CaseStatus | None = None
    closure: Closure | None = None
    referral: Referral | None = None
    funding_plan: _funding.FundingPlan | None = None

    def step(self, step_id: str) -> StepRecord | None:
        return self.steps.get(step_id)

    def step_completed(self, step_id: str) -> bool:
        record = self.steps.get(step_id)
        return record is not None and record.completed

    def without_confidential_notes(self) -> Case:
        """The case as anyone but the operator's counsellors may see it (no session notes)."""
        if all(session.notes is None for session in self.sessions):
            return self
        return msgspec.structs.replace(
            self,
            sessions=tuple(msgspec.structs.replace(s, notes=None) for s in self.sessions),
        )

    def visible_to(self, role: Role) -> Case:
        """Counsellors see their notes; every other role gets the case without them."""
        return self if role is Role.COUNSELLOR else self.without_confidential_notes()


class CaseEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a case's append-only journal: what happened, never the case's content."""

    id: str
    case_id: str
    operator: str
    seq: int
    at: datetime
    kind: str
    actor: str | None = None
    from_status: CaseStatus | None = None
    to_status: CaseStatus | None = None
    reason: str | None = None


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """A requested status change, offered to plugins for veto before it happens."""

    from_status: CaseStatus
    to_status: CaseStatus
    reason: str | None = None
    target_operator: str | None = None


# -- name search -----------------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def search_key(text: str) -> str:
    """A name as search sees it: no accents, no case, words split on anything else.

    ``"Lefèvre-Gaël  Œuvray"`` -> ``"lefevre gael oeuvray"``; the same function prepares
    stored names and queries, so "Élodie", "elodie" and "ELODIE" all meet.
    """
    plain = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return _NOT_ALNUM.sub(" ", plain).strip()


def beneficiary_search_key(first_name: str, last_name: str) -> str:
    """What name search looks into: the words of both names, then each name in one piece
    (so "nguyen" finds N'Guyen and "legall" finds Le Gall)."""
    words = search_key(f"{first_name} {last_name}").split()
    whole = [search_key(name).replace(" ", "") for name in (first_name, last_name)]
    return " ".join(dict.fromkeys(word for word in [*words, *whole] if word))


# Last, because forms.py imports `Level` from this module: whichever loads first, both are
# complete before msgspec resolves the annotations above (on first decode).
from cep_core.domain import forms as _forms  # noqa: E402
from cep_core.domain import funding as _funding  # noqa: E402
