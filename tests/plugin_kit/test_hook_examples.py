"""The hook reference's examples (examples/hooks) do what docs/plugins.md says they do."""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import types
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from cep_core import (
    CaseStatus,
    CloseReason,
    CommandRegistry,
    Competence,
    DatedLabel,
    FundingRequest,
    FundingSituation,
    Kit,
    NewBeneficiary,
    NewSession,
    OperatorContext,
    Permission,
    PluginInfo,
    PluginKind,
    Project,
    RenderRequest,
    Role,
    SessionChannel,
    Situation,
    Status,
    TrainingKind,
    Transition,
    create_app,
    hookimpl,
)
from cep_core.testing.conformance import _internal_imports

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "examples" / "hooks"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
MakeKit = Callable[..., Kit]


@pytest.fixture(autouse=True)
def examples_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HOOKS))


@pytest.fixture
def cep_clock() -> Callable[[], datetime]:
    return lambda: NOW


def example(name: str) -> types.ModuleType:
    import importlib

    return importlib.import_module(f"cep_hook_examples.{name}")


def operator(plugin_id: str, competent: Callable[[Situation], bool]) -> types.ModuleType:
    module = types.ModuleType(f"fake_{plugin_id}")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return PluginInfo(
            id=plugin_id,
            kind=PluginKind.OPERATOR,
            core_range=">=0.1,<0.2",
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value=plugin_id, source="t"),),
        )

    @hookimpl
    def cep_assess_competence(situation: Situation) -> Competence:
        return Competence(
            operator=plugin_id, competent=competent(situation), name=plugin_id, reason="Raison."
        )

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_assess_competence = cep_assess_competence  # type: ignore[attr-defined]
    return module


EVERYONE = operator("autre", lambda s: True)
YOUNG = operator("mission_locale", lambda s: s.age < 26)


def ctx(role: Role = Role.COUNSELLOR) -> OperatorContext:
    return OperatorContext(operator="autre", today=TODAY, actor="conseiller-1", role=role)


def person(age: int, status: Status = Status.EMPLOYEE) -> Situation:
    return Situation(birth_date=date(TODAY.year - age - 1, 1, 1), as_of=TODAY, status=status)


def test_the_examples_use_the_public_surface_only() -> None:
    files = sorted((HOOKS / "cep_hook_examples").glob("*.py"))
    assert len(files) == 9
    assert [problem for path in files for problem in _internal_imports(path)] == []


