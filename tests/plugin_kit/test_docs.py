"""docs/plugins.md stays true: every hook documented as specified, every excerpt real.

Modelled on datasette's tests/test_docs.py: a hook spec missing from the reference, or an
argument documented that the spec does not have (or the other way round), fails here; so does
a code excerpt that no longer matches the file it names.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import cep_core
from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core import HOOK_API_VERSION, Kit, hookspecs
from cep_core.scaffold import render_files
from cep_core.settings import Settings
from cep_core.testing import CHECKS
from cep_core.testing import plugin as pytest_plugin
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
SPECS = sorted(
    name for name, obj in vars(hookspecs).items() if name.startswith("cep_") and callable(obj)
)
SECTION = re.compile(r"^#### `(cep_\w+)`\n(.*?)(?=^#{2,4} |\Z)", re.M | re.S)
SECTIONS = dict(SECTION.findall(DOC))
CAPTIONED = re.compile(r"^Fichier `([^`]+)` :\n\n```(\w+)\n(.*?)\n```$", re.M | re.S)


def field(section: str, label: str) -> str:
    found = re.search(rf"^- \*\*{re.escape(label)}\*\* : (.*)$", section, re.M)
    assert found, f"champ « {label} » absent"
    return found.group(1)


def codes(text: str) -> list[str]:
    return [] if text == "aucun" else re.findall(r"`([^`]+)`", text)


@pytest.fixture(scope="module")
def bundled_kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    plugins = [apec, cap_emploi, mission_locale, pole_emploi, regional]
    settings = Settings(data_dir=tmp_path_factory.mktemp("docs"), load_entrypoints=False)
    return Kit(plugins, settings=settings, load_entrypoints=False)


def test_every_hook_has_a_section_and_no_section_names_an_unknown_hook() -> None:
    assert sorted(SECTIONS) == SPECS
    headings = re.findall(r"^#### `(cep_\w+)`$", DOC, re.M)
    assert len(headings) == len(set(headings)), "a hook is documented twice"


@pytest.mark.parametrize("name", SPECS)
def test_documented_arguments_are_the_specs(name: str) -> None:
    section = SECTIONS[name]
    signature = inspect.signature(getattr(hookspecs, name))
    documented = re.findall(r"^  - `(\w+)` \(`([^`]+)`\) : ", section, re.M)
    expected = [(arg, str(p.annotation)) for arg, p in signature.parameters.items()]
    assert documented == expected
    if not expected:
        assert field(section, "Arguments") == "aucun."


@pytest.mark.parametrize("name", SPECS)
def test_return_firstresult_and_version_are_the_specs(name: str) -> None:
    section = SECTIONS[name]
    spec = getattr(hookspecs, name)
    returned = re.match(r"`([^`]+)` — ", field(section, "Renvoie"))
    assert returned and returned.group(1) == str(inspect.signature(spec).return_annotation)
    assert field(section, "firstresult") == ("oui" if spec.cep_spec["firstresult"] else "non")
    since = re.search(r"versionadded:: (\S+)", inspect.getdoc(spec) or "")
    assert since and field(section, "Depuis") == since.group(1)
    for label in ("None", "Exception", "Portée"):
        assert field(section, label).strip()


@pytest.mark.parametrize("name", SPECS)
def test_implementers_are_the_bundled_and_core_plugins_that_implement_it(
    name: str, bundled_kit: Kit
) -> None:
    records = bundled_kit.registry.records.values()
    bundled = sorted(r.info.id for r in records if not r.builtin and name in r.hooks)
    core = sorted(r.info.id for r in records if r.builtin and name in r.hooks)
    assert codes(field(SECTIONS[name], "Plugins livrés")) == bundled
    assert codes(field(SECTIONS[name], "Noyau")) == core


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_has_an_example_of_itself(name: str) -> None:
    examples = CAPTIONED.findall(SECTIONS[name])
    assert examples, "no example"
    assert any(f"def {name}(" in code for _, _, code in examples)


def test_every_excerpt_is_the_file_it_names() -> None:
    generated = render_files("atelier")
    blocks = CAPTIONED.findall(DOC)
    assert len(blocks) > 30
    for path, _language, code in blocks:
        if path.startswith("cep-atelier/"):
            text = generated[path.removeprefix("cep-atelier/")]
        else:
            text = (ROOT / path).read_text(encoding="utf-8")
        assert code in text, f"the excerpt of {path} no longer matches the file"


def test_the_tutorial_quotes_every_generated_source_file() -> None:
    quoted = {path for path, _, _ in CAPTIONED.findall(DOC) if path.startswith("cep-atelier/")}
    generated = {
        f"cep-atelier/{path}"
        for path in render_files("atelier")
        if path.endswith((".py", ".toml", ".html")) and not path.endswith("__init__.py")
    }
    assert generated == quoted


def test_the_testing_tools_are_all_documented() -> None:
    for name in CHECKS:
        assert f"| `{name}` |" in DOC, name
    fixtures = [
        name
        for name, value in vars(pytest_plugin).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
    ]
    assert len(fixtures) == 10
    for name in fixtures:
        assert re.search(rf"^\| `{name}[`(]", DOC, re.M), name


def test_the_versioning_policy_is_written() -> None:
    policy = DOC.split("## Versions de l'API des hooks", 1)[1].split("\n## ", 1)[0]
    assert f"aujourd'hui `{HOOK_API_VERSION}`" in policy
    assert "warn_on_impl=HookDeprecationWarning" in policy and "warn_on_impl_args" in policy
    assert "demande le noyau >=0.2,<0.3, or le noyau installé" in policy
    assert "HookDeprecationWarning" in cep_core.__all__


def test_every_documented_public_name_exists() -> None:
    for name in re.findall(r"`cep_core\.(\w+)`", DOC):
        assert name in cep_core.__all__ or hasattr(cep_core, name), name
