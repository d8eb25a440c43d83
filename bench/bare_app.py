"""The baselines of ``bench/throughput.py``: a bare Litestar app, echoing or doing raw SQL.

    uv run python bench/bare_app.py --port 8001
    uv run python bench/bare_app.py --port 8002 --database sqlite:///tmp/bare.sqlite3
    uv run python bench/bare_app.py --port 8002 --database postgresql://postgres@127.0.0.1/cep

Same server and settings as ``cep serve`` (uvicorn, one worker, loop and HTTP implementation
left to uvicorn's ``auto`` choice, no access log, warnings only, no ``server`` header), and
the same kind of JSON body as the kit's endpoints, decoded strictly into a bounded Struct:
what is left when the kit's work (hooks, rules, storage, authentication, security headers)
is taken away.

- ``POST /echo``, ``GET /echo/{id}``, ``PUT /echo/{id}``: echoes that touch no database (the
  issue's literal baseline);
- ``GET /db/{id}``, ``PUT /db/{id}``: the *minimal* raw database work for the same answer
  as the kit's case read and step write, with the kit's durability, on the database given
  by ``--database`` (503 without it). They are ``sync_to_thread=True``: the blocking
  database calls run in a worker thread, as the kit's handlers do, each thread with its
  own raw DB-API connection (``threading.local``, opened on first use): stdlib
  ``sqlite3`` with the kit's PRAGMAs (WAL, ``synchronous=FULL``, busy timeout) and explicit
  ``BEGIN`` / ``BEGIN IMMEDIATE`` / ``COMMIT``, or psycopg 3 (autocommit off, default
  ``synchronous_commit``: durable). Table ``bare_items(id, body, version)``, created and
  filled by `prepare` (the benchmark calls it before starting this server).
"""

from __future__ import annotations

import argparse
import sqlite3
import threading
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Litestar, Response, get, post, put
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from litestar.params import Body

if TYPE_CHECKING:
    import psycopg

Short = Annotated[str, msgspec.Meta(max_length=40)]


class Echo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The orientation body's shape (a situation), bounded like the kit's input Structs."""

    birth_date: date
    status: Short
    as_of: date | None = None
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False
    region: Annotated[str, msgspec.Meta(max_length=3)] | None = None


class Draft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A step draft's shape (``PUT .../steps/{id}``)."""

    data: dict[str, Annotated[str, msgspec.Meta(max_length=2000)]]
    complete: bool = False


