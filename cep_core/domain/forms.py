"""Typed, bounded form definitions for intake and session steps.

A plugin describes what it collects as a msgspec Struct (``forbid_unknown_fields=True``, a
bound on every string, list and number, French labels in ``Meta(title=..., description=...)``);
the core validates, stores and renders from that one definition. `unbounded_fields` is the
check that keeps every plugin input bounded.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec
from msgspec import inspect as mi

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
    LIST = "list"  # a bounded list of sub-records


class Choice(msgspec.Struct, frozen=True):
    value: str
    label: str


class FieldDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One field as a page shows it (derived from an input Struct by `fields_of`)."""

    name: str
    label: str
    kind: FieldKind
    required: bool = False
    help: str | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[Choice, ...] = ()
    sensitive: bool = False  # health data (GDPR art. 9): shown only to roles that need it


class IntakeForm(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator collects when a case is opened, beyond identity and situation.

    ``input`` is the Struct the answers decode into; the form may differ per channel (the
    public form asks less than the counsellor's).
    """

    operator: str
    title: str
    input: type[msgspec.Struct]
    help: str = ""


class StepDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a level: what it asks (``input``), when, and whether it is required.

    Ids are dotted and namespaced (``level1.record``, ``apec.positioning``). A plugin step with
    ``replaces`` set to a core step's id takes its place; ``depends_on`` lists steps that must
    be completed first.
    """

    id: str
    level: Level
    title: str
    input: type[msgspec.Struct]
    help: str = ""
    order: int = 100
    required: bool = True
    depends_on: tuple[str, ...] = ()
    replaces: str | None = None


def unbounded_fields(struct_type: type[msgspec.Struct], prefix: str = "") -> list[str]:
    """Paths of strings, lists and integers in `struct_type` that have no upper bound.

    An empty list means the input is safe to accept from a browser or an API client; nested
    Structs (and lists of Structs) are checked too.
    """
    problems: list[str] = []
    info = mi.type_info(struct_type)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        path = f"{prefix}{field.name}"
        problems.extend(_check(field.type, path))
    return problems


def _check(info: Any, path: str) -> list[str]:
    if isinstance(info, mi.Metadata):  # Meta(title=..., extra=...) wraps the real type
        return _check(info.type, path)
    if isinstance(info, mi.UnionType):
        return [p for member in info.types for p in _check(member, path)]
    if isinstance(info, mi.StrType):
        return [] if info.max_length is not None else [path]
    if isinstance(info, mi.IntType | mi.FloatType):
        return [] if (info.le is not None or info.lt is not None) else [path]
    if isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        own = [] if info.max_length is not None else [path]
        return own + _check(info.item_type, f"{path}[]")
    if isinstance(info, mi.DictType):
        own = [] if info.max_length is not None else [path]
        return own + _check(info.key_type, f"{path}{{}}") + _check(info.value_type, f"{path}{{}}")
    if isinstance(info, mi.StructType):
        return unbounded_fields(info.cls, prefix=f"{path}.")
    if isinstance(info, mi.AnyType):
        return [path]
    return []
