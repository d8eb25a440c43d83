"""The database itself: URLs, migrations, SQLite settings, durability checks, schema guards."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from cep_core.domain.case import Beneficiary
from cep_core.errors import DatabaseConfigError, DatabaseNotDurable
from cep_core.storage import database as database_module
from cep_core.storage.database import Database, Severity, normalize_url
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.repositories import BeneficiaryRepository
from cep_core.storage.tables import beneficiaries, case_events, cases, metadata

# -- URLs (no database needed) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.sqlite3", "sqlite+pysqlite"),
        ("sqlite+pysqlite:///x.sqlite3", "sqlite+pysqlite"),
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg"),
    ],
)
def test_urls_are_pinned_to_synchronous_drivers(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


@pytest.mark.parametrize(
    "url",
    ["mysql://u@h/db", "postgresql+asyncpg://u@h/db", "sqlite+aiosqlite:///x", "pas une url"],
)
def test_unsupported_urls_are_refused_in_french(url: str) -> None:
    with pytest.raises(DatabaseConfigError, match=r"non prise en charge|illisible"):
        normalize_url(url)


def test_the_password_is_hidden_in_repr() -> None:
    database = Database("postgresql://cep:secret@localhost/cep")
    try:
        assert "secret" not in repr(database)
        assert database.dialect == "postgresql"
    finally:
        database.dispose()


def test_sqlite_creates_the_parent_folder(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'deep' / 'er' / 'cep.sqlite3'}")
    try:
        database.upgrade()
        assert (tmp_path / "deep" / "er" / "cep.sqlite3").exists()
    finally:
        database.dispose()


def test_ids_are_time_ordered_uuid7_hex() -> None:
    first, second = new_id(unix_ms=1_700_000_000_000), new_id(unix_ms=1_700_000_000_001)
    assert is_id(first)
    assert is_id(second)
    assert first < second
    assert first[12] == "7"  # version nibble
    assert first[16] in "89ab"  # RFC 9562 variant
    assert len({new_id() for _ in range(1000)}) == 1000


# -- migrations ------------------------------------------------------------------------------


def test_migrations_run_on_an_empty_database_and_rerun_is_a_no_op(
    empty_database: Database,
) -> None:
    assert empty_database.current_revision() is None
    empty_database.upgrade()
    head = empty_database.head_revision()
    assert head is not None
    assert empty_database.current_revision() == head
    empty_database.upgrade()  # idempotent
    assert empty_database.current_revision() == head
    with empty_database.read() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {"beneficiaries", "cases", "case_events", "alembic_version"} <= tables


def test_the_migration_creates_exactly_the_declared_tables(database: Database) -> None:
    with database.read() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_concurrent_upgrades_from_several_processes_do_not_collide(
    empty_database: Database,
) -> None:
    """Several workers starting at once: one migrates, the others wait and find it done."""
    url = empty_database.url.render_as_string(hide_password=False)
    script = (
        "import sys; from cep_core.storage.database import Database; "
        "Database(sys.argv[1]).upgrade()"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    failures = [w.communicate(timeout=120)[1] for w in workers if w.wait(timeout=120) != 0]
    assert failures == []
    assert empty_database.current_revision() == empty_database.head_revision()


# -- SQLite settings (REL-07) -----------------------------------------------------------------


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'cep.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()


def test_sqlite_pragmas_are_in_effect_on_every_connection(sqlite_database: Database) -> None:
    for open_transaction in (sqlite_database.read, sqlite_database.write):
        with open_transaction() as connection:

            def pragma(name: str, c: object = connection) -> object:
                return c.exec_driver_sql(f"PRAGMA {name}").scalar_one()  # type: ignore[attr-defined]

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 5000


def test_sqlite_writes_begin_immediate(sqlite_database: Database) -> None:
    """Inside write(), before any statement, the write lock is already held."""
    path = sqlite_database.url.database
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with sqlite_database.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
        with sqlite_database.read():
            other.execute("BEGIN IMMEDIATE")  # reads do not take the write lock
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_sqlite_reads_are_transactions(sqlite_database: Database) -> None:
    with sqlite_database.read() as connection:
        assert connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_sqlite_durability_check_passes(sqlite_database: Database) -> None:
    assert sqlite_database.check_durability() == []
    assert sqlite_database.ensure_durable() == []


# -- durability (REL-08) -------------------------------------------------------------------


def test_durability_check_reports_what_the_server_runs_with(database: Database) -> None:
    problems = database.check_durability()
    if database.dialect == "sqlite":
        assert problems == []
        return
    with database.read() as connection:
        fsync = connection.exec_driver_sql("SHOW fsync").scalar_one()
    assert (fsync == "off") == any(p.setting == "fsync" for p in problems)


def test_non_durable_postgresql_settings_are_refused_or_warned() -> None:
    problems = database_module._postgresql_problems(
        {"fsync": "off", "full_page_writes": "on", "synchronous_commit": "off"}
    )
    assert [(p.setting, p.severity) for p in problems] == [
        ("fsync", Severity.ERROR),
        ("synchronous_commit", Severity.WARNING),
    ]
    assert (
        database_module._postgresql_problems(
            {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}
        )
        == []
    )


def test_ensure_durable_raises_a_french_error(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = database_module._postgresql_problems({"fsync": "off"})
    monkeypatch.setattr(sqlite_database, "check_durability", lambda: problems)
    with pytest.raises(DatabaseNotDurable, match=r"(?s)Démarrage refusé.*fsync=off"):
        sqlite_database.ensure_durable()


# -- schema guards ---------------------------------------------------------------------------


def _seed_case(database: Database) -> str:
    """A case with one journal line, written straight into the tables."""
    now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    beneficiary_id, case_id = new_id(), new_id()
    with database.write() as connection:
        connection.execute(
            beneficiaries.insert().values(
                id=beneficiary_id, operator="op_a", doc="{}", created_at=now, updated_at=now
            )
        )
        connection.execute(
            cases.insert().values(
                id=case_id, operator="op_a", beneficiary_id=beneficiary_id, status="opened",
                level=None, created_at=now, updated_at=now, version=1, doc="{}",
            )
        )  # fmt: skip
        connection.execute(
            case_events.insert().values(
                id=new_id(), case_id=case_id, operator="op_a", seq=1, at=now, kind="opened"
            )
        )
    return case_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_events SET kind = 'tampered'",
        "UPDATE case_events SET reason = NULL WHERE seq = 1",
        "DELETE FROM case_events",
    ],
)
def test_the_journal_is_append_only_in_the_database(database: Database, statement: str) -> None:
    _seed_case(database)
    with pytest.raises(IntegrityError, match="ajout seul"), database.write() as connection:
        connection.execute(text(statement))
    with database.read() as connection:
        assert connection.execute(select(case_events.c.kind)).scalars().all() == ["opened"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_journal_cannot_be_truncated_on_postgresql(database: Database) -> None:
    _seed_case(database)
    with pytest.raises(DBAPIError, match="ajout seul"), database.write() as connection:
        connection.execute(text("TRUNCATE case_events CASCADE"))


def test_a_case_cannot_point_at_another_operators_beneficiary(database: Database) -> None:
    now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    beneficiary_id = new_id()
    with database.write() as connection:
        connection.execute(
            beneficiaries.insert().values(
                id=beneficiary_id, operator="op_a", doc="{}", created_at=now, updated_at=now
            )
        )
    with pytest.raises(IntegrityError), database.write() as connection:
        connection.execute(
            cases.insert().values(
                id=new_id(), operator="op_b", beneficiary_id=beneficiary_id, status="opened",
                level=None, created_at=now, updated_at=now, version=1, doc="{}",
            )
        )  # fmt: skip


def test_an_event_cannot_be_filed_under_another_operators_case(database: Database) -> None:
    case_id = _seed_case(database)
    with pytest.raises(IntegrityError), database.write() as connection:
        connection.execute(
            case_events.insert().values(
                id=new_id(), case_id=case_id, operator="op_b", seq=2,
                at=datetime(2026, 1, 5, tzinfo=UTC), kind="peeked",
            )
        )  # fmt: skip


def test_timestamps_come_back_timezone_aware_utc(database: Database) -> None:
    paris_winter = timezone(timedelta(hours=1))
    written = datetime(2026, 1, 5, 9, 15, 30, 123456, tzinfo=paris_winter)
    person = Beneficiary(
        id=new_id(), operator="op_a", first_name="Léa", last_name="Martin", created_at=written
    )
    with database.write() as connection:
        BeneficiaryRepository(connection, "op_a").add(person)
    with database.read() as connection:
        stored_at = connection.execute(
            select(beneficiaries.c.created_at).where(beneficiaries.c.id == person.id)
        ).scalar_one()
    assert stored_at == written
    assert stored_at.tzinfo is UTC or stored_at.utcoffset() == timedelta(0)
    assert stored_at.hour == 8  # 09:15 in UTC+1


def test_naive_timestamps_are_refused(database: Database) -> None:
    person = Beneficiary(
        id=new_id(), operator="op_a", first_name="Léa", last_name="Martin",
        created_at=datetime(2026, 1, 5, 9, 0),
    )  # fmt: skip
    with pytest.raises(StatementError, match="naive"), database.write() as connection:
        BeneficiaryRepository(connection, "op_a").add(person)
