"""Fixed-window rate limits kept in the database, so every app instance counts together (SEC-15).

An in-memory counter per process would let an attacker multiply the limit by the number of
instances; one upsert per hit is cheap next to a sign-in's password hash.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import msgspec
from sqlalchemy import Connection, delete

from cep_core.clock import Clock, system_clock
from cep_core.storage.database import Database
from cep_core.storage.tables import rate_limits

# Counters older than this are deleted when a new window opens.
KEEP_SECONDS = 24 * 3600


class RateDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a hit is allowed, and what ``RateLimit-*`` headers should say."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        values = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.reset_after)
        return values


class RateLimiter:
    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self.database = database
        self.clock = clock
        # Hits counted in this process and not yet added to the shared counter (see `hit_batched`).
        self._pending: dict[tuple[str, int], int] = {}
        self._known: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window: int) -> RateDecision:
        """Count one hit on `key` in the current `window` (seconds) and decide."""
        now = self.clock().timestamp()
        start = int(now // window) * window
        with self.database.write() as conn:
            hits = _increment(conn, key[:200], start)
            if hits == 1:
                conn.execute(
                    delete(rate_limits).where(rate_limits.c.window_start < start - KEEP_SECONDS)
                )
        reset_after = max(1, math.ceil(start + window - now))
        return RateDecision(
            allowed=hits <= limit,
            limit=limit,
            remaining=max(0, limit - hits),
            reset_after=reset_after,
        )

    def hit_batched(self, key: str, *, limit: int, window: int, batch: int = 10) -> RateDecision:
        """Like `hit`, writing to the shared counter once every `batch` hits of this process.

        For high-volume limits (the API's 600 requests a minute) where a durable write per
        request would cost more than the request itself: each instance may overshoot by at
        most `batch` - 1 hits before the shared counter knows, which is documented slack.
        """
        now = self.clock().timestamp()
        start = int(now // window) * window
        slot = (key[:200], start)
        with self._lock:
            for old in [s for s in self._pending if s[1] < start]:
                del self._pending[old]
                self._known.pop(old, None)
            pending = self._pending.get(slot, 0) + 1
            self._pending[slot] = pending
            flush = pending >= batch or self._known.get(slot, 0) + pending > limit - batch
            if flush:
                del self._pending[slot]
        if flush:
            with self.database.write() as conn:
                hits = _increment(conn, slot[0], start, pending)
            with self._lock:
                self._known[slot] = hits
        else:
            with self._lock:
                hits = self._known.get(slot, 0) + self._pending.get(slot, 0)
        return RateDecision(
            allowed=hits <= limit,
            limit=limit,
            remaining=max(0, limit - hits),
            reset_after=max(1, math.ceil(start + window - now)),
        )


def _increment(conn: Connection, key: str, start: int, amount: int = 1) -> int:
    insert: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(rate_limits)
        .values(key=key, window_start=start, hits=amount)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key, rate_limits.c.window_start],
            set_={"hits": rate_limits.c.hits + amount},
        )
        .returning(rate_limits.c.hits)
    )
    return int(conn.execute(statement).scalar_one())
