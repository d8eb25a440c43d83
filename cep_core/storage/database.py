"""`Database`: one engine, its transactions, its migrations and its durability checks.

SQLite is the default because it needs nothing set up, and it is made durable: WAL,
``synchronous=FULL`` (``NORMAL`` may lose the last commits on power loss), foreign keys on and
a busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
lock instead of failing half-way with "database is locked" (REL-07). PostgreSQL is used
through psycopg 3 when the URL says so; `check_durability()` reports non-durable server
settings (REL-08); `ensure_durable()` is called at start-up by ``create_app`` and ``cep serve``,
not here. Test clusters run with ``fsync=off`` on purpose: they are served only with the
explicit, test-only ``CEP_ALLOW_NON_DURABLE_DATABASE=1`` (refused in production).

Only synchronous drivers are used (stdlib sqlite3, psycopg 3): per statement they are much
faster than their asyncio wrappers, and web handlers run them in a thread.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from cep_core.errors import DatabaseConfigError, DatabaseNotDurable

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("cep_core.storage")

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    # 128 MiB of page cache per connection (default 2 MiB), filled only as pages are read:
    # a name search at a million cases probes a few thousand index entries spread over the
    # file, and the default cache halves its speed (bench/scale.py).
    "PRAGMA cache_size=-131072",
)
# Execution option that marks the write engine: its transactions begin IMMEDIATE on SQLite.
WRITE_OPTION = "cep_write"
# Key of the PostgreSQL advisory lock that serialises concurrent migrations ("cep-kit").
MIGRATION_LOCK_KEY = 0x6365_706B_6974


class Severity(enum.StrEnum):
    ERROR = "error"  # start-up must refuse
    WARNING = "warning"  # start-up goes on, and says it


class DurabilityProblem(msgspec.Struct, frozen=True, kw_only=True):
    """A server setting that may lose acknowledged writes, with a French explanation."""

    setting: str
    value: str
    severity: Severity
    message: str

    @property
    def refuses_start(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        prefix = "ERREUR" if self.refuses_start else "ATTENTION"
        return f"{prefix} : {self.message}"


def normalize_url(url: str) -> URL:
    """Parse `url`, pin the synchronous driver, and refuse what the kit does not support.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3; SQLAlchemy
    would otherwise pick psycopg2, which is not installed).
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"Adresse de base de données illisible : {exc}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite+pysqlite")
    raise DatabaseConfigError(
        f"Base de données non prise en charge : « {parsed.drivername} ». Utilisez "
        "sqlite:///chemin/vers/fichier.sqlite3 ou postgresql://utilisateur@hôte/base "
        "(pilotes synchrones sqlite3 et psycopg 3 uniquement)."
    )


class WriteCompanion(Protocol):
    """Rows that must commit with the next write of a unit of work, never apart from it."""

    def before_commit(self, connection: Connection) -> None: ...


_companion: ContextVar[WriteCompanion | None] = ContextVar("cep_write_companion", default=None)


@contextmanager
def accompanying_writes(companion: WriteCompanion) -> Iterator[None]:
    """Within this block (and the worker threads it starts, which copy the context), every
    `Database.write` calls ``companion.before_commit(connection)`` before committing.

    The web layer's audit event of a change rides in the change's own transaction: one
    durable commit per request instead of two, and never a change without its event.
    """
    token = _companion.set(companion)
    try:
        yield
    finally:
        _companion.reset(token)


