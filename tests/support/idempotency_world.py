"""Helpers for the idempotency and fault-injection tests: the API of small fake operators
(``cases_http``) with a clock that stands still until told to move and a renderer that answers
a tiny PDF at once (no WeasyPrint: these tests are about HTTP and the database)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cases_http import Alpha, Beta, CaseClient, token
from litestar import Litestar
from litestar.testing import TestClient
from request_helpers import FakeClock
from sqlalchemy import func, select

from cep_core import DatedLabel, PluginInfo, PluginKind, RenderRequest, hookimpl
from cep_core.kit import Kit
from cep_core.settings import Settings, parse_api_tokens
from cep_core.web import create_app

# The databases of a module-scoped world (``params=BACKENDS``); ``database_url`` in
# tests/conftest.py is per test, too short-lived for a world shared by a module.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
TOKENS = {"alpha": token("a"), "alpha-2": token("b"), "beta": token("c")}
FAKE_PDF = b"%PDF-1.7\n% test renderer\n%%EOF\n"


class FakeRenderer:
    """Answers before the default renderer, with a fixed tiny PDF; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id="test.renderer",
            kind=PluginKind.CAPABILITY,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Rendu", source="t"),),
            core_range=">=0",
        )

    @hookimpl
    def cep_render_pdf(self, request: RenderRequest) -> bytes:
        self.calls += 1
        return FAKE_PDF


@dataclass
class World:
    kit: Kit
    app: Litestar
    http: TestClient[Litestar]
    alpha: CaseClient  # counsellor c-alpha, operator alpha
    alpha2: CaseClient  # counsellor c-alpha-2, operator alpha
    beta: CaseClient  # counsellor c-beta, operator beta
    operators: dict[str, Any]
    renderer: FakeRenderer
    clock: FakeClock  # stands still until told to move
    data_dir: Path


class Delta:
    """Row counts of tables at the start of a test, to assert what the test itself added."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.start: dict[str, int] = {}

    def count(self, table: Any) -> int:
        with self.world.kit.database.read() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())

    def __call__(self, table: Any) -> int:
        """How many rows `table` gained since the test began."""
        return self.count(table) - self.start.setdefault(table.name, 0)


def build_world(
    tmp_path: Path,
    database_url: str | None,
    *,
    operators: dict[str, Any] | None = None,
    extra: Sequence[object] = (),
) -> Iterator[World]:
    """The app on a migrated database: `operators` (alpha and beta by default), the fake
    renderer and the `extra` plugins (registered last: their hooks are called first)."""
    operators = operators or {"alpha": Alpha(), "beta": Beta()}
    renderer = FakeRenderer()
    entries = ",".join(
        [
            f"alpha:c-alpha:{TOKENS['alpha']}",
            f"alpha:c-alpha-2:{TOKENS['alpha-2']}",
            f"beta:c-beta:{TOKENS['beta']}",
        ]
    )
    clock = FakeClock()
    data_dir = tmp_path / "data"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{tmp_path / 'cep.sqlite3'}",
        api_tokens=parse_api_tokens(entries, "test"),
        hash_profile="fast",
        allow_non_durable_database=True,  # test clusters run with fsync=off on purpose
    )
    kit = Kit(
        [*operators.values(), renderer, *extra],
        settings=settings,
        load_entrypoints=False,
        clock=clock,
    )
    kit.database.upgrade()
    app = create_app(kit)
    try:
        with TestClient(app) as http:
            yield World(
                kit=kit,
                app=app,
                http=http,
                alpha=CaseClient(http, TOKENS["alpha"]),
                alpha2=CaseClient(http, TOKENS["alpha-2"]),
                beta=CaseClient(http, TOKENS["beta"]),
                operators=operators,
                renderer=renderer,
                clock=clock,
                data_dir=data_dir,
            )
    finally:
        kit.close()


def backend_world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    extra: Sequence[object] = (),
) -> Iterator[World]:
    """`build_world` on the database named by ``request.param`` (one of `BACKENDS`): a new
    SQLite file, or the session's PostgreSQL scratch database, emptied."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").clean_database()
    yield from build_world(tmp_path_factory.mktemp("world"), url, extra=extra)
