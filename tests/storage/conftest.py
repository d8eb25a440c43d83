"""Fixtures for the storage tests: fake operator plugins, a settable clock, the case service.

The fake operators are defined here rather than taken from plugins/ so these tests depend on
the core only; they record the case events they are told of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from cep_core import (
    CaseEvent,
    Competence,
    DatedLabel,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Situation,
    hookimpl,
)
from cep_core.kit import Kit
from cep_core.services.cases import CaseService
from cep_core.settings import Settings
from cep_core.storage.database import Database

OPERATORS = ("op_a", "op_b")


class FakeOperator:
    """An operator plugin with an identity, an event listener and a competence for everyone
    (``competent = False`` makes the orientation leave it out)."""

    operator_id = "?"

    def __init__(self) -> None:
        self.events: list[tuple[OperatorContext, CaseEvent]] = []
        self.fail_on_events = False
        self.on_event: Callable[[OperatorContext, CaseEvent], None] | None = None
        self.competent = True

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(
            operator=self.operator_id,
            competent=self.competent,
            name=f"Opérateur {self.operator_id}",
            reason="Compétent pour tous." if self.competent else "Compétent pour personne.",
        )

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id=self.operator_id,
            kind=PluginKind.OPERATOR,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value=self.operator_id, source="t"),),
            core_range=">=0",
        )

    @hookimpl
    def cep_case_event(self, ctx: OperatorContext, event: CaseEvent) -> None:
        if self.fail_on_events:
            raise RuntimeError("listener broken on purpose")
        if self.on_event is not None:
            self.on_event(ctx, event)
        self.events.append((ctx, event))


def make_operator(operator_id: str) -> FakeOperator:
    # One class per operator: the registry names plugins after their class.
    cls = type(f"FakeOperator_{operator_id}", (FakeOperator,), {"operator_id": operator_id})
    plugin: FakeOperator = cls()
    return plugin


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def plugins() -> dict[str, FakeOperator]:
    return {operator_id: make_operator(operator_id) for operator_id in OPERATORS}


def build_kit(
    plugins: dict[str, FakeOperator], tmp_path: Path, clock: FakeClock, url: str | None = None
) -> Kit:
    return Kit(
        list(plugins.values()),
        settings=Settings(data_dir=tmp_path, database_url=url),
        load_entrypoints=False,
        clock=clock,
    )


class KitFactory(Protocol):
    def __call__(self, url: str | None = None, operators: Sequence[str] | None = None) -> Kit: ...


@pytest.fixture
def kit_factory(
    plugins: dict[str, FakeOperator], tmp_path: Path, clock: FakeClock
) -> Iterator[KitFactory]:
    """Build kits (closed at teardown) on a database URL, with the fake operators ``op_a`` and
    ``op_b`` or, when `operators` is given, fresh fake operators with those ids."""
    built: list[Kit] = []

    def factory(url: str | None = None, operators: Sequence[str] | None = None) -> Kit:
        chosen = plugins if operators is None else {o: make_operator(o) for o in operators}
        kit = build_kit(chosen, tmp_path, clock, url)
        kit.check()
        built.append(kit)
        return kit

    yield factory
    for kit in built:
        kit.close()


@pytest.fixture
def kit(plugins: dict[str, FakeOperator], tmp_path: Path, clock: FakeClock) -> Iterator[Kit]:
    """A kit with the fake operators; its hooks serve the `cases` fixture."""
    kit = build_kit(plugins, tmp_path, clock)
    kit.check()
    yield kit
    kit.close()


@pytest.fixture
def cases(database: Database, kit: Kit, clock: FakeClock) -> CaseService:
    return CaseService(database, kit.hooks, clock=clock)
