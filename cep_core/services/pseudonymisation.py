"""Pseudonymised statistical exports (SEC-20): keyed-hash identifiers and small-cell suppression.

What comes out is *pseudonymised*, not anonymous: whoever holds the key can link an export
back to the base, so exports stay personal data. The key lives apart from the exports (its
own setting or file, never written into an export), so an export alone names nobody, and
two exports made with the same key can still be joined (a path followed across months).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

# Counts below this are replaced by `SUPPRESSED`: a cell of a handful of people, crossed
# with a region, an age band or a disability status, points at someone. 11 is the threshold
# France's public health data systems apply to published counts (1 to 10 are hidden).
SMALL_CELL_THRESHOLD: Final = 11
SUPPRESSED: Final = None
PSEUDONYM_LENGTH: Final = 20  # hex digits of HMAC-SHA256: 80 bits, no collision in practice


class Pseudonymiser:
    """Replaces identifiers by a keyed hash; the same id and key always give the same pseudonym.

    ``kind`` separates namespaces (a case id and a counsellor id equal as strings still get
    different pseudonyms), so pseudonyms of one kind cannot be matched against another.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonymisation key too short (16 bytes at least)")
        self._key = key

    def pseudonym(self, kind: str, value: str) -> str:
        message = f"{kind}\x1f{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]

    def optional(self, kind: str, value: str | None) -> str | None:
        return None if value is None else self.pseudonym(kind, value)


def suppress_small_cells(
    rows: Iterable[Mapping[str, Any]],
    count_fields: Sequence[str],
    *,
    threshold: int = SMALL_CELL_THRESHOLD,
) -> list[dict[str, Any]]:
    """Copies of `rows` where each count in `count_fields` under `threshold` is suppressed.

    Zero is kept (an empty cell reveals nobody); 1 to ``threshold - 1`` become `SUPPRESSED`
    (``null`` in JSON, an empty field in CSV).
    """
    cleaned: list[dict[str, Any]] = []
    for row in rows:
        copy = dict(row)
        for field in count_fields:
            value = copy.get(field)
            if isinstance(value, int) and 0 < value < threshold:
                copy[field] = SUPPRESSED
        cleaned.append(copy)
    return cleaned
