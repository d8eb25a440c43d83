"""Health data (GDPR art. 9, SEC-03): which roles see it, and answers without it.

The person's disability status (``situation.disability_recognition``) and the answers an
operator marks as health data (``msgspec.Meta(extra={"sensitive": True})`` on a field of an
intake or step input) are for the operator's counsellors only, like the sessions'
confidential notes. `CaseService.view_case` applies these rules to the case it loaded, so the
API and the pages get the same, already filtered, view; the web layer's output Structs have no
key for the disability status of other roles. An answer whose form cannot be found is left
out entirely (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

import msgspec
from msgspec import inspect as mi

from cep_core.domain.context import Role
from cep_core.domain.forms import StepDefinition
from cep_core.domain.steps import StepState

SENSITIVE: Final = "sensitive"


def sees_health_data(role: Role) -> bool:
    """Disability status and health answers: the operator's counsellors only."""
    return role is Role.COUNSELLOR


class _Shape(msgspec.Struct, frozen=True):
    """Which keys of an answers object are health data, and the shape of nested objects."""

    sensitive: frozenset[str]
    nested: tuple[tuple[str, _Shape], ...]


@lru_cache(maxsize=512)
def _shape(struct: type[msgspec.Struct]) -> _Shape:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    sensitive: set[str] = set()
    nested: list[tuple[str, _Shape]] = []
    for field in info.fields:
        marked, inner = _walk(field.type)
        if marked:
            sensitive.add(field.encode_name)
        elif inner is not None:
            nested.append((field.encode_name, _shape(inner)))
    return _Shape(frozenset(sensitive), tuple(nested))


def _walk(info: Any) -> tuple[bool, type[msgspec.Struct] | None]:
    """Whether a field is marked sensitive, and the Struct it holds (alone or in a list)."""
    marked = False
    collections = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)
    while True:
        if isinstance(info, mi.Metadata):
            marked = marked or bool((info.extra or {}).get(SENSITIVE))
            info = info.type
        elif isinstance(info, mi.UnionType):
            others = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(others) != 1:
                return marked, None
            info = others[0]
        elif isinstance(info, collections):
            info = info.item_type
        elif isinstance(info, mi.StructType):
            return marked, info.cls
        else:
            return marked, None


def sensitive_fields(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The top-level keys of `struct`'s answers that are health data."""
    return _shape(struct).sensitive


def redact_answers(answers: Mapping[str, Any], struct: type[msgspec.Struct]) -> dict[str, Any]:
    """`answers` without the health data `struct` marks, at every depth."""
    return _redacted(answers, _shape(struct))


def _redacted(answers: Mapping[str, Any], shape: _Shape) -> dict[str, Any]:
    nested = dict(shape.nested)
    kept: dict[str, Any] = {}
    for key, value in answers.items():
        if key in shape.sensitive:
            continue
        inner = nested.get(key)
        if inner is not None and isinstance(value, Mapping):
            value = _redacted(value, inner)
        elif inner is not None and isinstance(value, list):
            value = [_redacted(v, inner) if isinstance(v, Mapping) else v for v in value]
        kept[key] = value
    return kept


def redact_steps(
    states: Sequence[StepState], definitions: Sequence[StepDefinition]
) -> tuple[StepState, ...]:
    """The steps' answers without health data (a step without definition loses them all)."""
    inputs = {step.id: step.input for step in definitions}
    redacted = []
    for state in states:
        struct = inputs.get(state.id)
        if state.data is None:
            redacted.append(state)
            continue
        data = None if struct is None else redact_answers(state.data, struct)
        redacted.append(msgspec.structs.replace(state, data=data))
    return tuple(redacted)


def restricted_steps(
    states: Sequence[StepState], definitions: Sequence[StepDefinition], *, role: Role
) -> tuple[StepState, ...]:
    """`states` (of the flow `definitions`) as `role` may see them."""
    if sees_health_data(role):
        return tuple(states)
    return redact_steps(states, definitions)
