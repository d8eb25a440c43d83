"""Typed, bounded form definitions for intake and session steps.

Plugins describe what they collect; the core renders, validates bounds and stores. Every field
has a maximum size so no plugin can open an unbounded input.
"""

from __future__ import annotations

import enum

import msgspec

from cep_core.domain.case import Level


class FormChannel(enum.StrEnum):
    """Who fills the form in."""

    COUNSELLOR = "counsellor"
    PUBLIC = "public"
    API = "api"


class SessionChannel(enum.StrEnum):
    """How a session is delivered (face-to-face by default, remote under the same rules)."""

    IN_PERSON = "presentiel"
    PHONE = "telephone"
    VIDEO = "visio"


class FieldKind(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    MONEY = "money"  # integer cents


class Choice(msgspec.Struct, frozen=True):
    value: str
    label: str


class FieldDefinition(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    label: str
    kind: FieldKind
    required: bool = False
    help: str | None = None
    max_length: int = 200
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[Choice, ...] = ()
    sensitive: bool = False  # health data (GDPR art. 9): shown only to roles that need it


class IntakeForm(msgspec.Struct, frozen=True, kw_only=True):
    operator: str
    title: str
    fields: tuple[FieldDefinition, ...]


class StepDefinition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    level: Level
    title: str
    fields: tuple[FieldDefinition, ...]
    order: int = 0
    required: bool = True
