"""The outbox: a message is never lost, and never sent for a change that rolled back.

`enqueue` writes the encoded message in the CALLER's transaction: it exists if and only if
the change it announces committed. `Outbox.deliver_pending` then sends what is due, one
message at a time:

1. claim it in a short write transaction: ``UPDATE … SET attempts = attempts + 1,
   next_attempt_at = now + lease WHERE id = ? AND status = 'pending' AND next_attempt_at <=
   now`` — of two processes, only one updates the row (SQLite serialises writers with
   ``BEGIN IMMEDIATE``; PostgreSQL re-checks the WHERE after the other's commit, and
   ``FOR UPDATE SKIP LOCKED`` makes the other pick a different message meanwhile);
2. hand it to the backend, outside any transaction;
3. record the outcome: ``sent`` (bytes emptied: no personal data kept longer than needed), a
   retry after a growing delay, or ``failed`` after the last attempt (bytes kept, so an
   administrator can `requeue_failed` once the cause is fixed).

A process that dies between 1 and 3 leaves the message pending: its lease expires and another
run sends it (at least once; a duplicate is possible only in that case).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, func, select, update

from cep_core.clock import Clock
from cep_core.mail.backends import Backend, MailDeliveryError
from cep_core.mail.message import decode
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.tables import mail_outbox

log = logging.getLogger("cep_core.mail")

PENDING = "pending"
SENT = "sent"
FAILED = "failed"

# Delay before attempt n + 1 after n failures; the last delay repeats.
DEFAULT_BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
DEFAULT_MAX_ATTEMPTS = 7  # about 10 h 20 min of retries with the delays above
# How long a claimed message is left alone by other runs: longer than one SMTP exchange.
DEFAULT_LEASE = timedelta(minutes=10)
ERROR_LENGTH = 200
KIND_LENGTH = 40


class DeliveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one `deliver_pending` run did: sent, scheduled for a retry, failed for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxCounts(msgspec.Struct, frozen=True, kw_only=True):
    pending: int = 0
    sent: int = 0
    failed: int = 0


class FailedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message that failed for good: what it was and why (no recipient, no content)."""

    id: str
    operator: str
    kind: str
    created_at: datetime
    attempts: int
    last_error: str | None


def enqueue(
    connection: Connection, *, operator: str, kind: str, message: bytes, now: datetime
) -> str:
    """Queue `message` (encoded MIME bytes) in the caller's transaction; return its id."""
    if not operator:
        raise ValueError("a queued message belongs to an operator")
    if not kind or len(kind) > KIND_LENGTH:
        raise ValueError(f"message kind must be 1 to {KIND_LENGTH} characters")
    if not message:
        raise ValueError("empty message")
    now = _utc(now)
    message_id = new_id()
    connection.execute(
        mail_outbox.insert().values(
            id=message_id,
            operator=operator,
            kind=kind,
            created_at=now,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            sent_at=None,
            message=message,
        )
    )
    return message_id


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime refused")
    return value.astimezone(UTC)


