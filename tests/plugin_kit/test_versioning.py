"""Hook-API versioning: deprecated hooks warn through pluggy's ``warn_on_impl``.

No hook of API 1.0 is deprecated yet, so these tests add one to the spec module for the time
of a test (as a later minor version would) and check what a plugin implementing it meets:
a `HookDeprecationWarning` pointing at its own function, at registration, the plugin still
admitted and working, and the conformance report listing it. Refusal of an incompatible core
range is tested with the fixtures in test_pytest_plugin.py.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

import cep_core
from cep_core import HookDeprecationWarning, Kit, Situation, Status, hookspecs
from cep_core.settings import Settings
from cep_core.testing import check_operator_plugin

NOTICE = (
    "cep_describe_public est déprécié depuis l'API des hooks 1.1 et sera retiré en 2.0 : "
    "utilisez cep_assess_competence"
)


def cep_describe_public() -> str:  # the spec of a hook being phased out
    """Describe the operator's public in one French sentence (deprecated)."""
    return ""


PLUGIN = """
from datetime import date
from typing import Annotated

import msgspec

from cep_core import Competence, Contact, DatedLabel, IntakeForm, PluginInfo, PluginKind, hookimpl


class Intake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    request: Annotated[str, msgspec.Meta(min_length=1, max_length=200, title="Demande")]


@hookimpl
def cep_plugin_info():
    return PluginInfo(
        id="ancien_style", kind=PluginKind.OPERATOR, core_range=">=0.1,<0.2",
        description="Opérateur d'essai.", contact=Contact(url="https://essai.invalid/"),
        labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Essai", source="test"),),
    )


@hookimpl
def cep_assess_competence(situation):
    return Competence(
        operator="ancien_style", competent=situation.cadre, name="Essai", reason="Raison."
    )


@hookimpl
def cep_intake_form(ctx, channel):
    return IntakeForm(operator="ancien_style", title="Accueil", input=Intake)


@hookimpl
def cep_describe_public():
    return "Les cadres."
"""


@pytest.fixture
def deprecated_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = hookspecs.hookspec(warn_on_impl=HookDeprecationWarning(NOTICE))(cep_describe_public)
    monkeypatch.setattr(hookspecs, "cep_describe_public", spec, raising=False)


@pytest.fixture
def old_style_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    (tmp_path / "cep_ancien_style.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("cep_ancien_style")
    sys.modules.pop("cep_ancien_style", None)


def test_the_warning_is_public_and_a_deprecation_warning() -> None:
    assert "HookDeprecationWarning" in cep_core.__all__
    assert issubclass(HookDeprecationWarning, DeprecationWarning)


@pytest.mark.usefixtures("deprecated_hook")
def test_a_plugin_implementing_a_deprecated_hook_is_warned_and_still_admitted(
    old_style_plugin: ModuleType, tmp_path: Path
) -> None:
    with pytest.warns(HookDeprecationWarning, match=re.escape(NOTICE)) as caught:
        kit = Kit(
            [old_style_plugin],
            settings=Settings(data_dir=tmp_path, load_entrypoints=False),
            load_entrypoints=False,
        )
    try:
        [warning] = [w for w in caught if issubclass(w.category, HookDeprecationWarning)]
        assert warning.filename == old_style_plugin.__file__  # it points at the plugin's code
        assert kit.registry.refused == []
        assert "cep_describe_public" in kit.registry.records["cep_ancien_style"].hooks
        cadre = Situation(
            birth_date=date(1980, 1, 1), as_of=date(2026, 3, 2), status=Status.EMPLOYEE, cadre=True
        )
        assert [o.id for o in kit.orientation.orient(cadre).operators] == ["ancien_style"]
    finally:
        kit.close()


@pytest.mark.usefixtures("deprecated_hook")
def test_the_conformance_report_lists_deprecations(old_style_plugin: ModuleType) -> None:
    with pytest.warns(HookDeprecationWarning):
        report = check_operator_plugin(old_style_plugin, as_of=date(2026, 3, 2))
    assert report.deprecations == (NOTICE,)


def test_without_deprecated_hooks_nothing_warns(tmp_path: Path) -> None:
    from cep_apec import hooks

    with warnings.catch_warnings():
        warnings.simplefilter("error", HookDeprecationWarning)
        kit = Kit([hooks], settings=Settings(data_dir=tmp_path), load_entrypoints=False)
    kit.close()
