"""The plugin registry: admission checks, refusals that name the plugin, scoping, containment."""

from __future__ import annotations

import logging
from datetime import date
from importlib.metadata import EntryPoint
from pathlib import Path

import msgspec
import pytest
from fake_plugins import (
    BadSignature,
    NoInfo,
    Operator,
    Raising,
    UnknownHook,
    Unmarked,
    WrongOperatorAnswer,
)

from cep_core import Kit, OperatorContext, Situation, Status
from cep_core.errors import PluginFailure, PluginLoadError, UnknownOperator
from cep_core.settings import Settings

SITUATION = Situation(birth_date=date(1990, 5, 17), as_of=date(2026, 3, 1), status=Status.EMPLOYEE)


def make_kit(tmp_path: Path, *plugins: object, **settings: object) -> Kit:
    return Kit(plugins, settings=Settings(data_dir=tmp_path, **settings), load_entrypoints=False)  # type: ignore[arg-type]


def refusal_reasons(kit: Kit) -> dict[str, str]:
    return {r.name: r.reason for r in kit.registry.refused}


def test_admitted_plugin_is_recorded_with_its_hooks(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, Operator("alpha"))
    record = kit.registry.operator("alpha")
    assert record.hooks == ("cep_assess_competence", "cep_plugin_info")
    assert kit.registry.refused == []
    kit.check()  # nothing refused: no error


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [
        (UnknownHook("typo"), "hooks inconnus : cep_does_not_exist"),
        (Unmarked("unmarked"), "sans le marqueur @hookimpl : cep_intake_form"),
        (BadSignature("badsig"), "implémentation de hook invalide"),
        (NoInfo(), "n'implémente pas cep_plugin_info"),
        (Operator("old", core_range=">=9.0"), "demande le noyau >=9.0"),
        (Operator("weird", core_range="not a range"), "plage de versions du noyau invalide"),
        (Operator, "désigne une classe"),
    ],
)
def test_bad_plugins_are_refused_with_a_reason(
    tmp_path: Path, plugin: object, expected: str
) -> None:
    kit = make_kit(tmp_path, plugin, Operator("good"))
    [refusal] = kit.registry.refused
    assert expected in refusal.reason
    # The refused plugin takes no part; the good one still answers.
    assert [info.id for info in kit.hooks.operators()] == ["good"]
    with pytest.raises(PluginLoadError) as caught:
        kit.check()
    assert refusal.name in str(caught.value)
    assert "CEP_DISABLED_PLUGINS" in str(caught.value)


def test_duplicate_operator_id_is_refused(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, Operator("alpha"), Operator("alpha"))
    assert len(kit.registry.operators()) == 1
    assert "déjà utilisé" in kit.registry.refused[0].reason


def test_entry_point_that_fails_to_import_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eps = [
        EntryPoint("broken", "cep_no_such_module.hooks", "cep"),
        EntryPoint("fine", "fake_plugins:FINE", "cep"),
    ]
    import fake_plugins

    monkeypatch.setattr(fake_plugins, "FINE", Operator("fine"), raising=False)
    monkeypatch.setattr("cep_core.plugins.metadata.entry_points", lambda group: eps)
    kit = Kit(settings=Settings(data_dir=tmp_path))
    assert refusal_reasons(kit) == {
        "broken": "échec de l'import (ModuleNotFoundError : No module named 'cep_no_such_module')"
    }
    assert [info.id for info in kit.hooks.operators()] == ["fine"]


def test_allow_and_block_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fake_plugins

    for name in ("one", "two", "three"):
        monkeypatch.setattr(fake_plugins, name.upper(), Operator(name), raising=False)
    eps = [EntryPoint(n, f"fake_plugins:{n.upper()}", "cep") for n in ("one", "two", "three")]
    monkeypatch.setattr("cep_core.plugins.metadata.entry_points", lambda group: eps)

    allowed = Kit(settings=Settings(data_dir=tmp_path, plugins=("one", "two")))
    assert [i.id for i in allowed.hooks.operators()] == ["one", "two"]
    assert [(d.name, d.why) for d in allowed.registry.disabled] == [
        ("three", "absent de CEP_PLUGINS")
    ]

    blocked = Kit(settings=Settings(data_dir=tmp_path, disabled_plugins=("two",)))
    assert [i.id for i in blocked.hooks.operators()] == ["one", "three"]
    assert [(d.name, d.why) for d in blocked.registry.disabled] == [("two", "CEP_DISABLED_PLUGINS")]


def test_blocking_a_default_plugin_leaves_no_policy(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, Operator("alpha"), disabled_plugins=("cep_core.defaults.orientation",))
    with pytest.raises(PluginFailure):
        kit.orientation.orient(SITUATION)