class Database:
    """The kit's database: build one per `Kit`, `upgrade()` it, then `read()` and `write()`.

    ``write()`` is one transaction (``BEGIN IMMEDIATE`` on SQLite) committed on success and
    rolled back on any exception; ``read()`` is one transaction too (a consistent snapshot),
    always rolled back. Repositories take the connection these yield.
    """

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine: Engine = (
            _sqlite_engine(self.url) if self.dialect == "sqlite" else _postgresql_engine(self.url)
        )
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self._writers = threading.RLock() if self.dialect == "sqlite" else None
        # Durability problems already logged by this instance (`ensure_durable` says each once).
        self._reported: set[str] = set()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.url.get_backend_name()

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._queue_writers(), self._write_engine.begin() as connection:
            yield connection
            companion = _companion.get()
            if companion is not None:  # its rows commit with this transaction, or not at all
                companion.before_commit(connection)

    @contextmanager
    def _queue_writers(self) -> Iterator[None]:
        """On SQLite, this process's writers take turns on a lock before ``BEGIN IMMEDIATE``.

        SQLite's busy handler makes a blocked writer sleep and retry (1, 2, 5, 10... ms) and
        lets it lose to newcomers: under load, a write could wait a hundred times its own
        duration. A lock wakes the next writer when the previous one commits. Only an
        optimisation: past the busy timeout it goes on, and SQLite decides as before (other
        processes, such as ``cep purge``, always queue through SQLite).
        """
        if self._writers is None:
            yield
            return
        held = self._writers.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            yield
        finally:
            if held:
                self._writers.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin() as transaction:
            try:
                yield connection
            finally:
                transaction.rollback()

    def dispose(self) -> None:
        """Close every pooled connection (the kit's `close()` calls it)."""
        self.engine.dispose()

    # -- migrations ------------------------------------------------------------------------

    def _alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        config.set_main_option("path_separator", "os")
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` in one transaction; a no-op when already there.

        Concurrent start-ups are safe: SQLite's ``BEGIN IMMEDIATE`` and a PostgreSQL advisory
        lock make the second process wait, then find nothing left to do. Within one process,
        call it from one thread at start-up (Alembic's migration context is process-global).
        """
        from alembic import command

        config = self._alembic_config()
        with self.write() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        """The schema's Alembic revision, or None for a database never upgraded."""
        from alembic.runtime.migration import MigrationContext

        with self.read() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision this version of the kit knows."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    # -- durability (REL-07, REL-08) -------------------------------------------------------

    def check_durability(self) -> list[DurabilityProblem]:
        """Settings that could lose acknowledged writes; empty when all is well.

        Not called automatically: ``create_app`` and ``cep serve`` call `ensure_durable()`,
        while test clusters (``pg_virtualenv``) run with ``fsync=off`` by design.
        """
        with self.read() as connection:
            if self.dialect == "postgresql":
                rows = connection.execute(
                    text(
                        "SELECT name, setting FROM pg_settings WHERE name IN "
                        "('fsync', 'full_page_writes', 'synchronous_commit')"
                    )
                )
                return _postgresql_problems({str(name): str(value) for name, value in rows})
            journal = str(connection.exec_driver_sql("PRAGMA journal_mode").scalar_one())
            synchronous = str(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())
        return _sqlite_problems(journal, synchronous, self.url.database)

    def ensure_durable(self, *, allow_non_durable: bool = False) -> list[DurabilityProblem]:
        """Raise `DatabaseNotDurable` on any error-level problem; log and return the others.

        `allow_non_durable` (``CEP_ALLOW_NON_DURABLE_DATABASE``, tests only) logs errors too
        instead of raising. Each problem is logged once per `Database`: ``cep serve`` checks
        before building the app, and ``create_app`` checks again without repeating it.
        """
        problems = self.check_durability()
        errors = [p for p in problems if p.refuses_start]
        if errors and not allow_non_durable:
            raise DatabaseNotDurable([p.message for p in errors])
        for problem in problems:
            if problem.setting in self._reported:
                continue
            self._reported.add(problem.setting)
            tolerated = (
                " (toléré : CEP_ALLOW_NON_DURABLE_DATABASE=1, réservé aux tests)"
                if problem.refuses_start
                else ""
            )
            log.warning("%s%s", problem, tolerated)
        return problems


# -- engines ---------------------------------------------------------------------------------


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's pysqlite recipe: stop sqlite3 from managing BEGIN (it skips it for SELECT
    # and DDL); `_sqlite_on_begin` emits our own, so reads and DDL are transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma).fetchall()
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Straight to the driver: through `exec_driver_sql` the BEGIN of a case read cost more
    # than its SELECTs (SQLAlchemy's statement pipeline, for a statement without results).
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    driver = connection.connection.dbapi_connection
    assert driver is not None  # a connection being begun is checked out
    driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_engine(url: URL) -> Engine:
    return create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
        pool_recycle=1800,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 10,
            "application_name": "cep-kit",
            "options": "-c timezone=UTC",
        },
    )


# -- durability rules ------------------------------------------------------------------------


def _postgresql_problems(settings: dict[str, str]) -> list[DurabilityProblem]:
    problems: list[DurabilityProblem] = []
    for name in ("fsync", "full_page_writes"):
        value = settings.get(name, "on")
        if value != "on":
            problems.append(
                DurabilityProblem(
                    setting=name,
                    value=value,
                    severity=Severity.ERROR,
                    message=(
                        f"PostgreSQL tourne avec {name}={value} : une panne du système peut "
                        "corrompre la base de façon irrécupérable. Remettez "
                        f"{name}=on avant de démarrer le kit (voir la documentation de "
                        "PostgreSQL, « Non-Durable Settings »)."
                    ),
                )
            )
    synchronous_commit = settings.get("synchronous_commit", "on")
    if synchronous_commit == "off":
        problems.append(
            DurabilityProblem(
                setting="synchronous_commit",
                value=synchronous_commit,
                severity=Severity.WARNING,
                message=(
                    "PostgreSQL tourne avec synchronous_commit=off : les dernières "
                    "modifications confirmées peuvent être perdues en cas de panne (la base "
                    "reste cohérente). Préférez synchronous_commit=on."
                ),
            )
        )
    return problems


def _sqlite_problems(
    journal_mode: str, synchronous: str, database: str | None
) -> list[DurabilityProblem]:
    problems: list[DurabilityProblem] = []
    in_memory = not database or database == ":memory:"
    if journal_mode.lower() != "wal" and not in_memory:
        problems.append(
            DurabilityProblem(
                setting="journal_mode",
                value=journal_mode,
                severity=Severity.ERROR,
                message=(
                    f"SQLite n'est pas en mode WAL (journal_mode={journal_mode}) : le fichier "
                    "est peut-être sur un partage réseau, où SQLite ne garantit pas "
                    "l'intégrité. Placez la base sur un disque local."
                ),
            )
        )
    if synchronous != "2":
        problems.append(
            DurabilityProblem(
                setting="synchronous",
                value=synchronous,
                severity=Severity.ERROR,
                message=(
                    f"SQLite tourne avec synchronous={synchronous} au lieu de FULL (2) : une "
                    "coupure de courant pourrait effacer des modifications confirmées."
                ),
            )
        )
    return problems
