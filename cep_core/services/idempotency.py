"""Idempotency keys (REL-10): one stored answer per caller and key, shared by every instance.

A client that retries a creating POST with the same ``Idempotency-Key`` must get the first
answer again, never a second resource. The claim is one ``INSERT ... ON CONFLICT DO NOTHING``
on the primary key (caller scope, key): of two instances racing, the database lets one win.
The winner runs the request under a lease, then stores the answer (`complete`) or, when the
request failed on the server's side, deletes the claim (`release`) so the client can retry.
A lease that runs out (the process died) lets the next request with that key take over.
Semantics follow Stripe's and the IETF draft "The Idempotency-Key HTTP Header Field".
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
from sqlalchemy import ColumnElement, Connection, delete, select, update

from cep_core.clock import Clock, system_clock
from cep_core.storage.database import Database
from cep_core.storage.tables import idempotency_keys

# Kept at least this long after the first request (REL-10: 24 h at least).
RETENTION: Final = timedelta(hours=24)
# A running request holds its key this long; past it, a retry may take the key over.
LEASE: Final = timedelta(seconds=60)
RUNNING: Final = "running"
DONE: Final = "done"


class StoredAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to replay: status, the headers that matter, and the body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """This request owns the key: run it, then `complete` or `release` with ``lease``."""

    lease: str


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    answer: StoredAnswer


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    """The key was used for another request (other body, method or path)."""


class InProgress(msgspec.Struct, frozen=True, kw_only=True):
    """The first request with this key still runs; retry in ``retry_after`` seconds."""

    retry_after: int


ClaimResult = Claimed | Replay | Mismatch | InProgress


def caller_scope(operator: str, actor: str) -> str:
    """Keys belong to one caller of one operator: the same key elsewhere is another key."""
    return hashlib.sha256(f"{operator}\x00{actor}".encode()).hexdigest()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What "the same request" means: method, path and body, JSON made canonical.

    Two bodies that differ only by key order or white space are the same request.
    """
    canonical = body
    if body.strip():
        try:
            canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
        except msgspec.DecodeError:
            canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyService:
    def __init__(
        self,
        database: Database,
        *,
        clock: Clock = system_clock,
        retention: timedelta = RETENTION,
        lease: timedelta = LEASE,
    ) -> None:
        self.database = database
        self.clock = clock
        self.retention = retention
        self.lease = lease

    def claim(self, scope: str, key: str, operator: str, print_: str) -> ClaimResult:
        """Take the key for this request, or say what the earlier request with it left."""
        now = self.clock()
        lease = secrets.token_hex(16)
        with self.database.write() as conn:
            if _insert_claim(conn, scope, key, operator, print_, lease, now, self):
                return Claimed(lease=lease)
            row = conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
                )
            ).one_or_none()
            if row is None:  # released or purged between the two statements
                if _insert_claim(conn, scope, key, operator, print_, lease, now, self):
                    return Claimed(lease=lease)
                return InProgress(retry_after=1)
            if row.expires_at <= now:  # expired, not yet purged: a brand-new key
                self._take_over(conn, scope, key, print_, lease, now, fresh=True)
                return Claimed(lease=lease)
            if row.fingerprint != print_:
                return Mismatch()
            if row.state == DONE:
                headers = [(str(k), str(v)) for k, v in msgspec.json.decode(row.headers or "[]")]
                return Replay(
                    answer=StoredAnswer(status=row.status, headers=headers, body=row.body or b"")
                )
            if row.locked_until is not None and row.locked_until > now:
                wait = (row.locked_until - now).total_seconds()
                return InProgress(retry_after=max(1, math.ceil(wait)))
            # The first request's process died (lease over): this one takes the key over.
            self._take_over(conn, scope, key, print_, lease, now, fresh=False)
            return Claimed(lease=lease)

    def _take_over(
        self,
        conn: Connection,
        scope: str,
        key: str,
        print_: str,
        lease: str,
        now: datetime,
        *,
        fresh: bool,
    ) -> None:
        values: dict[str, Any] = {
            "state": RUNNING,
            "lease": lease,
            "locked_until": now + self.lease,
            "status": None,
            "headers": None,
            "body": None,
        }
        if fresh:
            values.update(fingerprint=print_, created_at=now, expires_at=now + self.retention)
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(**values)
        )

    def complete(self, scope: str, key: str, lease: str, answer: StoredAnswer) -> bool:
        """Store the answer to replay; False when the lease was lost (taken over meanwhile)."""
        with self.database.write() as conn:
            result = conn.execute(
                update(idempotency_keys)
                .where(
                    idempotency_keys.c.scope == scope,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.lease == lease,
                )
                .values(
                    state=DONE,
                    lease=None,
                    locked_until=None,
                    status=answer.status,
                    headers=msgspec.json.encode(answer.headers).decode(),
                    body=answer.body,
                )
            )
            return result.rowcount == 1

    def release(self, scope: str, key: str, lease: str) -> None:
        """Forget a claim whose request failed on the server's side: the client may retry."""
        with self.database.write() as conn:
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.scope == scope,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.lease == lease,
                )
            )

    @staticmethod
    def expired(now: datetime) -> ColumnElement[bool]:
        """The keys `purge` deletes (``cep purge --dry-run`` counts the same ones)."""
        return idempotency_keys.c.expires_at <= now

    def purge(self, now: datetime) -> int:
        """Delete the keys past their retention (``cep purge``); returns how many."""
        with self.database.write() as conn:
            result = conn.execute(delete(idempotency_keys).where(self.expired(now)))
            return int(result.rowcount)


def _insert_claim(
    conn: Connection,
    scope: str,
    key: str,
    operator: str,
    print_: str,
    lease: str,
    now: datetime,
    service: IdempotencyService,
) -> bool:
    """INSERT the running claim unless the key exists; True when this call inserted it."""
    insert: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(idempotency_keys)
        .values(
            scope=scope,
            key=key,
            operator=operator,
            fingerprint=print_,
            state=RUNNING,
            lease=lease,
            locked_until=now + service.lease,
            created_at=now,
            expires_at=now + service.retention,
        )
        .on_conflict_do_nothing(index_elements=[idempotency_keys.c.scope, idempotency_keys.c.key])
        .returning(idempotency_keys.c.lease)
    )
    # RETURNING, not rowcount: drivers do not all report a row count for this statement.
    return conn.execute(statement).scalar_one_or_none() == lease
