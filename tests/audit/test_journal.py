"""The audit journal's storage (SEC-12), on SQLite and PostgreSQL: events go in, nothing
changes them, only the retention purge removes them, and managers' queries page through one
operator's events with filters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from cep_core.domain.issues import InvalidInput
from cep_core.services.audit import (
    AuditJournal,
    AuditQuery,
    months_before,
    retention_problem,
)
from cep_core.settings import Settings, SettingsError
from cep_core.storage.database import Database
from cep_core.storage.tables import audit_events, audit_purge_horizon

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CASE = "0190f0c0a0b07c0d8e0f101112131415"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    """For the journal's own logic (validation, batching), the same on both databases."""
    database = Database(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()


def count(database: Database) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def test_an_event_is_one_row_with_no_content(database: Database) -> None:
    journal = AuditJournal(database, clock=Clock())
    journal.record(
        action="case.read",
        operator="apec",
        actor="u1",
        record_type="case",
        record_id=CASE,
    )
    journal.record(
        action="auth.sign_in",
        operator=None,
        actor=None,
        record_type="account",
        record_id=None,
        outcome="failure",
    )
    with database.read() as conn:
        rows = [dict(r) for r in conn.execute(select(audit_events).order_by("id")).mappings()]
    assert [(r["action"], r["actor"], r["operator"], r["outcome"]) for r in rows] == [
        ("case.read", "u1", "apec", "success"),
        ("auth.sign_in", "anonymous", None, "failure"),
    ]
    assert rows[0]["at"] == NOW and rows[0]["record_id"] == CASE
    assert set(rows[0]) == {
        "id",
        "at",
        "operator",
        "actor",
        "action",
        "record_type",
        "record_id",
        "outcome",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"action": "Case Read"},
        {"action": "case.renamed"},  # well formed, but no manager could filter on it
        {"outcome": "ok"},
        {"actor": "claire.martin@apec.fr"},
        {"actor": "Claire Martin"},
        {"record_type": "case.x"},
        {"record_id": "Maëlle Roussel"},
    ],
)
def test_malformed_events_are_refused(sqlite: Database, change: dict[str, str]) -> None:
    event = {
        "action": "case.read",
        "operator": "apec",
        "actor": "u1",
        "record_type": "case",
        "record_id": CASE,
        **change,
    }
    with pytest.raises(ValueError, match="audit"):
        AuditJournal(sqlite).record(**event)  # type: ignore[arg-type]
    assert count(sqlite) == 0


def test_the_database_refuses_updates_and_early_deletes(database: Database) -> None:
    clock = Clock(NOW - timedelta(days=800))
    journal = AuditJournal(database, clock=clock)
    journal.record(
        action="case.read", operator="apec", actor="u1", record_type="case", record_id=CASE
    )
    for statement in (
        update(audit_events).values(outcome="denied"),
        update(audit_events).values(at=NOW),
        delete(audit_events),  # even a very old event: only the purge deletes
    ):
        with pytest.raises(DBAPIError, match="audit_events"), database.write() as conn:
            conn.execute(statement)
    # Setting the horizon and deleting in the same transaction is the purge's privilege; a
    # horizon left set by someone else would still not let a recent event go.
    journal.clock = Clock()
    journal.record(
        action="case.read", operator="apec", actor="u1", record_type="case", record_id=CASE
    )
    with database.write() as conn:
        conn.execute(update(audit_purge_horizon).values(horizon=NOW - timedelta(days=400)))
        recent = delete(audit_events).where(audit_events.c.at >= NOW - timedelta(days=1))
        with pytest.raises(DBAPIError, match="audit_events"):
            conn.execute(recent)
    assert count(database) == 2
    if database.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), database.write() as conn:
            conn.execute(text("TRUNCATE audit_events"))
        assert count(database) == 2


def test_the_purge_deletes_only_events_past_the_retention(database: Database) -> None:
    clock = Clock()
    journal = AuditJournal(database, clock=clock, retention_months=6)
    for days in (400, 200, 182, 10, 0):
        clock.now = NOW - timedelta(days=days)
        journal.record(
            action="case.read", operator="apec", actor="u1", record_type="case", record_id=CASE
        )
    assert journal.cutoff(NOW) == datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
    assert journal.purge(NOW) == 2  # 400 and 200 days; 182 days is within six months
    assert journal.purge(NOW) == 0
    assert count(database) == 3
    with database.read() as conn:
        assert conn.execute(select(audit_purge_horizon.c.horizon)).scalar_one() is None
    # Once the horizon is cleared, the remaining events are protected again.
    with pytest.raises(DBAPIError), database.write() as conn:
        conn.execute(delete(audit_events))