def test_a_raising_operator_is_contained(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, Operator("alpha"), Raising("broken"), Operator("zeta"))
    orientation = kit.orientation.orient(SITUATION)
    assert [o.id for o in orientation.operators] == ["alpha", "zeta"]
    assert "« broken »" in orientation.reasons[-1]
    assert "indisponible" in orientation.reasons[-1]


def test_an_operator_answering_for_another_is_treated_as_failing(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, Operator("alpha"), WrongOperatorAnswer("liar"))
    competences, failures = kit.hooks.assess_competences(SITUATION)
    assert [c.operator for c in competences] == ["alpha"]
    assert [f.plugin for f in failures] == ["liar"]


class EmptyInput(msgspec.Struct, forbid_unknown_fields=True):
    """An intake form that asks nothing more."""


def test_scoped_hooks_run_only_on_the_case_operator(tmp_path: Path) -> None:
    from cep_core import FormChannel, IntakeForm, Issue, hookimpl

    calls: list[str] = []

    class Intake(Operator):
        def __init__(self, plugin_id: str, *, fail: bool = False) -> None:
            super().__init__(plugin_id)
            self.fail = fail

        @hookimpl
        def cep_validate_intake(self, ctx: OperatorContext, data: dict[str, object]) -> list[Issue]:
            calls.append(self.plugin_id)
            if self.fail:
                raise ValueError("bug")
            return [Issue(path="x", message=f"{self.plugin_id}")]

        @hookimpl
        def cep_intake_form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
            return IntakeForm(operator=self.plugin_id, title=self.plugin_id, input=EmptyInput)

    class Capability:
        @hookimpl
        def cep_plugin_info(self):  # type: ignore[no-untyped-def]
            from fake_plugins import info

            from cep_core import PluginKind

            return info("audit", kind=PluginKind.CAPABILITY)

        @hookimpl
        def cep_validate_intake(self, ctx: OperatorContext, data: dict[str, object]) -> list[Issue]:
            calls.append("audit")
            return []

    kit = make_kit(tmp_path, Intake("alpha"), Intake("beta", fail=True), Capability())
    ctx = OperatorContext(operator="alpha", today=date(2026, 1, 1))
    issues = kit.hooks.validate_intake(ctx, {})
    assert [i.message for i in issues] == ["alpha"]
    assert sorted(calls) == ["alpha", "audit"]  # beta never ran on alpha's request
    form = kit.hooks.intake_form(ctx, FormChannel.COUNSELLOR)
    assert form is not None and form.operator == "alpha"

    # beta's bug fails beta's request, with a French message naming it ...
    with pytest.raises(PluginFailure) as caught:
        kit.hooks.validate_intake(OperatorContext(operator="beta", today=date(2026, 1, 1)), {})
    assert caught.value.plugin == "beta"
    assert "« beta »" in caught.value.message
    # ... and alpha keeps working.
    assert [i.message for i in kit.hooks.validate_intake(ctx, {})] == ["alpha"]
    with pytest.raises(UnknownOperator):
        kit.hooks.validate_intake(OperatorContext(operator="nobody", today=date(2026, 1, 1)), {})


def test_each_kit_has_its_own_plugin_manager(tmp_path: Path) -> None:
    first = make_kit(tmp_path, Operator("alpha"))
    second = make_kit(tmp_path, Operator("beta"))
    assert [i.id for i in first.hooks.operators()] == ["alpha"]
    assert [i.id for i in second.hooks.operators()] == ["beta"]


def test_trace_hooks_logs_calls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kit = make_kit(tmp_path, Operator("alpha"), trace_hooks=True)
    with caplog.at_level(logging.INFO, logger="cep_core.hooks"):
        kit.orientation.orient(SITUATION)
    assert any("cep_assess_competence" in r.getMessage() for r in caplog.records)
    assert any("cep_choose_orientation" in r.getMessage() for r in caplog.records)


def test_importing_cep_core_loads_no_plugin_and_no_heavy_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cep_core; "
        "heavy = [m for m in ('litestar', 'sqlalchemy', 'alembic', 'uvicorn', 'cep_apec') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_failing_policy_is_named_in_the_failure(tmp_path: Path) -> None:
    from cep_core import Eligibility, Orientation, PluginKind, hookimpl

    class BrokenPolicy:
        @hookimpl
        def cep_plugin_info(self):  # type: ignore[no-untyped-def]
            from fake_plugins import info

            return info("strict_policy", kind=PluginKind.POLICY)

        @hookimpl
        def cep_choose_orientation(
            self, situation: Situation, eligibility: Eligibility, competences: object
        ) -> Orientation:
            raise ZeroDivisionError("policy bug")

    kit = make_kit(tmp_path, Operator("alpha"), BrokenPolicy())
    with pytest.raises(PluginFailure) as caught:
        kit.orientation.orient(SITUATION)
    assert caught.value.plugin == "strict_policy"
    assert "« strict_policy »" in caught.value.message
