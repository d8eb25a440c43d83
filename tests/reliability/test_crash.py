"""REL-07: an acknowledged write survives a crash of the app (SIGKILL), on SQLite and PostgreSQL.

CI runs 20 cycles per database (see `crash_harness` for what a cycle does and checks); the
process is restarted cold after each kill, so on SQLite the recovery of what a killed process
left in the WAL runs every cycle. Longer:

    CEP_CRASH_CYCLES=200 uv run pytest -q tests/reliability/test_crash.py

``CEP_CRASH_SEED`` replays a run's choices (the seed is printed; timing still varies);
``CEP_CRASH_MAX_RUN`` (seconds, 0.3 by default) bounds how long the workers go on writing
after a cycle's first few acknowledged writes before the kill. A kill -9 of the app proves
durability against application crashes only: power loss is the database's business (SQLite
``synchronous=FULL``, PostgreSQL ``fsync=on``, checked at start-up: REL-08).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from cep_core.storage.database import SQLITE_PRAGMAS, Database

from .crash_harness import TOKENS, WORKERS, CycleReport, Ledger, check_database, run_cycle
from .servers import LOCKED, AppServer, make_token

CYCLES = int(os.environ.get("CEP_CRASH_CYCLES", "20"))
MAX_RUN = float(os.environ.get("CEP_CRASH_MAX_RUN", "0.3"))


def test_sqlite_is_set_up_for_crashes_and_concurrent_writers(tmp_path: Path) -> None:
    """The settings the harness relies on are the ones `Database` applies (not duplicated)."""
    database = Database(f"sqlite:///{tmp_path / 'cep.sqlite3'}")
    try:
        assert "PRAGMA synchronous=FULL" in SQLITE_PRAGMAS
        with database.read() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
            assert pragma("PRAGMA synchronous").scalar_one() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
            assert pragma("PRAGMA busy_timeout").scalar_one() >= 5000
        with database.write():
            # BEGIN IMMEDIATE: the write lock is held from BEGIN, before any statement, so a
            # second writer queues at its BEGIN (busy_timeout) instead of failing mid-way.
            other = sqlite3.connect(tmp_path / "cep.sqlite3", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        database.dispose()


def test_acknowledged_writes_survive_sigkill(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("CEP_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    tokens = [make_token(f"crash-{i:02d}") for i in range(TOKENS)]
    server = AppServer(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=make_token("secret"),
        api_tokens={f"crash-{i:02d}": token for i, token in enumerate(tokens)},
    )
    ledger = Ledger()
    began = time.monotonic()
    reports: list[CycleReport] = []
    database = Database(database_url)
    try:
        try:
            server.start()
            for cycle in range(CYCLES):
                run_cycle(server, ledger, tokens, cycle, rng, MAX_RUN, reports, database)
        finally:
            server.kill()
        found = check_database(database, ledger)
    finally:
        database.dispose()
    elapsed = time.monotonic() - began
    backend = make_url(database_url).get_backend_name()
    locked = server.count_in_log(LOCKED)
    startups = sorted(server.startup_seconds)
    with capsys.disabled():
        print(
            f"\n[crash {backend}] seed={seed} cycles={CYCLES} workers={WORKERS} "
            f"acknowledged writes={ledger.acked()} {dict(ledger.acknowledged)} "
            f"read back={sum(r.cases_checked for r in reports)} case reads, "
            f"in doubt at the kill={ledger.in_doubt}, rate-limited={ledger.rate_limited}, "
            f"lost=0; database: {found.cases} cases, {found.events} journal lines, "
            f"{found.sessions} sessions, integrity={found.integrity}; "
            f"'{LOCKED}'={locked}; back up after a kill in "
            f"{startups[len(startups) // 2]:.2f} s (median); "
            f"{elapsed:.1f} s"
        )
    assert len(reports) == CYCLES
    assert not ledger.refused, f"unexpected refusals: {dict(ledger.refused)}"
    # The harness did its job: writes were acknowledged, and kills landed mid-request.
    assert ledger.acknowledged["create"] >= CYCLES // 4, dict(ledger.acknowledged)
    assert ledger.acknowledged["session"] > 0 and ledger.acknowledged["step_draft"] > 0
    assert ledger.in_doubt > 0, "no kill ever interrupted a request"
    assert locked == 0, f"REL-09: « {LOCKED} » in the server log:\n{server.log_tail()}"
