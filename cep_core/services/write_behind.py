"""Writes taken off the request path: kept in memory, then written together by a background thread.

For records whose synchronous write would cost more than the request itself, and whose loss in
a crash costs little: the read events of the audit journal, the rate-limit counts of the API, a
token's "last used" time. Each durable commit waits for the disk and holds SQLite's single
writer lock; one commit a second for all of them replaces one per request.

Each record is written within ``max_delay`` seconds, sooner once ``batch_size`` are waiting, by
one thread that lives while records keep coming. A failed write keeps the records for the next
attempt (at most ``max_pending``, the oldest going first: memory must stay bounded when the
database is gone for long). What is still waiting when the process is killed is lost;
`close()` writes it on a clean shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

log = logging.getLogger("cep_core.write_behind")


def replace(_old: V, new: V) -> V:
    """The default merge: the newer value wins (a "last used" time, an event)."""
    return new


class WriteBehind(Generic[K, V]):
    """Records by key, merged while they wait, handed to `write` in batches off the caller."""

    def __init__(
        self,
        write: Callable[[dict[K, V]], None],
        *,
        name: str,
        merge: Callable[[V, V], V] = replace,
        max_delay: float = 1.0,
        batch_size: int = 64,
        max_pending: int = 10_000,
    ) -> None:
        self._write = write
        self.name = name
        self._merge = merge
        self.max_delay = max_delay
        self.batch_size = batch_size
        self.max_pending = max_pending
        self._pending: dict[K, V] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._full = threading.Event()
        self._worker: threading.Thread | None = None
        self._closed = False

    def add(self, key: K, value: V) -> None:
        """Queue one record; never writes from the caller (it may be the event loop)."""
        with self._lock:
            self._merge_into(self._pending, key, value)
            if len(self._pending) >= self.batch_size:
                self._full.set()
            if self._worker is None and not self._closed:
                # One thread writes while records keep coming, and ends once idle: starting
                # a thread per batch cost more than the batch's requests saved.
                self._worker = threading.Thread(
                    target=self._write_while_busy, name=f"cep-{self.name}", daemon=True
                )
                self._worker.start()

    def waiting(self, key: K) -> V | None:
        """What waits under `key` (for decisions that must count it)."""
        with self._lock:
            return self._pending.get(key)

    def flush(self) -> int:
        """Write what waits now; returns how many records went. Raises what `write` raised,
        after putting the records back."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception:
                self._put_back(batch)
                raise
            return len(batch)

    def close(self) -> None:
        """Write what waits (on shutdown); a failure is logged, not raised."""
        self._closed = True
        self._flush_quietly()

    def _put_back(self, batch: dict[K, V]) -> None:
        with self._lock:
            for key, value in self._pending.items():  # newer ones merge over the failed batch
                self._merge_into(batch, key, value)
            self._pending = batch
            excess = len(self._pending) - self.max_pending
            if excess > 0:
                for key in list(self._pending)[:excess]:
                    del self._pending[key]
                log.error("%s: %d queued records dropped (database unreachable)", self.name, excess)

    def _merge_into(self, records: dict[K, V], key: K, value: V) -> None:
        old = records.get(key)
        records[key] = value if old is None else self._merge(old, value)

    def _write_while_busy(self) -> None:
        """Write every `max_delay` (a full batch at once); end after a round with nothing
        to write. A failed write is retried at the next round."""
        while True:
            self._full.wait(self.max_delay)
            self._full.clear()
            written = self._flush_quietly()
            with self._lock:
                if self._closed or (written == 0 and not self._pending):
                    self._worker = None
                    return

    def _flush_quietly(self) -> int:
        try:
            return self.flush()
        except Exception:  # a writer thread has nobody to raise to: log, and retry later
            log.exception("%s: writing %d queued records failed", self.name, len(self._pending))
            return 0
