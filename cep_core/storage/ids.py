"""Identifiers: time-ordered, UUIDv7-like, as 32 lowercase hex characters.

Time-ordered ids keep B-tree inserts at the right edge of the index (no random page splits)
and sort roughly by creation; 74 random bits make collisions a non-issue. Python 3.11 has no
``uuid.uuid7``, hence this small generator (RFC 9562 layout: 48-bit Unix milliseconds, version
7, variant 10, random bits).
"""

from __future__ import annotations

import os
import re
import time

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
_MS_MASK = (1 << 48) - 1


def new_id(unix_ms: int | None = None) -> str:
    """A new identifier; `unix_ms` (milliseconds since the epoch) is for tests only."""
    ms = (time.time_ns() // 1_000_000 if unix_ms is None else unix_ms) & _MS_MASK
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF  # 12 bits
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)  # 62 bits
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return f"{value:032x}"


def is_id(value: str) -> bool:
    """Whether `value` looks like one of our identifiers (cheap check before a query)."""
    return bool(ID_PATTERN.match(value))
