"""The case (dossier): a person's CEP with one operator, and its journal.

The full state machine and its transition rules arrive with the case lifecycle; what is here
is the vocabulary storage and hooks already share.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from cep_core.domain.situation import Situation


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


class Case(msgspec.Struct, frozen=True, kw_only=True):
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