class Item(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    echo: str


# -- raw database access -----------------------------------------------------------------------

CREATE = (
    "CREATE TABLE bare_items (id TEXT PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL)"
)
READ_SQLITE = "SELECT body, version FROM bare_items WHERE id = ?"
READ_POSTGRESQL = "SELECT body, version FROM bare_items WHERE id = %s"
# The draft is merged into the stored body (under "draft") by the database, in the one
# UPDATE: the next read then answers it, as the kit's does, and bodies keep their size.
WRITE_SQLITE = (
    "UPDATE bare_items SET body = json_set(body, '$.draft', json(?)), version = version + 1 "
    "WHERE id = ? RETURNING version"
)
WRITE_POSTGRESQL = (
    "UPDATE bare_items SET body = jsonb_set(body::jsonb, '{draft}', %s::jsonb)::text, "
    "version = version + 1 WHERE id = %s RETURNING version"
)


class Store:
    """``bare_items`` through one raw DB-API connection per worker thread.

    A connection is opened lazily by the thread that first needs it and kept for that
    thread's life (the kit's pool plays the same part); all of them are closed at shutdown.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgresql = not url.startswith("sqlite:")
        self._local = threading.local()
        self._opened: list[sqlite3.Connection | psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    def read(self, item_id: str) -> tuple[str, int] | None:
        """The item's body and version, in one read transaction; None if absent."""
        row = self._one(READ_POSTGRESQL, READ_SQLITE, (item_id,), begin="BEGIN")
        return None if row is None else (str(row[0]), int(row[1]))

    def write(self, item_id: str, draft: bytes) -> int | None:
        """Merge `draft` into the item and bump its version, in one durable write
        transaction (``BEGIN IMMEDIATE`` on SQLite); the new version, None if absent."""
        row = self._one(
            WRITE_POSTGRESQL, WRITE_SQLITE, (draft.decode(), item_id), begin="BEGIN IMMEDIATE"
        )
        return None if row is None else int(row[0])

    def _one(
        self, postgresql: str, sqlite: str, params: tuple[str, ...], *, begin: str
    ) -> tuple[Any, ...] | None:
        """One statement in a transaction of its own (the dialect's spelling): its first
        row, None if there is none; rolled back if anything fails."""
        if self.postgresql:
            pg = self._postgresql()
            try:
                pg_row: tuple[Any, ...] | None = pg.execute(postgresql, params).fetchone()
                pg.commit()
            except BaseException:
                pg.rollback()
                raise
            return pg_row
        lite = self._sqlite()
        lite.execute(begin)
        try:
            row: tuple[Any, ...] | None = lite.execute(sqlite, params).fetchone()
            lite.execute("COMMIT")
        except BaseException:
            lite.execute("ROLLBACK")
            raise
        return row

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()

    def _sqlite(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect_sqlite(self.url)
            self._keep(connection)
        return connection

    def _postgresql(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect_postgresql(self.url)
            self._keep(connection)
        return connection

    def _keep(self, connection: sqlite3.Connection | psycopg.Connection[Any]) -> None:
        self._local.connection = connection
        with self._lock:
            self._opened.append(connection)


def connect_sqlite(url: str) -> sqlite3.Connection:
    """The kit's SQLite connection: sqlite3 leaves BEGIN to us, the kit's PRAGMAs (imported
    here, not at the top: the echo server need not load the kit and SQLAlchemy). Used by
    one thread only, but closed at shutdown by another: hence ``check_same_thread=False``."""
    from cep_core.storage.database import BUSY_TIMEOUT_MS, SQLITE_PRAGMAS

    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(
        path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    for pragma in SQLITE_PRAGMAS:
        connection.execute(pragma).fetchall()
    return connection


def connect_postgresql(url: str) -> psycopg.Connection[Any]:
    """A psycopg 3 connection, autocommit off; accepts the SQLAlchemy spelling
    (``postgresql+psycopg://``) and libpq DSNs (``host=... dbname=...``)."""
    import psycopg

    for prefix in ("postgresql+psycopg://", "postgres+psycopg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url.removeprefix(prefix)
    return psycopg.connect(url, autocommit=False)


def check_url(url: str) -> str:
    """`url` if it names a database this app can open, else a clear error."""
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return url
    if url.startswith(("postgresql:", "postgresql+psycopg:", "postgres:", "postgres+psycopg:")):
        return url
    if "=" in url and not url.startswith("sqlite:"):
        return url  # a libpq DSN
    raise ValueError(
        f"base de données non prise en charge : {url!r} (sqlite:///chemin, postgresql://… "
        "ou une chaîne de connexion libpq)"
    )


def prepare(url: str, items: Iterable[tuple[str, str]]) -> int:
    """(Re)create ``bare_items`` and fill it with `items` (id, JSON body) at version 1;
    the number of rows. Called by the benchmark before it starts the server."""
    rows = [(item_id, body, 1) for item_id, body in items]
    if url.startswith("sqlite:"):
        lite = connect_sqlite(check_url(url))
        try:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute("DROP TABLE IF EXISTS bare_items")
            lite.execute(CREATE)
            lite.executemany("INSERT INTO bare_items VALUES (?, ?, ?)", rows)
            lite.execute("COMMIT")
        finally:
            lite.close()
    else:
        with connect_postgresql(check_url(url)) as pg:
            pg.execute("DROP TABLE IF EXISTS bare_items")
            pg.execute(CREATE)
            with pg.cursor() as cursor:
                cursor.executemany("INSERT INTO bare_items VALUES (%s, %s, %s)", rows)
            pg.commit()
    return len(rows)


# -- the app -----------------------------------------------------------------------------------

NO_DATABASE = (
    "Aucune base de données : lancez bench/bare_app.py avec --database sqlite:///chemin "
    "ou --database postgresql://…"
)


def create_app(store: Store | None = None) -> Litestar:
    """The echo routes always; the ``/db`` routes answer 503 without a `store`."""

    @post("/echo", sync_to_thread=False, status_code=200)
    def echo(data: Annotated[Echo, Body()]) -> Echo:
        return data

    @get("/echo/{item_id:str}", sync_to_thread=False)
    def read(item_id: str) -> Item:
        return Item(id=item_id, echo="lu")

    @put("/echo/{item_id:str}", sync_to_thread=False)
    def write(item_id: str, data: Annotated[Draft, Body()]) -> Draft:
        return data

    class Db(Controller):
        """The raw database routes. A controller, not two plain handlers: with Litestar
        2.25, a plain GET and PUT on one path, both ``sync_to_thread=True`` and answering a
        ``Response``, made the second registered answer 500 ("coroutine 'sync_to_thread'
        was never awaited"); a controller's handlers do not."""

        path = "/db"

        @get("/{item_id:str}", sync_to_thread=True)
        def read(self, item_id: str) -> Response[Any]:
            """The stored JSON, decoded and answered again (the kit builds its answer too)."""
            if store is None:
                raise ServiceUnavailableException(detail=NO_DATABASE)
            found = store.read(item_id)
            if found is None:
                raise NotFoundException(detail="Élément inconnu.")
            body, version = found
            return Response(msgspec.json.decode(body), headers={"ETag": f'"{version}"'})

        @put("/{item_id:str}", sync_to_thread=True)
        def write(self, item_id: str, data: Annotated[Draft, Body()]) -> Response[Draft]:
            """The draft merged into the item in one durable commit; the draft, new ETag."""
            if store is None:
                raise ServiceUnavailableException(detail=NO_DATABASE)
            version = store.write(item_id, msgspec.json.encode(data))
            if version is None:
                raise NotFoundException(detail="Élément inconnu.")
            return Response(data, headers={"ETag": f'"{version}"'})

    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(
        route_handlers=[echo, read, write, Db, ping],
        on_shutdown=[store.close] if store is not None else [],
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Bare Litestar app (baselines).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--database",
        help="sqlite:///path or a postgresql:// URL / libpq DSN for the /db routes "
        "(table bare_items, filled beforehand by prepare())",
    )
    args = parser.parse_args()
    store = None
    if args.database:
        try:
            store = Store(check_url(args.database))
        except ValueError as exc:
            parser.error(str(exc))
    # The very call `cep serve` makes (cep_core/cli/commands.py).
    uvicorn.run(
        create_app(store),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