def test_registration(
    make_cep_kit: MakeKit, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = example("registration")
    with caplog.at_level(logging.WARNING, logger="cep_hook_examples"):
        lonely = make_cep_kit(registration)
    assert "aucun opérateur installé" in caplog.text
    commands = CommandRegistry()
    lonely.hooks.register_commands(commands)
    [command] = [c for c in commands if c.name == "permanences"]
    assert command.handler(argparse.Namespace(), lonely) == 0
    assert "Mardi : 9 h – 12 h" in capsys.readouterr().out
    with TestClient(create_app(make_cep_kit(EVERYONE, registration))) as client:
        response = client.get("/plugins/exemples/permanences")
    assert response.json() == {"permanences": ["Mardi : 9 h – 12 h", "Jeudi : 14 h – 17 h"]}


def test_orientation_policy(make_cep_kit: MakeKit) -> None:
    default = make_cep_kit(EVERYONE, YOUNG)
    with_policy = make_cep_kit(EVERYONE, YOUNG, example("orientation"))
    young, older = person(20), person(40)
    assert [o.id for o in default.orientation.orient(young).operators] == [
        "autre",
        "mission_locale",
    ]
    assert [o.id for o in with_policy.orientation.orient(young).operators] == [
        "mission_locale",
        "autre",
    ]
    assert with_policy.orientation.orient(older) == default.orientation.orient(older)


def test_case_transition_veto(make_cep_kit: MakeKit) -> None:
    kit = make_cep_kit(EVERYONE, example("cases"))
    case = kit.cases.open_case(
        "autre", NewBeneficiary(first_name="Inès", last_name="Morel"), person(40)
    )
    closing = Transition(
        from_status=CaseStatus.LEVEL_ONE,
        to_status=CaseStatus.CLOSED,
        reason=CloseReason.COMPLETED,
    )
    [veto] = kit.hooks.case_transition(ctx(), case, closing)
    assert veto.code == "no_session" and "sans aucun entretien" in veto.message
    abandoned = Transition(
        from_status=CaseStatus.LEVEL_ONE, to_status=CaseStatus.CLOSED, reason="abandoned"
    )
    assert kit.hooks.case_transition(ctx(), case, abandoned) == []
    seen = kit.cases.record_session(
        "autre",
        case.id,
        NewSession(
            start=NOW,
            channel=SessionChannel.PHONE,
            duration_minutes=30,
            outside_working_time=True,
        ),
        expected_version=case.version,
        actor="conseiller-1",
    )
    assert kit.hooks.case_transition(ctx(), seen, closing) == []


def test_funding_builder_and_check(make_cep_kit: MakeKit) -> None:
    funding = example("funding")
    kit = make_cep_kit(EVERYONE, funding)
    project = Project(
        kind=TrainingKind.CERTIFICATION,
        price=120_000,
        certification_code="RNCP34828",
        provider_qualiopi=True,
    )
    facts = FundingSituation(status=Status.EMPLOYEE, cpf_balance=50_000)
    plan, issues = kit.funding.plan_for_case(ctx(), project, facts, purchase_date=TODAY)
    assert plan.warnings[-1] == funding.ADVICE
    assert issues == []
    unfunded = kit.hooks.build_funding_plan(
        ctx(),
        FundingRequest(
            project=project,
            situation=FundingSituation(status=Status.EMPLOYEE, cpf_balance=0),
            purchase_date=TODAY,
        ),
    )
    assert unfunded is not None and unfunded.funded == 0
    [problem] = kit.hooks.check_funding_plan(ctx(), unfunded)
    assert problem.code == "unfunded"


def test_renderer(make_cep_kit: MakeKit, tmp_path: Path) -> None:
    kit = make_cep_kit(EVERYONE, example("rendering"))
    pdf = kit.hooks.render_pdf(RenderRequest(html="<p>ignoré</p>", title="Synthèse (essai)"))
    assert pdf is not None and pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) est nécessaire aux tests"
    path = tmp_path / "essai.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "Synthèse (essai)" in text


def test_data_protection(make_cep_kit: MakeKit, caplog: pytest.LogCaptureFixture) -> None:
    kit = make_cep_kit(EVERYONE, example("data"))
    case = kit.cases.open_case(
        "autre", NewBeneficiary(first_name="Léo", last_name="Petit"), person(40)
    )
    [recipient] = kit.hooks.data_recipients(ctx(), case)
    assert recipient.requires_consent
    [rule] = kit.hooks.retention_rules()
    assert (rule.what, rule.days, rule.then) == ("synthesis_downloads", 365, "delete")
    health = Permission(action="health.read", resource="beneficiary")
    assert kit.hooks.permission_check(ctx(Role.COUNSELLOR), health) is True
    assert kit.hooks.permission_check(ctx(Role.BENEFICIARY), health) is False
    # No opinion from anyone: denied by default.
    export = Permission(action="case.export", resource="case")
    assert kit.hooks.permission_check(ctx(), export) is False
    with caplog.at_level(logging.INFO, logger="cep_hook_examples"):
        kit.cases.start_level_1("autre", case.id, expected_version=case.version)
    assert f"dossier {case.id} : transition (autre)" in caplog.text


def test_reporting(make_cep_kit: MakeKit) -> None:
    core = {i.id for i in make_cep_kit(EVERYONE).hooks.indicators()}
    kit = make_cep_kit(EVERYONE, example("reporting"))
    added = [i for i in kit.hooks.indicators() if i.id not in core]
    assert [i.id for i in added] == ["exemples.referrals_received"]
    assert core  # the core's own indicators stay (entries, level 2 share, satisfaction…)


def test_each_example_is_admitted_alone(make_cep_kit: MakeKit) -> None:
    names = ["registration", "orientation", "cases", "funding", "rendering", "data", "reporting"]
    kit = make_cep_kit(*(example(name) for name in names))
    assert kit.registry.refused == []
    ids: set[Any] = {record.info.id for record in kit.registry.records.values()}
    assert {f"exemples.{x}" for x in ("accueil", "jeunes", "cloture", "financement")} <= ids
