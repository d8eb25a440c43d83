"""Every hook spec is documented in the same shape, and the facade wraps every hook."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pytest

import cep_core
from cep_core import hookspecs
from cep_core.plugins import Hooks

SECTIONS = (":arguments:", ":returns:", ":none:", ":raising:", ":firstresult:", ":scope:")
SPECS = sorted(
    name for name, obj in vars(hookspecs).items() if name.startswith("cep_") and callable(obj)
)
DESIGN_HOOKS = {
    "cep_plugin_info",
    "cep_register_routes",
    "cep_register_commands",
    "cep_startup",
    "cep_assess_competence",
    "cep_choose_orientation",
    "cep_intake_form",
    "cep_validate_intake",
    "cep_session_steps",
    "cep_validate_step",
    "cep_case_transition",
    "cep_funding_options",
    "cep_build_funding_plan",
    "cep_check_funding_plan",
    "cep_synthesis_sections",
    "cep_synthesis_template",
    "cep_render_pdf",
    "cep_data_recipients",
    "cep_retention_rules",
    "cep_permission_check",
    "cep_case_event",
    "cep_indicators",
}


def test_the_whole_design_hook_set_is_declared() -> None:
    assert set(SPECS) == DESIGN_HOOKS


@pytest.mark.parametrize("name", SPECS)
def test_spec_docstring_has_the_fixed_shape(name: str) -> None:
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    purpose = doc.splitlines()[0]
    assert purpose.endswith("."), f"{name}: the first line states the purpose"
    positions = [doc.find(section) for section in SECTIONS]
    assert all(p > 0 for p in positions), f"{name}: missing one of {SECTIONS}"
    assert positions == sorted(positions), f"{name}: sections out of order"
    assert re.search(r"\.\. versionadded:: \d+\.\d+", doc), f"{name}: no versionadded"
    firstresult = spec.cep_spec["firstresult"]
    stated = re.search(r":firstresult: (yes|no)", doc)
    assert stated and (stated.group(1) == "yes") == firstresult, f"{name}: firstresult mismatch"


@pytest.mark.parametrize("name", SPECS)
def test_spec_is_fully_typed(name: str) -> None:
    signature = inspect.signature(getattr(hookspecs, name))
    assert signature.return_annotation is not inspect.Signature.empty
    for parameter in signature.parameters.values():
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}.{parameter.name}"


def test_facade_has_a_method_for_every_hook_that_core_calls() -> None:
    facade = {name for name, _ in inspect.getmembers(Hooks, inspect.isfunction)}
    for name in SPECS:
        if name == "cep_plugin_info":  # read once per plugin by the registry itself
            continue
        short = name.removeprefix("cep_")
        expected = {"assess_competence": "assess_competences"}.get(short, short)
        assert expected in facade, f"Hooks has no method for {name}"


def test_core_never_calls_the_relay_outside_the_facade() -> None:
    root = Path(cep_core.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "plugins.py" and re.search(r"\.hook\.cep_", path.read_text())
    ]
    assert offenders == []


def test_versions_agree() -> None:
    from importlib.metadata import version

    pyproject = tomllib.loads(
        (Path(cep_core.__file__).parent.parent / "pyproject.toml").read_text()
    )
    assert cep_core.__version__ == pyproject["project"]["version"] == version("cep-core")
    assert re.fullmatch(r"\d+\.\d+", cep_core.HOOK_API_VERSION)
