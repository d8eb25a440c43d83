"""Form input for people: every problem at once, each in plain French, addressed by field.

`cep_core.services.cases.decode_input` already checks each field on its own (msgspec stops at
the first error); its messages are exact but technical ("Format invalide : la valeur doit
correspondre au motif ..."). A public form says instead what to type, so callers pass one
plain message per field path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from cep_core.domain.issues import Issue
from cep_core.services.cases import decode_input

S = TypeVar("S", bound=msgspec.Struct)
_ITEM = re.compile(r"\[\d+\].*$")


def decode_form(
    model: type[S],
    data: Any,
    messages: Mapping[str, str],
    rules: Callable[[S], list[Issue]] | None = None,
) -> tuple[S | None, list[Issue]]:
    """`data` decoded into `model`, or None and every issue, worded by `messages` (by path).

    `rules` (the model's rules across fields) run on the decoded value; when some fields do
    not decode, they run on the others (the faulty optional fields left out), so a form says
    at once that a date is wrong AND that a place is missing. An unknown field keeps its own
    message (it is a client's mistake, not a person's).
    """
    found, decoding = decode_input(model, data)
    issues = [_worded(issue, messages) for issue in decoding]
    if rules is not None:
        if found is not None:
            issues = rules(found)
        elif isinstance(data, Mapping):
            faulty = {issue.path.split(".")[0].split("[")[0] for issue in decoding}
            rest = {key: value for key, value in data.items() if key not in faulty}
            partial, _ = decode_input(model, rest)
            if partial is not None:
                issues += [issue for issue in rules(partial) if issue.path not in faulty]
    return (found if not issues else None), issues


def _worded(issue: Issue, messages: Mapping[str, str]) -> Issue:
    """A list item's problem is its list's (``preferred_days[0]`` -> ``preferred_days``):
    a form shows the error next to the group of choices."""
    path = _ITEM.sub("", issue.path)
    if issue.code == "unknown_field" or path not in messages:
        return issue
    return msgspec.structs.replace(issue, path=path, message=messages[path])


def trimmed(data: Mapping[str, Any]) -> dict[str, Any]:
    """Texts without their surrounding spaces; a blank text is no answer (left out)."""
    found: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        found[key] = value
    return found


def prefixed(issue: Issue, prefix: str) -> Issue:
    """`issue` moved under `prefix` (``birth_date`` -> ``situation.birth_date``)."""
    path = f"{prefix}.{issue.path}" if issue.path else prefix
    return msgspec.structs.replace(issue, path=path)
