"""France Travail's intake form and session steps, through a kit and its hook facade."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

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
from cep_pole_emploi import flow, hooks

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWN_STEPS = {
    "pole_emploi.plan_review",
    "pole_emploi.registration",
    "pole_emploi.plan_consistency",
    "pole_emploi.jobseeker_aids",
}
REGISTERED = {
    "registered": True,
    "registration_id": "1234567A",
    "registered_on": "2025-09-15",
    "category": "a",
    "referent": "france_travail",
    "plan_kind": "engagement_contract",
    "plan_signed_on": "2025-10-01",
    "pathway": "professional",
    "income": "are",
    "income_ends_on": "2027-03-31",
}


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit([hooks], load_entrypoints=False, settings=Settings(data_dir=tmp_path))


def ctx(today: date = TODAY) -> OperatorContext:
    return OperatorContext(operator="pole_emploi", today=today)


def make_case(intake: dict[str, Any] | None = None) -> Case:
    return Case(
        id="case-1",
        operator="pole_emploi",
        beneficiary_id="person-1",
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(
            birth_date=date(1990, 1, 20),
            as_of=TODAY,
            status=Status.JOBSEEKER,
            registered_jobseeker=bool(intake and intake.get("registered")),
        ),
        created_at=NOW,
        updated_at=NOW,
        intake=None
        if intake is None
        else IntakeRecord(channel=FormChannel.COUNSELLOR, answers=intake, submitted_at=NOW),
    )


def own(steps: list[StepDefinition]) -> dict[str, StepDefinition]:
    return {s.id: s for s in steps if s.id.startswith("pole_emploi.")}


def codes(issues: list[Any]) -> dict[str, str]:
    return {issue.path: issue.code for issue in issues}


# -- the intake form ---------------------------------------------------------------------------


def test_public_form_asks_less(kit: Kit) -> None:
    public = kit.hooks.intake_form(ctx(), FormChannel.PUBLIC)
    counsellor = kit.hooks.intake_form(ctx(), FormChannel.COUNSELLOR)
    api = kit.hooks.intake_form(ctx(), FormChannel.API)
    assert public is not None and counsellor is not None and api is not None
    assert api.input is counsellor.input is flow.FranceTravailIntake
    public_fields = set(public.input.__struct_fields__)
    assert public_fields == {"registered", "registration_id", "target_job", "income"}
    assert public_fields < set(counsellor.input.__struct_fields__)
    with pytest.raises(msgspec.ValidationError, match="unknown field `category`"):
        msgspec.convert({"registered": True, "category": "a"}, public.input)


def test_every_input_is_bounded_strict_and_labelled() -> None:
    for struct in [
        flow.FranceTravailPublicIntake,
        flow.FranceTravailIntake,
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


def test_same_value_in_two_choices_keeps_each_label() -> None:
    assert flow.PlanKind.ENGAGEMENT_CONTRACT == flow.RegistrationTopic.ENGAGEMENT_CONTRACT
    assert flow.PlanKind.ENGAGEMENT_CONTRACT.label == "Contrat d'engagement"
    assert flow.RegistrationTopic.ENGAGEMENT_CONTRACT.label == "Contrat d'engagement et parcours"


def test_unknown_fields_and_malformed_ids_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `nir`"):
        msgspec.convert({"registered": True, "nir": "1"}, flow.FranceTravailIntake)
    with pytest.raises(msgspec.ValidationError, match="regex"):
        msgspec.convert({"registered": True, "registration_id": "12 34"}, flow.FranceTravailIntake)
    with pytest.raises(msgspec.ValidationError, match="length"):
        msgspec.convert({"registered": True, "registration_id": "1" * 21}, flow.FranceTravailIntake)


@pytest.mark.parametrize(
    ("answers", "today"),
    [
        (REGISTERED, TODAY),
        ({"registered": False, "target_job": "Aide-soignant(e)", "income": "rsa"}, TODAY),
        (
            {
                **REGISTERED,
                "plan_kind": "ppae",
                "plan_signed_on": "2024-03-01",
                "registered_on": "2024-02-01",
                "pathway": None,
                "category": "b",
            },
            date(2024, 6, 1),
        ),
        ({**REGISTERED, "category": "f", "pathway": "social"}, TODAY),
        ({**REGISTERED, "category": "g", "pathway": None}, TODAY),
    ],
)
def test_valid_intakes(kit: Kit, answers: dict[str, Any], today: date) -> None:
    assert kit.hooks.validate_intake(ctx(today), answers) == []


@pytest.mark.parametrize(
    ("answers", "path", "code", "fragment"),
    [
        (
            {"registered": True},
            "registration_id",
            "required",
            "identifiant France Travail",
        ),
        (
            {"registered": False, "registration_id": "1234567A"},
            "registration_id",
            "not_registered",
            "inscription",
        ),
        (
            {**REGISTERED, "plan_kind": "ppae"},
            "plan_kind",
            "not_in_force",
            "« Contrat d'engagement », le plan en vigueur depuis le 01/01/2025",
        ),
        (
            {**REGISTERED, "plan_signed_on": "2025-09-01"},
            "plan_signed_on",
            "before_registration",
            "15/09/2025",
        ),
        (
            {**REGISTERED, "category": "g", "pathway": "professional"},
            "pathway",
            "inconsistent",
            "catégorie G",
        ),
        (
            {**REGISTERED, "category": "f"},
            "pathway",
            "inconsistent",
            "parcours social",
        ),
        (
            {**REGISTERED, "income": "none"},
            "income_ends_on",
            "inconsistent",
            "allocation",
        ),
        (
            {
                **REGISTERED,
                "registered_on": "2026-04-01",
                "plan_signed_on": None,
                "plan_kind": None,
            },
            "registered_on",
            "date_in_future",
            "01/04/2026",
        ),
    ],
)
def test_intake_rules_in_french(
    kit: Kit, answers: dict[str, Any], path: str, code: str, fragment: str
) -> None:
    [issue] = kit.hooks.validate_intake(ctx(), answers)
    assert (issue.path, issue.code) == (path, code)
    assert fragment in issue.message


def test_categories_and_pathways_are_dated(kit: Kit) -> None:
    in_2024 = {
        **REGISTERED,
        "registered_on": "2024-01-10",
        "plan_kind": "ppae",
        "plan_signed_on": "2024-02-01",
        "category": "f",
        "pathway": "social",
    }
    issues = kit.hooks.validate_intake(ctx(date(2024, 6, 1)), in_2024)
    assert codes(issues) == {"category": "not_in_force", "pathway": "not_in_force"}
    assert "catégorie F" in issues[0].message
    # A PPAE signed in 2024 is still a PPAE when read in 2026.
    assert codes(kit.hooks.validate_intake(ctx(), in_2024)) == {}


def test_every_problem_of_an_unregistered_person_is_listed(kit: Kit) -> None:
    answers = {"registered": False, "registered_on": "2025-01-01", "category": "a"}
    assert codes(kit.hooks.validate_intake(ctx(), answers)) == {
        "registered_on": "not_registered",
        "category": "not_registered",
    }


# -- the steps ---------------------------------------------------------------------------------


def test_steps_are_namespaced_unique_and_placed_around_the_core_ones(kit: Kit) -> None:
    case = make_case(REGISTERED)
    for level in Level:
        steps = kit.hooks.session_steps(ctx(), level, case)
        ids = [s.id for s in steps]
        assert len(ids) == len(set(ids))
        for step in own(steps).values():
            assert step.id in OWN_STEPS and step.level is level and step.replaces is None
    one = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.ONE, case)}
    assert one["pole_emploi.plan_review"].order < one["level1.record"].order
    two = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.TWO, case)}
    project, plan = two["level2.project"], two["level2.action_plan"]
    for step_id in ("pole_emploi.plan_consistency", "pole_emploi.jobseeker_aids"):
        assert project.order < two[step_id].order < plan.order
        assert two[step_id].depends_on == ("level2.project",)


@pytest.mark.parametrize(
    ("intake", "level_one", "level_two"),
    [
        (
            REGISTERED,
            {"pole_emploi.plan_review": True},
            {"pole_emploi.plan_consistency": True, "pole_emploi.jobseeker_aids": False},
        ),
        ({"registered": False}, {"pole_emploi.registration": True}, {}),
        (None, {"pole_emploi.plan_review": False}, {}),
    ],
)
def test_steps_follow_the_registration(
    kit: Kit,
    intake: dict[str, Any] | None,
    level_one: dict[str, bool],
    level_two: dict[str, bool],
) -> None:
    case = make_case(intake)
    for level, expected in ((Level.ONE, level_one), (Level.TWO, level_two)):
        steps = own(kit.hooks.session_steps(ctx(), level, case))
        assert {step_id: step.required for step_id, step in steps.items()} == expected


def test_other_step_ids_are_ignored(kit: Kit) -> None:
    assert kit.hooks.validate_step(ctx(), make_case(REGISTERED), "regional.ptp", {}) == []


def test_plan_review_explains_a_difference(kit: Kit) -> None:
    step = "pole_emploi.plan_review"
    case = make_case(REGISTERED)
    assert kit.hooks.validate_step(ctx(), case, step, {"match": "matches"}) == []
    assert codes(kit.hooks.validate_step(ctx(), case, step, {"match": "differs"})) == {
        "difference": "required"
    }
    explained = {"match": "differs", "difference": "Projet de reconversion vers le soin."}
    assert kit.hooks.validate_step(ctx(), case, step, explained) == []


def test_registration_step(kit: Kit) -> None:
    step = "pole_emploi.registration"
    case = make_case({"registered": False})
    good = {"wishes_to_register": True, "planned_on": "2026-03-10"}
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {"wishes_to_register": False, "planned_on": "2026-02-10"}
    issues = kit.hooks.validate_step(ctx(), case, step, bad)
    assert [(i.path, i.code) for i in issues] == [
        ("planned_on", "inconsistent"),
        ("planned_on", "date_in_past"),
    ]


def test_plan_consistency_rules(kit: Kit) -> None:
    step = "pole_emploi.plan_consistency"
    case = make_case(REGISTERED)
    good = {"consistency": "updated", "plan_updated_on": "2026-02-27"}
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    assert codes(kit.hooks.validate_step(ctx(), case, step, {"consistency": "updated"})) == {
        "plan_updated_on": "required"
    }
    contradiction = {"consistency": "consistent", "reasonable_offer_review": True}
    assert codes(kit.hooks.validate_step(ctx(), case, step, contradiction)) == {
        "reasonable_offer_review": "inconsistent"
    }
    assert (
        kit.hooks.validate_step(
            ctx(), case, step, {"consistency": "update_needed", "reasonable_offer_review": True}
        )
        == []
    )


def test_jobseeker_aids_rules(kit: Kit) -> None:
    step = "pole_emploi.jobseeker_aids"
    case = make_case(REGISTERED)
    good = {"aids": ["aif", "mobility_aid"], "training_start_on": "2026-05-04"}
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    issues = kit.hooks.validate_step(ctx(), case, step, {"aids": ["cpf_top_up", "poei"]})
    assert codes(issues) == {
        "training_start_on": "required",
        "hiring_employer_identified": "required",
    }
    assert "Abondement du CPF par France Travail" in issues[0].message
    hiring = {"aids": ["afpr"], "hiring_employer_identified": True}
    assert kit.hooks.validate_step(ctx(), case, step, hiring) == []
    late = {"aids": ["aif"], "training_start_on": "2026-02-02"}
    assert codes(kit.hooks.validate_step(ctx(), case, step, late)) == {
        "training_start_on": "date_in_past"
    }
    [issue] = kit.hooks.validate_step(ctx(), make_case({"registered": False}), step, good)
    assert issue.code == "not_registered"
