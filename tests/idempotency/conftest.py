"""Fixtures for the idempotency tests: the API of small fake operators on SQLite and
PostgreSQL; the world itself is in ``tests/support/idempotency_world.py``.

Building a migrated database and an app takes seconds on a loaded machine, so one world is
built per module and backend, and tests keep to themselves instead: their own keys and
bodies, row counts taken as differences (``delta``), and a clock moved one day ahead at each
test (fresh rate-limit windows, and no key of an earlier test still running).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from idempotency_world import BACKENDS, Delta, World, backend_world


@pytest.fixture(scope="module", params=BACKENDS)
def shared_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from backend_world(request, tmp_path_factory)


@pytest.fixture
def world(shared_world: World) -> World:
    shared_world.clock.advance(days=1)
    shared_world.renderer.calls = 0
    return shared_world


@pytest.fixture
def delta(world: World) -> Delta:
    from cep_core.storage import tables

    counter = Delta(world)
    for table in tables.metadata.sorted_tables:
        counter.start[table.name] = counter.count(table)
    return counter
