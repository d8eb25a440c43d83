"""The CMC plugin, installed: public agents are oriented to it, and a case goes to its synthesis.

The fixtures (``cep_plugins``, ``cep_kit``, ``cep_client``) come from cep-core's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cep_cmc import hooks

from cep_core import (
    FormChannel,
    Kit,
    Level,
    NewBeneficiary,
    NewSession,
    OperatorContext,
    SessionChannel,
    Settings,
    SimulationQuery,
    Situation,
    Status,
)
from cep_core.testing import check_operator_plugin, core_answers, minimal_answers

AS_OF = date(2026, 3, 2)
AGENT = Situation(birth_date=date(1980, 5, 1), as_of=AS_OF, status=Status.PUBLIC_AGENT)
INTAKE = {
    "public_service": "territorial",
    "employment": "tenured",
    "position": "Gestionnaire des ressources humaines",
    "request": "competitive_exam",
    "category": "b",
}


@pytest.fixture
def cep_plugins() -> Sequence[object]:
    return [hooks]


@pytest.fixture
def cep_clock() -> Any:
    return lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_conformance() -> None:
    # The intake asks to prepare a competitive exam: the mobility plan must name one.
    answers = {"intake": INTAKE, "cmc.mobility_plan": {"exam": "Concours d'attaché territorial"}}
    report = check_operator_plugin(hooks, situation=AGENT, answers=answers)
    assert report.pdf.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("status", "flags", "competent"),
    [
        (Status.PUBLIC_AGENT, {}, True),
        (Status.PUBLIC_AGENT, {"cadre": True, "seeking_job": True}, True),
        (Status.EMPLOYEE, {}, False),
        (Status.JOBSEEKER, {"registered_jobseeker": True}, False),
        (Status.SELF_EMPLOYED, {}, False),
    ],
)
def test_public(status: Status, flags: dict[str, Any], competent: bool) -> None:
    situation = Situation(birth_date=date(1980, 5, 1), as_of=AS_OF, status=status, **flags)
    answer = hooks.cep_assess_competence(situation)
    assert answer.operator == "cmc"
    assert answer.competent is competent
    assert answer.covers_redirect == ("cmc" if competent else None)


def test_public_agents_are_oriented_to_it_instead_of_the_redirect(cep_kit: Kit) -> None:
    orientation = cep_kit.orientation.orient(AGENT)
    assert [choice.id for choice in orientation.operators] == ["cmc"]
    assert orientation.redirect is None


def test_a_contract_agent_cannot_ask_for_a_secondment(cep_kit: Kit) -> None:
    answers = {**INTAKE, "employment": "contract", "category": None, "request": "secondment"}
    ctx = OperatorContext(operator="cmc", today=AS_OF)
    [problem] = cep_kit.hooks.validate_intake(ctx, answers)
    assert problem.path == "request"
    assert problem.message.startswith("Le détachement est une position des fonctionnaires")


def test_a_case_through_both_levels_gets_its_synthesis(cep_kit: Kit) -> None:
    cases = cep_kit.cases
    case = cases.open_case(
        "cmc",
        NewBeneficiary(first_name="Lucie", last_name="Marchand"),
        AGENT,
        intake=INTAKE,
        channel=FormChannel.COUNSELLOR,
        actor="cmc-conseillere",
    )
    assert case.intake is not None
    assert case.intake.answers["category"] == "b"
    own: dict[str, dict[str, Any]] = {
        "cmc.career_review": {"years_in_position": 6, "mobility_wish": "functional"},
        "cmc.mobility_plan": {
            "target_posts": ["Attachée territoriale"],
            "exam": "Concours d'attaché territorial",
            "exam_on": "2026-11-15",
        },
    }
    version = case.version
    for level in Level:
        start = cases.start_level_1 if level is Level.ONE else cases.start_level_2
        version = start("cmc", case.id, expected_version=version).version
        session = NewSession(
            start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            channel=SessionChannel.VIDEO,
            duration_minutes=45,
            outside_working_time=True,
        )
        version = cases.record_session(
            "cmc", case.id, session, expected_version=version, actor="cmc-conseillere"
        ).version
        for step in cases.step_definitions("cmc", case.id):
            data = {
                **minimal_answers(step.input, AS_OF),
                **core_answers(AS_OF).get(step.id, {}),
                **own.get(step.id, {}),
            }
            version = cases.save_step(
                "cmc", case.id, step.id, data, complete=True, expected_version=version
            ).case.version
    generated = cep_kit.syntheses.generate("cmc", case.id, Level.TWO, actor="cmc-conseillere")
    assert generated.created
    _, pdf = cep_kit.syntheses.download("cmc", case.id, generated.synthesis.id)
    assert pdf.startswith(b"%PDF-")
    html = cep_kit.syntheses.build("cmc", case.id, Level.TWO).html
    assert "Conseillers mobilité carrière" in html
    assert "Confidentialité" in html


def test_funding_names_the_public_employer(cep_kit: Kit) -> None:
    query = msgspec.convert(
        {
            "training": {"cost_eur": 1200, "kind": "certification", "qualiopi": True},
            "situation": {"status": "public_agent"},
        },
        SimulationQuery,
    )
    simulation = cep_kit.funding.simulate(query, AS_OF)
    funders = [option.funder for option in simulation.plan.options]
    assert "public_employer" in funders


@pytest.mark.anyio
async def test_the_app_orients_public_agents_to_it(cep_client: Any) -> None:
    response = await cep_client.post(
        "/api/v1/orientation",
        json={"birth_date": "1980-05-01", "status": "public_agent", "as_of": "2026-03-02"},
    )
    assert response.status_code == 200
    body = response.json()
    assert [operator["id"] for operator in body["operators"]] == ["cmc"]
    assert body["redirect"] is None


def test_installed_through_its_entry_point(tmp_path: Path) -> None:
    kit = Kit(settings=Settings(data_dir=tmp_path))
    try:
        record = kit.registry.records["cmc"]
        assert record.distribution == "cep-cmc"
        orientation = kit.orientation.orient(AGENT)
        assert "cmc" in [choice.id for choice in orientation.operators]
        assert orientation.redirect is None
    finally:
        kit.close()
