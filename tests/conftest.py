"""Shared database fixtures: the same tests run on SQLite and on a real PostgreSQL.

Fixtures (this file holds database fixtures only):

- ``database_url``, parametrized ``[sqlite]`` / ``[postgresql]``: the URL of an empty
  database for one test (a SQLite file in ``tmp_path``; on PostgreSQL, the session's scratch
  database with its ``public`` schema dropped and recreated);
- ``empty_database``: a `Database` on it, not migrated (for migration tests);
- ``database``: the same, upgraded to the newest revision;
- ``postgres_server`` (session): the PostgreSQL server those databases are created on.

Which PostgreSQL server, in order:

1. ``CEP_TEST_POSTGRES_URL`` (its role must be allowed to CREATE DATABASE);
2. the libpq variables ``PGHOST`` / ``PGPORT`` / ``PGUSER`` / ``PGPASSWORD`` / ``PGDATABASE``
   when ``PGHOST`` is set — what ``pg_virtualenv -v 15 <command>`` (and ``.ci/run``) exports;
3. with ``CEP_REQUIRE_POSTGRES=1``, the PostgreSQL tests FAIL here: CI must not silently skip;
4. otherwise a throw-away cluster started for the session (``initdb -A trust`` in a temp
   folder, 127.0.0.1 on a free port, ``fsync=off``; through ``runuser -u postgres`` when run
   as root, since PostgreSQL refuses to run as root), stopped and removed at the end;
5. if even that is impossible, the PostgreSQL tests are skipped with the precise reason.

``-m "not postgres"`` runs the SQLite half only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from cep_core.storage.database import Database, normalize_url

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


class PostgresServer:
    """A PostgreSQL server, and one scratch database on it for the whole session.

    Each test gets that database with a brand-new ``public`` schema (dropping and recreating
    it takes milliseconds, where CREATE DATABASE takes a quarter of a second); it is dropped
    at the end of the session.
    """

    def __init__(self, admin_url: URL, origin: str) -> None:
        self.admin_url = admin_url
        self.origin = origin  # where the URL came from, for messages
        self.admin: Engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"cep_test_{uuid.uuid4().hex[:16]}"
        self.url = admin_url.set(database=self.name)
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE template0'))
        self.scratch: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def clean_database(self) -> str:
        """The scratch database's URL, emptied: no tables, functions or leftover sessions."""
        with self.scratch.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        return self.url.render_as_string(hide_password=False)

    def close(self) -> None:
        self.scratch.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _url_from_libpq_env() -> URL | None:
    host = os.environ.get("PGHOST")
    if not host:
        return None
    user = os.environ.get("PGUSER") or pwd.getpwuid(os.geteuid()).pw_name
    query = {}
    if host.startswith("/"):  # a socket directory, not a host name
        query["host"] = host
    return URL.create(
        "postgresql+psycopg",
        username=user,
        password=os.environ.get("PGPASSWORD") or None,
        host=None if query else host,
        port=int(os.environ.get("PGPORT") or 5432),
        database=os.environ.get("PGDATABASE") or user,
        query=query,
    )


class _Unavailable(Exception):
    """No throw-away cluster could be started; the message says why."""


class ThrowAwayCluster:
    """A PostgreSQL cluster in a temp folder, for this test session only."""

    def __init__(self) -> None:
        self.bindir = _postgres_bindir()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise _Unavailable("running as root and there is no 'postgres' user") from exc
            if runuser is None:
                raise _Unavailable("running as root and 'runuser' is not installed")
            self.as_postgres = [runuser, "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="cep-pg-"))
        try:
            if self.as_postgres:
                os.chown(self.root, account.pw_uid, account.pw_gid)
            self.root.chmod(0o700)
        except OSError:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        self.data = self.root / "data"
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        command = [*self.as_postgres, *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise _Unavailable(f"{' '.join(args[:1])} failed: {' | '.join(detail)}")

    def start(self) -> URL:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        self.started = True
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(_Unavailable):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bindir() -> Path:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise _Unavailable("initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql/*/bin)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pytest_report_header() -> str:
    """Say up front which PostgreSQL the ``[postgresql]`` tests will use."""
    if os.environ.get("CEP_TEST_POSTGRES_URL"):
        where = "CEP_TEST_POSTGRES_URL"
    elif (url := _url_from_libpq_env()) is not None:
        where = f"libpq environment (PGHOST), {url.render_as_string(hide_password=True)}"
    elif os.environ.get("CEP_REQUIRE_POSTGRES") == "1":
        where = "none given, and CEP_REQUIRE_POSTGRES=1: those tests will fail"
    else:
        where = "a throw-away cluster, started on first use"
    return f"cep-kit PostgreSQL tests: {where}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    cluster: ThrowAwayCluster | None = None
    explicit = os.environ.get("CEP_TEST_POSTGRES_URL")
    if explicit:
        url, origin = normalize_url(explicit), "CEP_TEST_POSTGRES_URL"
    elif (from_env := _url_from_libpq_env()) is not None:
        url, origin = from_env, "PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE"
    elif os.environ.get("CEP_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            "CEP_REQUIRE_POSTGRES=1 but no PostgreSQL given: set CEP_TEST_POSTGRES_URL, or run "
            "the tests under `pg_virtualenv -v 15 ...` (it exports PGHOST and friends).",
            pytrace=False,
        )
    else:
        try:
            cluster = ThrowAwayCluster()
            url, origin = cluster.start(), "a throw-away cluster started by tests/conftest.py"
        except (_Unavailable, OSError, subprocess.SubprocessError) as exc:
            if cluster is not None:
                cluster.stop()
            pytest.skip(
                "PostgreSQL tests skipped: no CEP_TEST_POSTGRES_URL, no PGHOST, and no "
                f"throw-away cluster could be started ({exc})"
            )
    try:
        server = PostgresServer(url, origin)
    except Exception as exc:
        if cluster is not None:
            cluster.stop()
        pytest.fail(
            f"PostgreSQL from {origin} is unusable (unreachable, or CREATE DATABASE refused): "
            f"{exc}",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.close()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cep.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.clean_database()


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def database(empty_database: Database) -> Database:
    empty_database.upgrade()
    return empty_database
