"""Fixtures for the web tests: kits made of small fake plugins, and a fixed clock.

The real operator plugins live in their own distributions; here fake operators keep each
test about the HTTP layer (shape, status codes, messages), whatever the operators' rules.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cep_core import (
    Competence,
    Contact,
    DatedLabel,
    Eligibility,
    PluginInfo,
    PluginKind,
    Situation,
    hookimpl,
)
from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.web import create_app

# 10 March 2025, 09:00 UTC: "today" in France is 2025-03-10.
FIXED_NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TODAY = date(2025, 3, 10)
URL = "/api/v1/orientation"


def fixed_clock() -> datetime:
    return FIXED_NOW


def plugin_info(plugin_id: str, kind: PluginKind, core_range: str = ">=0.1,<0.2") -> PluginInfo:
    return PluginInfo(
        id=plugin_id,
        kind=kind,
        labels=(
            DatedLabel(valid_from=date(2020, 1, 1), value=f"Opérateur {plugin_id}", source="test"),
        ),
        core_range=core_range,
    )


def fake_operator(
    operator_id: str,
    *,
    competent: bool | Callable[[Situation], bool] = True,
    contact: Contact | None = None,
    raises: Exception | None = None,
    core_range: str = ">=0.1,<0.2",
) -> types.ModuleType:
    """A plugin module for one operator; its reason quotes the situation's date and age."""
    module = types.ModuleType(f"fake_{operator_id}")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return plugin_info(operator_id, PluginKind.OPERATOR, core_range)

    @hookimpl
    def cep_assess_competence(situation: Situation) -> Competence:
        if raises is not None:
            raise raises
        yes = competent(situation) if callable(competent) else competent
        return Competence(
            operator=operator_id,
            competent=yes,
            name=f"Opérateur {operator_id}",
            reason=f"Au {situation.as_of.isoformat()}, vous avez {situation.age} ans.",
            contact=contact,
        )

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_assess_competence = cep_assess_competence  # type: ignore[attr-defined]
    return module


def failing_policy() -> types.ModuleType:
    """A policy plugin whose orientation hook raises (the default policy never runs)."""
    module = types.ModuleType("fake_failing_policy")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return plugin_info("test.failing_policy", PluginKind.POLICY)

    @hookimpl
    def cep_choose_orientation(
        situation: Situation, eligibility: Eligibility, competences: Sequence[Competence]
    ) -> None:
        raise RuntimeError("secret internal detail")

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_choose_orientation = cep_choose_orientation  # type: ignore[attr-defined]
    return module


def routes_plugin(handlers: Sequence[Any], plugin_id: str = "test.routes") -> types.ModuleType:
    """A capability plugin that adds Litestar route handlers."""
    module = types.ModuleType(f"fake_{plugin_id}")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return plugin_info(plugin_id, PluginKind.CAPABILITY)

    @hookimpl
    def cep_register_routes() -> Sequence[Any]:
        return list(handlers)

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_register_routes = cep_register_routes  # type: ignore[attr-defined]
    return module


def default_operators() -> list[types.ModuleType]:
    return [
        fake_operator("regional"),
        fake_operator(
            "apec", competent=lambda s: s.cadre, contact=Contact(url="https://apec.example/")
        ),
        fake_operator("mission_locale", competent=lambda s: s.age < 26),
    ]


MakeKit = Callable[..., Kit]


@pytest.fixture
def make_kit(tmp_path: Path) -> Iterator[MakeKit]:
    """Build kits from the given plugins only (no entry points), with the fixed clock."""
    kits: list[Kit] = []

    def make(*plugins: object, clock: Callable[[], datetime] = fixed_clock) -> Kit:
        kit = Kit(
            plugins=plugins,
            load_entrypoints=False,
            settings=Settings(data_dir=tmp_path, load_entrypoints=False),
            clock=clock,
        )
        kits.append(kit)
        return kit

    yield make
    for kit in kits:
        kit.close()


@pytest.fixture
def app(make_kit: MakeKit) -> Litestar:
    return create_app(make_kit(*default_operators()))


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def fakes() -> types.SimpleNamespace:
    """The fake-plugin factories above, for test modules (conftest is not importable)."""
    return types.SimpleNamespace(
        operator=fake_operator,
        failing_policy=failing_policy,
        routes=routes_plugin,
        defaults=default_operators,
        info=plugin_info,
        url=URL,
        today=TODAY,
        now=FIXED_NOW,
    )
