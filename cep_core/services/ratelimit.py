"""Fixed-window rate limits kept in the database, so every app instance counts together (SEC-15).

An in-memory counter per process would let an attacker multiply the limit by the number of
instances. Sign-ins (`hit`) write one upsert per attempt, cheap next to a password hash; the
API (`hit_batched`) counts in memory and adds its counts to the shared counters about once a
second, off the request.
"""

from __future__ import annotations

import math
import operator
import threading
from typing import Any

import msgspec
from sqlalchemy import Connection, delete

from cep_core.clock import Clock, system_clock
from cep_core.services.write_behind import WriteBehind
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
    def __init__(
        self, database: Database, *, clock: Clock = system_clock, max_delay: float = 1.0
    ) -> None:
        self.database = database
        self.clock = clock
        # `hit_batched`: the hits of this process not yet added to the shared counters, and
        # what the shared counters said at the last write (this process's hits included).
        self._unsent: WriteBehind[tuple[str, int], int] = WriteBehind(
            self._add_hits,
            name="rate-limits",
            merge=operator.add,
            max_delay=max_delay,
            batch_size=2000,  # clients per write: one write a second, even with many clients
        )
        self._known: dict[tuple[str, int], int] = {}
        self._window_start = 0
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window: int) -> RateDecision:
        """Count one hit on `key` in the current `window` (seconds) and decide."""
        now = self.clock().timestamp()
        start = int(now // window) * window
        with self.database.write() as conn:
            hits = _increment(conn, key[:200], start)
            if hits == 1:  # a new window opened
                _forget_before(conn, start)
        return _decision(hits, limit, start + window - now)

    def hit_batched(self, key: str, *, limit: int, window: int) -> RateDecision:
        """Like `hit`, without a write in the caller: the hit is counted here at once and
        added to the shared counter within a second, with every other waiting hit.

        For high-volume limits (the API's 600 requests a minute) where a durable write per
        request would cost more than the request itself. Each instance counts its own hits
        exactly and sees the others' with at most a second's delay: the documented slack
        across instances is what they serve in that second.
        """
        now = self.clock().timestamp()
        start = int(now // window) * window
        slot = (key[:200], start)
        self._unsent.add(slot, 1)
        with self._lock:
            if start > self._window_start:  # a new window: the counts of the old ones go
                self._window_start = start
                self._known = {s: n for s, n in self._known.items() if s[1] >= start}
            known = self._known.get(slot, 0)
        hits = known + (self._unsent.waiting(slot) or 0)
        return _decision(hits, limit, start + window - now)

    def flush(self) -> int:
        """Add the waiting hits to the shared counters now (tests, shutdown)."""
        return self._unsent.flush()

    def close(self) -> None:
        self._unsent.close()

    def _add_hits(self, hits: dict[tuple[str, int], int]) -> None:
        with self.database.write() as conn:
            totals = {slot: _increment(conn, slot[0], slot[1], n) for slot, n in hits.items()}
            if any(totals[slot] == n for slot, n in hits.items()):  # a new window opened
                _forget_before(conn, min(start for _, start in hits))
        with self._lock:
            self._known.update(totals)


def _decision(hits: int, limit: int, seconds_left: float) -> RateDecision:
    return RateDecision(
        allowed=hits <= limit,
        limit=limit,
        remaining=max(0, limit - hits),
        reset_after=max(1, math.ceil(seconds_left)),
    )


def _forget_before(conn: Connection, start: int) -> None:
    """Delete the counters of windows that ended long before `start` (`KEEP_SECONDS`)."""
    conn.execute(delete(rate_limits).where(rate_limits.c.window_start < start - KEEP_SECONDS))


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
