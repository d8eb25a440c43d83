"""Fixtures of the API fuzz suite: one seeded world per session (see ``fuzz_world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzz_world import FuzzWorld


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzWorld]:
    """The seeded kit and its app, shared by every fuzz test (they only add data to it)."""
    built = FuzzWorld(tmp_path_factory.mktemp("fuzz"))
    yield built
    built.close()