class _Claim(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    attempts: int
    message: bytes


class Outbox:
    """Sends the queued messages of one database through one backend.

    ``backend`` may be a factory, called on the first message only: a run with nothing to send
    builds nothing.
    """

    def __init__(
        self,
        database: Database,
        backend: Backend | Callable[[], Backend],
        *,
        clock: Clock,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: Sequence[timedelta] = DEFAULT_BACKOFF,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not backoff or any(delay <= timedelta(0) for delay in backoff):
            raise ValueError("backoff delays must be positive")
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self._database = database
        self._backend_source = backend
        self._backend: Backend | None = None
        self._clock = clock
        self.max_attempts = max_attempts
        self.backoff = tuple(backoff)
        self.lease = lease

    def _now(self) -> datetime:
        return _utc(self._clock())

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            source = self._backend_source
            self._backend = source if isinstance(source, Backend) else source()
        return self._backend

    def delay_after(self, attempts: int) -> timedelta:
        """The wait before the next try, after `attempts` failed ones."""
        return self.backoff[min(attempts, len(self.backoff)) - 1]

    # -- delivery --------------------------------------------------------------------------

    def deliver_pending(self, *, limit: int = 100) -> DeliveryReport:
        """Send up to `limit` due messages; safe to run in several processes at once."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        sent = retried = failed = 0
        for _ in range(limit):
            claim = self._claim_next()
            if claim is None:
                break
            outcome = self._deliver(claim)
            if outcome == SENT:
                sent += 1
            elif outcome == FAILED:
                failed += 1
            else:
                retried += 1
        return DeliveryReport(sent=sent, retried=retried, failed=failed)

    def _claim_next(self) -> _Claim | None:
        """Take the oldest due message for this run, or None when nothing is due."""
        while True:
            now = self._now()
            with self._database.write() as connection:
                row = connection.execute(
                    select(mail_outbox.c.id, mail_outbox.c.kind, mail_outbox.c.attempts)
                    .where(mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= now)
                    .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if row is None:
                    return None
                claimed = connection.execute(
                    update(mail_outbox)
                    .where(
                        mail_outbox.c.id == row.id,
                        mail_outbox.c.status == PENDING,
                        mail_outbox.c.next_attempt_at <= now,
                    )
                    .values(
                        attempts=mail_outbox.c.attempts + 1,
                        next_attempt_at=now + self.lease,
                    )
                )
                if claimed.rowcount != 1:
                    continue  # another run took it between our SELECT and UPDATE
                message = connection.execute(
                    select(mail_outbox.c.message).where(mail_outbox.c.id == row.id)
                ).scalar_one()
            return _Claim(
                id=row.id, kind=row.kind, attempts=row.attempts + 1, message=bytes(message)
            )

    def _deliver(self, claim: _Claim) -> str:
        try:
            self.backend.send(decode(claim.message))
        except MailDeliveryError as exc:
            return self._failure(claim, exc.message, permanent=exc.permanent)
        except Exception as exc:  # a bug must not lose the message: keep it, say what broke
            log.exception("mail %s (%s): unexpected error while sending", claim.id, claim.kind)
            return self._failure(claim, f"erreur inattendue ({type(exc).__name__})")
        now = self._now()
        with self._database.write() as connection:
            # Whoever holds the lease now, the message did go: record it, forget its bytes.
            connection.execute(
                update(mail_outbox)
                .where(mail_outbox.c.id == claim.id, mail_outbox.c.status == PENDING)
                .values(status=SENT, sent_at=now, message=b"", last_error=None)
            )
        log.info("mail %s (%s) sent", claim.id, claim.kind)
        return SENT

    def _failure(self, claim: _Claim, error: str, *, permanent: bool = False) -> str:
        now = self._now()
        final = permanent or claim.attempts >= self.max_attempts
        values: dict[str, Any] = {"last_error": _short(error)}
        if final:
            values["status"] = FAILED
        else:
            values["next_attempt_at"] = now + self.delay_after(claim.attempts)
        with self._database.write() as connection:
            connection.execute(
                update(mail_outbox)
                .where(
                    mail_outbox.c.id == claim.id,
                    mail_outbox.c.status == PENDING,
                    mail_outbox.c.attempts == claim.attempts,  # still our claim
                )
                .values(**values)
            )
        log.warning(
            "mail %s (%s) attempt %d %s: %s",
            claim.id,
            claim.kind,
            claim.attempts,
            "failed for good" if final else "failed, will retry",
            error,
        )
        return FAILED if final else PENDING

    # -- administration --------------------------------------------------------------------

    def requeue_failed(self, *, operator: str | None = None) -> int:
        """Give the failed messages (of one operator, or all) a fresh set of attempts."""
        now = self._now()
        condition = [mail_outbox.c.status == FAILED]
        if operator is not None:
            condition.append(mail_outbox.c.operator == operator)
        with self._database.write() as connection:
            result = connection.execute(
                update(mail_outbox)
                .where(*condition)
                .values(status=PENDING, attempts=0, next_attempt_at=now)
            )
        return int(result.rowcount)

    def counts(self, *, operator: str | None = None) -> OutboxCounts:
        """How many messages are pending, sent and failed (of one operator, or all)."""
        query = select(mail_outbox.c.status, func.count()).group_by(mail_outbox.c.status)
        if operator is not None:
            query = query.where(mail_outbox.c.operator == operator)
        with self._database.read() as connection:
            found = {str(status): int(n) for status, n in connection.execute(query)}
        return OutboxCounts(
            pending=found.get(PENDING, 0), sent=found.get(SENT, 0), failed=found.get(FAILED, 0)
        )

    def failed_messages(self, *, limit: int = 20) -> list[FailedMessage]:
        """The latest messages that failed for good, newest first."""
        query = (
            select(
                mail_outbox.c.id,
                mail_outbox.c.operator,
                mail_outbox.c.kind,
                mail_outbox.c.created_at,
                mail_outbox.c.attempts,
                mail_outbox.c.last_error,
            )
            .where(mail_outbox.c.status == FAILED)
            .order_by(mail_outbox.c.created_at.desc(), mail_outbox.c.id.desc())
            .limit(limit)
        )
        with self._database.read() as connection:
            return [
                FailedMessage(
                    id=row.id,
                    operator=row.operator,
                    kind=row.kind,
                    created_at=row.created_at,
                    attempts=row.attempts,
                    last_error=row.last_error,
                )
                for row in connection.execute(query)
            ]


def _short(error: str) -> str:
    """One line, at most `ERROR_LENGTH` characters."""
    line = " ".join(error.split())
    return line if len(line) <= ERROR_LENGTH else line[: ERROR_LENGTH - 1] + "…"