def test_months_before_clamps_to_the_end_of_shorter_months() -> None:
    assert months_before(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 15, tzinfo=UTC), 12) == datetime(2025, 3, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2025, 12, 31, tzinfo=UTC)


def test_retention_outside_the_cnil_range_needs_a_justification(tmp_path: object) -> None:
    assert retention_problem(12, None) is None and retention_problem(6, None) is None
    assert "6 à 12 mois" in (retention_problem(24, None) or "")
    assert retention_problem(24, "Contentieux en cours : conservation demandée") is None
    base = {"CEP_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).audit_retention_months == 12
    with pytest.raises(SettingsError, match="CEP_AUDIT_RETENTION_OVERRIDE"):
        Settings.from_env({**base, "CEP_AUDIT_RETENTION_MONTHS": "3"})
    justified = Settings.from_env(
        {
            **base,
            "CEP_AUDIT_RETENTION_MONTHS": "24",
            "CEP_AUDIT_RETENTION_OVERRIDE": "Demande du délégué à la protection des données",
        }
    )
    assert justified.audit_retention_months == 24 and not justified.startup_problems()
    unjustified = Settings(data_dir=tmp_path, audit_retention_months=36)  # type: ignore[arg-type]
    assert any("CNIL" in problem for problem in unjustified.startup_problems())


def test_browse_pages_one_operator_with_filters(database: Database) -> None:
    clock = Clock()
    journal = AuditJournal(database, clock=clock)
    for minute in range(7):
        clock.now = NOW + timedelta(minutes=minute)
        journal.record(
            action="case.update" if minute % 2 else "case.read",
            operator="apec",
            actor=f"u{minute % 3}",
            record_type="case",
            record_id=CASE if minute < 4 else None,
        )
        journal.record(
            action="case.read", operator="cap_emploi", actor="x", record_type="case", record_id=CASE
        )
    seen: list[datetime] = []
    cursor = None
    while True:
        page = journal.browse("apec", cursor=cursor, limit=3)
        seen += [event.at for event in page.items]
        assert all(event.operator == "apec" for event in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen, reverse=True) and len(seen) == 7
    only = journal.browse("apec", AuditQuery(action="case.update"))
    assert [e.at.minute for e in only.items] == [5, 3, 1]
    assert [e.at.minute for e in journal.browse("apec", AuditQuery(actor="u1")).items] == [4, 1]
    by_record = journal.browse("apec", AuditQuery(record_id=CASE))
    assert [e.at.minute for e in by_record.items] == [3, 2, 1, 0]
    period = AuditQuery(since=NOW + timedelta(minutes=2), until=NOW + timedelta(minutes=4))
    assert [e.at.minute for e in journal.browse("apec", period).items] == [3, 2]
    assert len(journal.events_for([CASE], operator="cap_emploi")) == 7
    with pytest.raises(InvalidInput):
        journal.browse("apec", cursor="pas-un-curseur")


def test_deferred_reads_are_written_in_batches_and_on_close(sqlite: Database) -> None:
    journal = AuditJournal(sqlite, clock=Clock(), batch_size=3, max_delay=60)
    event = {
        "action": "case.read",
        "operator": "apec",
        "actor": "u1",
        "record_type": "case",
        "record_id": CASE,
    }
    journal.defer(**event)
    journal.defer(**event)
    assert count(sqlite) == 0  # queued, no commit of their own
    journal.defer(**event)  # a full batch is written at once, off the caller's thread
    deadline = time.monotonic() + 5
    while count(sqlite) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(sqlite) == 3
    journal.defer(**event)
    journal.close()
    assert count(sqlite) == 4


def test_a_quiet_journal_still_writes_within_max_delay(sqlite: Database) -> None:
    journal = AuditJournal(sqlite, clock=Clock(), max_delay=0.05)
    journal.defer(
        action="case.list", operator="apec", actor="u1", record_type="case", record_id=None
    )
    deadline = time.monotonic() + 5
    while count(sqlite) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(sqlite) == 1
    while journal._reads._worker is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert journal._reads._worker is None  # an idle journal keeps no thread


def test_a_failed_flush_keeps_the_events_for_the_next_one(empty_database: Database) -> None:
    journal = AuditJournal(empty_database, clock=Clock(), max_delay=60)
    journal.defer(
        action="case.read", operator="apec", actor="u1", record_type="case", record_id=CASE
    )
    with pytest.raises(DBAPIError):  # no table yet: the database refuses the batch
        journal.flush()
    empty_database.upgrade()
    assert journal.flush() == 1
    assert count(empty_database) == 1
    journal.close()
