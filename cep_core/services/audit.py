"""The audit journal (SEC-12, CNIL *journalisation*): who touched which beneficiary record.

One event per read, creation, change, export, PDF generation or download of a beneficiary's
data, and per sign-in event: UTC time, a pseudonymous actor (an account id, ``anonymous``,
``system`` or ``cli``; never an e-mail or a name), the operator, a dotted action such as
``case.read``, the record type and id, and the outcome. Never any case content.

The table is append-only in the database itself (migration 0007's triggers): only `purge`
deletes, and only events older than the retention. `record` writes in its own short
transaction; `defer` (what the web layer uses for GET requests) keeps read events in memory
for at most ``max_delay`` seconds or ``batch_size`` events, so that a read request costs no
durable commit of its own: a crash may lose the last second of *read* events, never the event
of an acknowledged change (those go through `record`, committed before the answer is sent).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Connection, and_, delete, insert, or_, select, update

from cep_core.clock import Clock, system_clock
from cep_core.domain.audit import OUTCOME_LABELS, AuditAction
from cep_core.domain.retention import add_months
from cep_core.services.keyset import decode_keyset, encode_keyset
from cep_core.services.write_behind import WriteBehind
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.tables import (
    ACTOR_LENGTH,
    AUDIT_RECORD_ID_LENGTH,
    AUDIT_RECORD_TYPE_LENGTH,
    OPERATOR_LENGTH,
    audit_events,
    audit_purge_horizon,
)

log = logging.getLogger("cep_core.audit")

DEFAULT_RETENTION_MONTHS = 12
# The CNIL recommends keeping access logs six months to one year.
CNIL_MIN_MONTHS = 6
CNIL_MAX_MONTHS = 12
MAX_PAGE_SIZE = 200
# Read events kept in memory while the database refuses them, at most.
MAX_PENDING = 10_000

ANONYMOUS = "anonymous"
SYSTEM = "system"
CLI = "cli"

OUTCOMES = frozenset(OUTCOME_LABELS)
_ACTIONS = frozenset(AuditAction)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Actors are opaque identifiers; anything that looks like an e-mail or a name is refused.
_ACTOR = re.compile(r"^[A-Za-z0-9_.:-]+$")


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One journal line, as stored."""

    id: str
    at: datetime
    operator: str | None
    actor: str
    action: str
    record_type: str
    record_id: str | None
    outcome: str


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Browse filters: period ``[since, until)``, exact action, actor and record id."""

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    actor: str | None = None
    record_id: str | None = None


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[AuditEvent]
    next_cursor: str | None


def retention_problem(months: int, override: str | None) -> str | None:
    """Why a retention of `months` is refused (French), or None.

    Outside the CNIL's 6–12 months a deployment must write down why, in
    ``CEP_AUDIT_RETENTION_OVERRIDE``, so that the choice is deliberate and documented.
    """
    if months < 1:
        return "CEP_AUDIT_RETENTION_MONTHS doit valoir au moins 1 mois"
    if CNIL_MIN_MONTHS <= months <= CNIL_MAX_MONTHS or (override or "").strip():
        return None
    return (
        f"CEP_AUDIT_RETENTION_MONTHS : {months} mois est hors de la durée recommandée par la "
        f"CNIL pour la journalisation ({CNIL_MIN_MONTHS} à {CNIL_MAX_MONTHS} mois) ; pour "
        "s'en écarter, indiquez la justification dans CEP_AUDIT_RETENTION_OVERRIDE"
    )


def months_before(moment: datetime, months: int) -> datetime:
    """`moment` minus calendar `months` (the day clamped to the shorter month's end)."""
    return add_months(moment, -months)


def _check(
    *,
    action: str,
    operator: str | None,
    actor: str,
    record_type: str,
    record_id: str | None,
    outcome: str,
) -> None:
    """Refuse malformed events loudly: a journal with garbage in it proves nothing."""
    if action not in _ACTIONS:  # an action managers could neither filter on nor read
        raise ValueError(f"audit action must be one of AuditAction: {action!r}")
    if len(record_type) > AUDIT_RECORD_TYPE_LENGTH or not _NAME.match(record_type):
        raise ValueError(f"audit record type must be a lower-case word: {record_type!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome: {outcome!r}")
    if len(actor) > ACTOR_LENGTH or not _ACTOR.match(actor) or "@" in actor:
        raise ValueError("audit actor must be a pseudonymous identifier")
    if operator is not None and len(operator) > OPERATOR_LENGTH:
        raise ValueError("audit operator too long")
    if record_id is not None and (
        len(record_id) > AUDIT_RECORD_ID_LENGTH or not _ACTOR.match(record_id)
    ):
        raise ValueError("audit record id must be an identifier")


class AuditJournal:
    """Writes, browses and purges the audit journal of one kit."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock = system_clock,
        retention_months: int = DEFAULT_RETENTION_MONTHS,
        batch_size: int = 256,
        max_delay: float = 1.0,
    ) -> None:
        self.database = database
        self.clock = clock
        self.retention_months = retention_months
        self.batch_size = batch_size
        self.max_delay = max_delay
        # Read events wait here (keyed by their id) and go in one commit with the others.
        self._reads: WriteBehind[str, dict[str, Any]] = WriteBehind(
            self._insert,
            name="audit",
            max_delay=max_delay,
            batch_size=batch_size,
            max_pending=MAX_PENDING,
        )

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        *,
        action: str,
        operator: str | None,
        actor: str | None,
        record_type: str,
        record_id: str | None,
        outcome: str = "success",
    ) -> None:
        """Write one event now, in its own short transaction (durable when this returns)."""
        with self.database.write() as conn:
            self.record_in(
                conn,
                action=action,
                operator=operator,
                actor=actor,
                record_type=record_type,
                record_id=record_id,
                outcome=outcome,
            )

    def record_in(
        self,
        conn: Connection,
        *,
        action: str,
        operator: str | None,
        actor: str | None,
        record_type: str,
        record_id: str | None,
        outcome: str = "success",
    ) -> None:
        """Write one event in the caller's transaction: it commits with the change it tells."""
        row = self._row(action, operator, actor, record_type, record_id, outcome)
        conn.execute(insert(audit_events), [row])

    def defer(
        self,
        *,
        action: str,
        operator: str | None,
        actor: str | None,
        record_type: str,
        record_id: str | None,
        outcome: str = "success",
    ) -> None:
        """Queue one *read* event; written with others within ``max_delay`` seconds."""
        row = self._row(action, operator, actor, record_type, record_id, outcome)
        self._reads.add(row["id"], row)

    def flush(self) -> int:
        """Write the queued events now; returns how many were written."""
        return self._reads.flush()

    def close(self) -> None:
        """Write what is queued (the kit's `close()` calls it; a failure is logged, not raised,
        so that a shutdown with the database gone still completes)."""
        self._reads.close()

    def _insert(self, rows: dict[str, dict[str, Any]]) -> None:
        with self.database.write() as conn:
            conn.execute(insert(audit_events), list(rows.values()))

    def _row(
        self,
        action: str,
        operator: str | None,
        actor: str | None,
        record_type: str,
        record_id: str | None,
        outcome: str,
    ) -> dict[str, Any]:
        who = actor or ANONYMOUS
        _check(
            action=action,
            operator=operator,
            actor=who,
            record_type=record_type,
            record_id=record_id,
            outcome=outcome,
        )
        return {
            "id": new_id(),
            "at": self.clock().astimezone(UTC),
            "operator": operator,
            "actor": who,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "outcome": outcome,
        }

    # -- retention -------------------------------------------------------------------------

    def cutoff(self, now: datetime) -> datetime:
        """Events strictly older than this are past the retention."""
        return months_before(now.astimezone(UTC), self.retention_months)

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """The events `purge` deletes (``cep purge --dry-run`` counts the same ones)."""
        return audit_events.c.at < self.cutoff(now)

    def purge(self, now: datetime) -> int:
        """Delete the events older than the retention; returns how many went.

        The DELETE trigger lets a row go only when it is older than the horizon, which is
        set here and cleared again before the transaction commits: nobody else ever sees it.
        """
        self.flush()
        cutoff = self.cutoff(now)
        horizon = audit_purge_horizon.c
        with self.database.write() as conn:
            conn.execute(update(audit_purge_horizon).where(horizon.id == 1).values(horizon=cutoff))
            count = conn.execute(delete(audit_events).where(self.expired(now))).rowcount
            conn.execute(update(audit_purge_horizon).where(horizon.id == 1).values(horizon=None))
        return int(count or 0)

    # -- reading ---------------------------------------------------------------------------

    def browse(
        self,
        operator: str,
        query: AuditQuery | None = None,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """One operator's events, newest first, `limit` at a time (keyset pagination)."""
        self.flush()
        query = query or AuditQuery()
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        c = audit_events.c
        conditions: list[Any] = [c.operator == operator]
        if query.since is not None:
            conditions.append(c.at >= query.since)
        if query.until is not None:
            conditions.append(c.at < query.until)
        if query.action:
            conditions.append(c.action == query.action)
        if query.actor:
            conditions.append(c.actor == query.actor)
        if query.record_id:
            conditions.append(c.record_id == query.record_id)
        if cursor:
            at, last_id = decode_keyset(cursor, is_id)
            conditions.append(or_(c.at < at, and_(c.at == at, c.id < last_id)))
        statement = (
            select(audit_events)
            .where(*conditions)
            .order_by(c.at.desc(), c.id.desc())
            .limit(limit + 1)
        )
        with self.database.read() as conn:
            rows = conn.execute(statement).mappings().all()
        items = [AuditEvent(**dict(row)) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = encode_keyset(items[-1].at, items[-1].id) if more and items else None
        return AuditPage(items=items, next_cursor=next_cursor)

    def events_for(self, record_ids: Sequence[str], *, operator: str | None) -> list[AuditEvent]:
        """Every event about these records, oldest first (a beneficiary's GDPR export)."""
        self.flush()
        if not record_ids:
            return []
        c = audit_events.c
        statement = (
            select(audit_events)
            .where(c.record_id.in_(list(record_ids)), c.operator == operator)
            .order_by(c.at, c.id)
        )
        with self.database.read() as conn:
            return [AuditEvent(**dict(row)) for row in conn.execute(statement).mappings()]
