"""cep-core's pytest plugin, used as a plugin author uses it.

In this file the fixtures come from ``conftest.py`` (which imports them from the plugin); the
last tests run a plugin author's test files in a fresh pytest process that loads the plugin
itself, as its ``pytest11`` entry point does.
"""

from __future__ import annotations

import textwrap
import types
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cep_core import (
    Competence,
    DatedLabel,
    Kit,
    PluginInfo,
    PluginKind,
    Situation,
    Status,
    create_app,
    hookimpl,
)
from cep_core.errors import PluginLoadError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = {"birth_date": "1980-05-01", "status": "public_agent", "as_of": "2026-03-02"}


def operator(plugin_id: str, core_range: str = ">=0.1,<0.2") -> types.ModuleType:
    """A small operator plugin serving every public agent."""
    module = types.ModuleType(f"fake_{plugin_id}")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return PluginInfo(
            id=plugin_id,
            kind=PluginKind.OPERATOR,
            core_range=core_range,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Essai", source="test"),),
        )

    @hookimpl
    def cep_assess_competence(situation: Situation) -> Competence:
        yes = situation.status is Status.PUBLIC_AGENT
        return Competence(
            operator=plugin_id,
            competent=yes,
            name="Essai",
            reason="Agent public." if yes else "Autre public.",
            covers_redirect="cmc" if yes else None,
        )

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_assess_competence = cep_assess_competence  # type: ignore[attr-defined]
    return module


FAKE = operator("essai")


@pytest.fixture
def cep_plugins() -> Sequence[object]:
    return [FAKE]


@pytest.fixture
def cep_clock() -> Callable[[], datetime]:
    return lambda: NOW


def test_the_kit_has_the_chosen_plugins_only(cep_kit: Kit, cep_settings: Any) -> None:
    assert [record.info.id for record in cep_kit.registry.operators()] == ["essai"]
    assert cep_kit.settings is cep_settings and not cep_settings.load_entrypoints
    assert cep_kit.today() == date(2026, 3, 2)
    assert cep_kit.cases.list_cases("essai").items == ()  # its database is migrated


def test_make_cep_kit_builds_other_kits(make_cep_kit: Callable[..., Kit]) -> None:
    empty = make_cep_kit()
    assert empty.registry.operators() == []
    bare = make_cep_kit(FAKE, defaults=False)
    assert [record.info.id for record in bare.registry.records.values()] == ["essai"]


@pytest.mark.anyio
async def test_the_async_client_talks_to_the_app(cep_client: Any) -> None:
    response = await cep_client.post("/api/v1/orientation", json=AGENT)
    assert response.status_code == 200
    assert [choice["id"] for choice in response.json()["operators"]] == ["essai"]
    assert response.json()["redirect"] is None


def test_a_signed_in_counsellor_reaches_the_api_and_the_pages(
    cep_kit: Kit, cep_app: Any, signed_in_counsellor: Any
) -> None:
    from litestar.testing import TestClient

    assert signed_in_counsellor.operator == "essai"
    with TestClient(cep_app, base_url="https://testserver.local") as client:
        listing = client.get("/api/v1/cases", headers=signed_in_counsellor.headers)
        assert listing.status_code == 200 and listing.json()["items"] == []
        assert client.get("/api/v1/cases").status_code == 401
        for name, value in signed_in_counsellor.cookies.items():
            client.cookies.set(name, value, domain="testserver.local")
        page = client.get("/espace/jetons", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Conseiller de test" in page.text


def test_register_plugin_adds_an_operator_for_one_test(
    cep_kit: Kit, register_plugin: Callable[..., Any]
) -> None:
    record = register_plugin(operator("autre"))
    assert record.info.id == "autre"
    situation = Situation(birth_date=date(1980, 5, 1), as_of=NOW.date(), status=Status.PUBLIC_AGENT)
    assert [choice.id for choice in cep_kit.orientation.orient(situation).operators] == [
        "autre",
        "essai",
    ]


def test_an_incompatible_core_range_is_refused_with_a_clear_message(
    cep_kit: Kit, register_plugin: Callable[..., Any], make_cep_kit: Callable[..., Kit]
) -> None:
    old = operator("ancien", core_range=">=0.2,<0.3")
    with pytest.raises(PluginLoadError) as raised:
        register_plugin(old)
    assert "« fake_ancien » : demande le noyau >=0.2,<0.3, or le noyau installé est 0.1.0" in str(
        raised.value
    )
    assert "CEP_DISABLED_PLUGINS" in str(raised.value)
    assert cep_kit.registry.refused == []  # the refusal is not left behind
    kit = make_cep_kit(old)
    assert [(r.name, r.reason) for r in kit.registry.refused] == [
        ("fake_ancien", "demande le noyau >=0.2,<0.3, or le noyau installé est 0.1.0")
    ]
    with pytest.raises(PluginLoadError, match="fake_ancien"):
        create_app(kit)


AUTHOR_CONFTEST = """
import types
from datetime import date

import pytest

from cep_core import Competence, DatedLabel, Kit, PluginInfo, PluginKind, Settings, hookimpl


def operator(plugin_id, core_range=">=0.1,<0.2"):
    module = types.ModuleType("fake_" + plugin_id)

    @hookimpl
    def cep_plugin_info():
        return PluginInfo(
            id=plugin_id, kind=PluginKind.OPERATOR, core_range=core_range,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Essai", source="t"),),
        )

    @hookimpl
    def cep_assess_competence(situation):
        return Competence(operator=plugin_id, competent=True, name="Essai", reason="Oui.")

    module.cep_plugin_info = cep_plugin_info
    module.cep_assess_competence = cep_assess_competence
    return module


@pytest.fixture(scope="module")
def shared_kit(tmp_path_factory):
    kit = Kit(settings=Settings(data_dir=tmp_path_factory.mktemp("d")), load_entrypoints=False)
    yield kit
    kit.close()
"""

AUTHOR_TESTS = """
import pytest

from conftest import operator


def test_registered_into_a_kit_of_its_own(shared_kit, register_plugin):
    register_plugin(operator("essai"), kit=shared_kit)
    assert [r.info.id for r in shared_kit.registry.operators()] == ["essai"]


def test_and_gone_for_the_next_test(shared_kit):
    assert shared_kit.registry.operators() == []
"""

AUTHOR_REFUSED = """
import pytest

from conftest import operator


@pytest.fixture
def cep_plugins():
    return [operator("ancien", core_range=">=0.2,<0.3")]


def test_a_refused_plugin_stops_cep_kit(cep_kit):
    pass
"""


def test_an_authors_suite_loads_the_plugin_itself(
    tmp_path: Path, run_pytest: Callable[..., Any]
) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text(textwrap.dedent(AUTHOR_CONFTEST), encoding="utf-8")
    (tests / "test_author.py").write_text(textwrap.dedent(AUTHOR_TESTS), encoding="utf-8")
    (tests / "test_refused.py").write_text(textwrap.dedent(AUTHOR_REFUSED), encoding="utf-8")
    result = run_pytest(tests, tmp_path, "-v")
    out = result.stdout
    assert "cep-kit 0.1.0 (API des hooks 1.0)" in out  # the plugin's report header
    assert "2 passed, 1 error" in out, out
    assert "ERROR at setup of test_a_refused_plugin_stops_cep_kit" in out
    assert "demande le noyau >=0.2,<0.3" in out
