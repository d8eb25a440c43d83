"""Fixtures for the appointment-request tests: kits with the real operator plugins on a
migrated database (SQLite and PostgreSQL through ``database_url``) and a clock that stands
still until told to move. Helpers are in ``tests/support/request_helpers.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from request_helpers import FakeClock, build_kit

from cep_core.kit import Kit
from cep_core.settings import MailSettings

KitBuilder = Callable[..., Kit]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_kit(tmp_path: Path, clock: FakeClock) -> Iterator[KitBuilder]:
    """SQLite kits (page and API tests), closed at teardown."""
    built: list[Kit] = []

    def build(**settings: Any) -> Kit:
        kit = build_kit(tmp_path / f"kit{len(built)}", clock, **settings)
        built.append(kit)
        return kit

    yield build
    for kit in built:
        kit.close()


@pytest.fixture
def db_kit(tmp_path: Path, clock: FakeClock, database_url: str) -> Iterator[Kit]:
    """A kit on SQLite or PostgreSQL (the service tests run on both)."""
    kit = build_kit(
        tmp_path,
        clock,
        database_url,
        mail=MailSettings(fallback_queue_address="file-cep@plateforme.exemple.fr"),
    )
    yield kit
    kit.close()
