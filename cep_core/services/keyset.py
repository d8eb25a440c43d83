"""Keyset pagination cursors: where a page of a list ended, opaque to callers.

A cursor is the sort key of the last row, ``(timestamp, id)``, as base64url JSON. Lists
filter by operator on every page, so a cursor built from another operator's rows reaches
nothing of theirs; a malformed cursor is a French `InvalidInput` on the ``cursor`` field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from cep_core.domain.issues import InvalidInput, Issue

MAX_CURSOR_LENGTH = 200
_decoder = msgspec.json.Decoder(tuple[datetime, str])


def encode_keyset(at: datetime, row_id: str) -> str:
    raw = msgspec.json.encode((at, row_id))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_keyset(cursor: str, valid_id: Callable[[str], bool]) -> tuple[datetime, str]:
    """The ``(timestamp in UTC, id)`` a cursor stands for, or `InvalidInput`."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("cursor too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = _decoder.decode(raw)
        if at.tzinfo is None or not valid_id(row_id):
            raise ValueError("bad cursor content")
    except (ValueError, binascii.Error, msgspec.DecodeError) as exc:
        raise InvalidInput(
            [
                Issue(
                    path="cursor",
                    code="invalid_cursor",
                    message="Le curseur de pagination est invalide : reprenez depuis la "
                    "première page.",
                )
            ]
        ) from exc
    return at.astimezone(UTC), row_id


def check_page_size(limit: int, maximum: int) -> None:
    """Refuse a page size outside 1..`maximum` (a bool is not a size) on the ``limit`` field."""
    if isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise InvalidInput(
            [
                Issue(
                    path="limit",
                    code="out_of_range",
                    message=f"La taille de page doit être comprise entre 1 et {maximum}.",
                )
            ]
        )
