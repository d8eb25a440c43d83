"""Optimistic concurrency over HTTP (REL-11): ``ETag`` out, ``If-Match`` in.

A case's entity tag is STRONG and names the case and its version: ``"<case id>-<version>"``
(e.g. ``"01953f0c9a7e7c41b2d5e3f4a6b7c8d9-7"``). Every representation of a case carries it
in ``ETag``, and every write on a case must send it back in ``If-Match``:

- no ``If-Match``, or ``If-Match: *`` (which matches any version, so protects nothing): 428;
- a tag naming another version, another case, or a weak tag (``W/"..."``, which ``If-Match``
  never matches: RFC 9110 §13.1.1): 412, with the case's current ``ETag`` so the client can
  reload, compare and retry;
- the write itself is ``UPDATE ... WHERE version = ?``: a write that races between the check
  and the update still ends in 412, never in a silent overwrite.

Tags are checked against a case the caller's operator owns only: another operator's case is
404 whatever the tag (its existence is not revealed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from litestar.exceptions import HTTPException

from cep_core.domain.issues import InvalidInput, Issue

HTTP_428_PRECONDITION_REQUIRED: Final = 428
# No case has this version (versions start at 1): "match nothing", so the service answers
# 404 for a case the caller cannot see and 412 for one it can.
NO_VERSION: Final = 0
MAX_TAGS: Final = 16

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
_CASE_TAG = re.compile(r"^(?P<case_id>[!#-~]+)-(?P<version>[1-9][0-9]{0,17})$")


class PreconditionRequired(HTTPException):
    """A write without ``If-Match`` (RFC 6585 §3)."""

    status_code = HTTP_428_PRECONDITION_REQUIRED


def entity_tag(case_id: str, version: int) -> str:
    """The strong ``ETag`` of `case_id` at `version`, quotes included."""
    return f'"{case_id}-{version}"'


def candidate_versions(if_match: str | None, case_id: str) -> tuple[int, ...]:
    """The versions of `case_id` that an ``If-Match`` value names (strong tags only).

    Raises `PreconditionRequired` when there is no usable tag to check, `InvalidInput` (400,
    path ``If-Match``) when the value is not a list of entity tags.
    """
    value = (if_match or "").strip()
    if not value:
        raise PreconditionRequired(
            "Modification refusée : envoyez l'en-tête « If-Match » avec l'ETag du dossier, "
            "obtenu en le lisant (GET). Il garantit que vous modifiez la version que vous "
            "avez sous les yeux."
        )
    if value == "*":
        raise PreconditionRequired(
            "« If-Match: * » ne protège pas contre l'écrasement d'une modification faite "
            "entre-temps : envoyez l'ETag du dossier, obtenu en le lisant (GET)."
        )
    versions: list[int] = []
    position, count = 0, 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None or match.end() == position or count >= MAX_TAGS:
            raise InvalidInput(
                [
                    Issue(
                        path="If-Match",
                        code="invalid_header",
                        message="L'en-tête « If-Match » doit contenir l'ETag du dossier, tel "
                        'que renvoyé par le serveur (exemple : "<identifiant>-3").',
                    )
                ]
            )
        position, count = match.end(), count + 1
        weak, opaque = match.group(1), match.group(2)
        named = _CASE_TAG.match(opaque)
        if weak is None and named is not None and named["case_id"] == case_id:
            versions.append(int(named["version"]))
    return tuple(dict.fromkeys(versions))


def expected_version(if_match: str | None, case_id: str, current: Callable[[], int]) -> int:
    """The version a write on `case_id` must find, from its ``If-Match`` value.

    One named version is the usual case. Several (a list of tags) need the current version,
    read with `current`: the write goes ahead if it is among them. None: `NO_VERSION`.
    """
    versions = candidate_versions(if_match, case_id)
    if len(versions) == 1:
        return versions[0]
    if not versions:
        return NO_VERSION
    now = current()
    return now if now in versions else NO_VERSION
