"""Fixtures of the workspace page tests: `world`, a kit with the real operator plugins on
SQLite and PostgreSQL (``database_url``), staff of two operators and their app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pages import make_staff, page_kit
from workspace_pages import World

from cep_core.web.app import create_app


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    kit = page_kit(tmp_path, database_url)
    world = World(
        kit=kit,
        app=create_app(kit),
        tmp_path=tmp_path,
        counsellor=make_staff(kit, operator="apec", name="Claire Martin"),
        colleague=make_staff(kit, operator="apec", name="Hugo Bernard"),
        manager=make_staff(kit, operator="apec", role="manager", name="Inès Petit"),
        stranger=make_staff(kit, operator="regional", name="Paul Girard"),
    )
    yield world
    kit.close()
