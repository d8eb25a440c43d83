"""The Apec's intake form and session steps, through a kit and its hook facade."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cep_apec import flow, hooks
from cep_core import (
    Case,
    CaseStatus,
    FormChannel,
    Kit,
    Level,
    OperatorContext,
    Settings,
    Situation,
    Status,
    StepDefinition,
)
from cep_core.domain.case import IntakeRecord
from cep_core.domain.forms import unbounded_fields

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWN_STEPS = {"apec.situation_review", "apec.positioning", "apec.job_search_strategy"}
IN_POST = {
    "cadre_basis": "cadre_contract",
    "position_title": "Responsable contrôle de gestion",
    "position_current": True,
    "request": "evolve_in_company",
}
SEEKING = {
    "cadre_basis": "former_cadre",
    "position_title": "Directrice commerciale",
    "position_current": False,
    "request": "find_job",
    "position_ended_on": "2025-12-31",
}


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit([hooks], load_entrypoints=False, settings=Settings(data_dir=tmp_path))


def ctx(today: date = TODAY) -> OperatorContext:
    return OperatorContext(operator="apec", today=today)


def make_case(intake: dict[str, Any] | None = None) -> Case:
    return Case(
        id="case-1",
        operator="apec",
        beneficiary_id="person-1",
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(
            birth_date=date(1978, 11, 3), as_of=TODAY, status=Status.EMPLOYEE, cadre=True
        ),
        created_at=NOW,
        updated_at=NOW,
        intake=None
        if intake is None
        else IntakeRecord(channel=FormChannel.COUNSELLOR, answers=intake, submitted_at=NOW),
    )


def own(steps: list[StepDefinition]) -> dict[str, StepDefinition]:
    return {s.id: s for s in steps if s.id.startswith("apec.")}


def codes(issues: list[Any]) -> dict[str, str]:
    return {issue.path: issue.code for issue in issues}


# -- the intake form ---------------------------------------------------------------------------


def test_public_form_asks_less_and_nothing_about_pay(kit: Kit) -> None:
    public = kit.hooks.intake_form(ctx(), FormChannel.PUBLIC)
    counsellor = kit.hooks.intake_form(ctx(), FormChannel.COUNSELLOR)
    api = kit.hooks.intake_form(ctx(), FormChannel.API)
    assert public is not None and counsellor is not None and api is not None
    assert api.input is counsellor.input is flow.ApecIntake
    public_fields = set(public.input.__struct_fields__)
    assert public_fields == {"cadre_basis", "position_title", "position_current", "request"}
    assert public_fields < set(counsellor.input.__struct_fields__)
    with pytest.raises(msgspec.ValidationError, match="unknown field `annual_gross_pay_cents`"):
        msgspec.convert({**IN_POST, "annual_gross_pay_cents": 6_000_000}, public.input)


def test_every_input_is_bounded_strict_and_labelled() -> None:
    for struct in [
        flow.ApecPublicIntake,
        flow.ApecIntake,
        *(check[0] for check in flow.STEP_CHECKS.values()),
    ]:
        assert unbounded_fields(struct) == [], struct
        assert struct.__struct_config__.forbid_unknown_fields, struct
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            assert isinstance(field.type, msgspec.inspect.Metadata), (struct, field.name)
            assert field.type.extra_json_schema.get("title"), (struct, field.name)
    for choice in flow.LabelledChoice.__subclasses__():
        # Labels are looked up per choice: equal values of two choices keep their own label.
        assert set(flow.LABELS[choice]) == set(choice), choice
        for member in choice:
            assert member.label == flow.LABELS[choice][member] and member.label.strip()
            assert member.value.isascii() and member.value == member.value.lower()


def test_unknown_fields_and_bounds() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `employer`"):
        msgspec.convert({**IN_POST, "employer": "ACME"}, flow.ApecIntake)
    with pytest.raises(msgspec.ValidationError, match="length"):
        msgspec.convert({**IN_POST, "position_title": "x" * 151}, flow.ApecIntake)
    with pytest.raises(msgspec.ValidationError, match="length"):
        msgspec.convert({"key_skills": []}, flow.MarketPositioning)


@pytest.mark.parametrize(
    "answers",
    [
        IN_POST,
        SEEKING,
        {
            **IN_POST,
            "position_rome": "M1204",
            "years_as_cadre": 12,
            "manages_team": True,
            "team_size": 6,
            "annual_gross_pay_cents": 6_500_000,
        },
        {
            "cadre_basis": "young_graduate",
            "position_title": "Ingénieure d'études",
            "position_current": False,
            "request": "first_job",
            "graduation_year": 2025,
        },
    ],
)
def test_valid_intakes(kit: Kit, answers: dict[str, Any]) -> None:
    assert kit.hooks.validate_intake(ctx(), answers) == []


@pytest.mark.parametrize(
    ("answers", "path", "code", "fragment"),
    [
        (
            {**IN_POST, "position_ended_on": "2025-06-30"},
            "position_ended_on",
            "inconsistent",
            "pas de date de fin",
        ),
        (
            {**SEEKING, "position_ended_on": "2026-06-30"},
            "position_ended_on",
            "date_in_future",
            "30/06/2026",
        ),
        ({**IN_POST, "team_size": 4}, "team_size", "inconsistent", "encadre une équipe"),
        ({**IN_POST, "graduation_year": 2027}, "graduation_year", "date_in_future", "2027"),
        ({**SEEKING, "request": "first_job"}, "request", "inconsistent", "jeunes diplômé(e)s"),
        (
            {**SEEKING, "request": "evolve_in_company"},
            "request",
            "inconsistent",
            "occuper un poste",
        ),
    ],
)
def test_intake_rules_in_french(
    kit: Kit, answers: dict[str, Any], path: str, code: str, fragment: str
) -> None:
    [issue] = kit.hooks.validate_intake(ctx(), answers)
    assert (issue.path, issue.code) == (path, code)
    assert fragment in issue.message


def test_public_answers_are_validated_too(kit: Kit) -> None:
    public = msgspec.to_builtins(
        flow.ApecPublicIntake(
            cadre_basis=flow.CadreBasis.CONTRACT,
            position_title="Chef de projet",
            position_current=True,
            request=flow.Request.FIRST_JOB,
        )
    )
    assert codes(kit.hooks.validate_intake(ctx(), public)) == {"request": "inconsistent"}


# -- the steps ---------------------------------------------------------------------------------


def test_steps_are_namespaced_unique_and_placed_around_the_core_ones(kit: Kit) -> None:
    case = make_case(SEEKING)
    for level in Level:
        steps = kit.hooks.session_steps(ctx(), level, case)
        ids = [s.id for s in steps]
        assert len(ids) == len(set(ids))
        for step in own(steps).values():
            assert step.id in OWN_STEPS and step.level is level and step.replaces is None
    one = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.ONE, case)}
    assert one["apec.situation_review"].order < one["level1.record"].order
    two = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.TWO, case)}
    project, plan = two["level2.project"], two["level2.action_plan"]
    assert two["apec.positioning"].order < project.order
    strategy = two["apec.job_search_strategy"]
    assert project.order < strategy.order < plan.order
    assert strategy.depends_on == ("apec.positioning", "level2.project")


@pytest.mark.parametrize(
    ("intake", "expected"),
    [
        (SEEKING, {"apec.positioning", "apec.job_search_strategy"}),
        (
            {**IN_POST, "request": "change_employer"},
            {"apec.positioning", "apec.job_search_strategy"},
        ),
        (IN_POST, {"apec.positioning"}),
        ({**IN_POST, "request": "reconversion"}, {"apec.positioning"}),
        ({**SEEKING, "request": "reconversion"}, {"apec.positioning", "apec.job_search_strategy"}),
        (None, {"apec.positioning"}),
    ],
)
def test_job_search_step_follows_the_request(
    kit: Kit, intake: dict[str, Any] | None, expected: set[str]
) -> None:
    steps = own(kit.hooks.session_steps(ctx(), Level.TWO, make_case(intake)))
    assert set(steps) == expected
    assert all(step.required for step in steps.values())


def test_other_step_ids_are_ignored(kit: Kit) -> None:
    assert kit.hooks.validate_step(ctx(), make_case(IN_POST), "regional.ptp", {}) == []


def test_situation_review_rules(kit: Kit) -> None:
    step = "apec.situation_review"
    risk = {"urgency": "within_six_months", "employment_risk": "restructuring"}
    assert kit.hooks.validate_step(ctx(), make_case(IN_POST), step, risk) == []
    assert codes(kit.hooks.validate_step(ctx(), make_case(SEEKING), step, risk)) == {
        "employment_risk": "inconsistent"
    }


def test_positioning_rules(kit: Kit) -> None:
    step = "apec.positioning"
    case = make_case(IN_POST)
    good = {
        "key_skills": ["Pilotage budgétaire", "Management d'équipe"],
        "target_functions": ["Direction administrative et financière"],
        "target_rome_codes": ["M1205", "M1204"],
        "mobility": "regional",
        "market_reading": "balanced",
        "target_pay_min_cents": 7_000_000,
        "target_pay_max_cents": 8_500_000,
    }
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {**good, "target_rome_codes": ["M1205", "M1205"], "target_pay_max_cents": 6_000_000}
    assert codes(kit.hooks.validate_step(ctx(), case, step, bad)) == {
        "target_pay_max_cents": "inconsistent",
        "target_rome_codes": "duplicate",
    }


@given(
    low=st.integers(min_value=0, max_value=1_000_000_000),
    high=st.integers(min_value=0, max_value=1_000_000_000),
)
def test_pay_range_is_refused_exactly_when_inverted(low: int, high: int) -> None:
    answers = flow.MarketPositioning(
        key_skills=["Négociation"], target_pay_min_cents=low, target_pay_max_cents=high
    )
    refused = any(
        i.path == "target_pay_max_cents"
        for i in flow.check_positioning(TODAY, make_case(IN_POST), answers)
    )
    assert refused is (low > high)


def test_job_search_strategy_rules(kit: Kit) -> None:
    step = "apec.job_search_strategy"
    good = {
        "channels": ["apec_offers", "network"],
        "target_companies": ["Entreprise A", "Entreprise B"],
        "cv_updated": True,
        "next_review_on": "2026-04-01",
    }
    assert kit.hooks.validate_step(ctx(), make_case(SEEKING), step, good) == []
    internal = {**good, "channels": ["internal_mobility", "network"]}
    assert kit.hooks.validate_step(ctx(), make_case(IN_POST), step, internal) == []
    late = {**internal, "next_review_on": "2026-02-01"}
    assert codes(kit.hooks.validate_step(ctx(), make_case(SEEKING), step, late)) == {
        "channels": "inconsistent",
        "next_review_on": "date_in_past",
    }
