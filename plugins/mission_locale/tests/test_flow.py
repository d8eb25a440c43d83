"""The Missions locales' intake form and session steps, through a kit and its hook facade."""

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
from cep_core.domain.case import IntakeRecord, StepRecord
from cep_core.domain.forms import unbounded_fields
from cep_mission_locale import flow, hooks

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWN_STEPS = {
    "mission_locale.living_situation",
    "mission_locale.programme_link",
    "mission_locale.qualification_path",
    "mission_locale.barriers_plan",
}
CEJ = {
    "schooling_level": "level_3",
    "followed_by": ["mission_locale"],
    "programme": "cej",
    "programme_start_on": "2025-11-03",
}
LIVING = {"housing": "with_parents", "mobility": ["public_transport"], "resources": ["none"]}


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit([hooks], load_entrypoints=False, settings=Settings(data_dir=tmp_path))


def ctx(today: date = TODAY) -> OperatorContext:
    return OperatorContext(operator="mission_locale", today=today)


def make_case(
    intake: dict[str, Any] | None = None, *, living: dict[str, Any] | None = None
) -> Case:
    steps = {}
    if living is not None:
        steps[flow.LIVING_SITUATION] = StepRecord(data=living, completed=False, updated_at=NOW)
    return Case(
        id="case-1",
        operator="mission_locale",
        beneficiary_id="person-1",
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(birth_date=date(2006, 4, 12), as_of=TODAY, status=Status.INACTIVE),
        created_at=NOW,
        updated_at=NOW,
        intake=None
        if intake is None
        else IntakeRecord(channel=FormChannel.COUNSELLOR, answers=intake, submitted_at=NOW),
        steps=steps,
    )


def own(steps: list[StepDefinition]) -> dict[str, StepDefinition]:
    return {s.id: s for s in steps if s.id.startswith("mission_locale.")}


def codes(issues: list[Any]) -> dict[str, str]:
    return {issue.path: issue.code for issue in issues}


# -- the intake form ---------------------------------------------------------------------------


def test_public_form_asks_less(kit: Kit) -> None:
    public = kit.hooks.intake_form(ctx(), FormChannel.PUBLIC)
    counsellor = kit.hooks.intake_form(ctx(), FormChannel.COUNSELLOR)
    api = kit.hooks.intake_form(ctx(), FormChannel.API)
    assert public is not None and counsellor is not None and api is not None
    assert api.input is counsellor.input is flow.MissionLocaleIntake
    only_counsellor = set(counsellor.input.__struct_fields__) - set(public.input.__struct_fields__)
    assert only_counsellor == {"last_diploma_title", "programme", "programme_start_on"}
    assert set(public.input.__struct_fields__) < set(counsellor.input.__struct_fields__)
    with pytest.raises(msgspec.ValidationError, match="unknown field `programme`"):
        msgspec.convert({"schooling_level": "level_4", "programme": "cej"}, public.input)


def test_every_input_is_bounded_strict_and_labelled() -> None:
    for struct in [
        flow.MissionLocalePublicIntake,
        flow.MissionLocaleIntake,
        flow.BarrierAction,
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


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `parents`"):
        msgspec.convert({"schooling_level": "level_4", "parents": "x"}, flow.MissionLocaleIntake)
    with pytest.raises(msgspec.ValidationError, match="unknown field `address`"):
        msgspec.convert({**LIVING, "address": "x"}, flow.LivingSituation)


@pytest.mark.parametrize(
    "answers",
    [
        {"schooling_level": "no_diploma", "left_education_on": "2024-07-05"},
        {"schooling_level": "level_6_plus", "in_education": True, "followed_by": ["cap_emploi"]},
        CEJ,
        {**CEJ, "followed_by": ["france_travail"]},
        {"schooling_level": "level_3", "followed_by": ["mission_locale"], "programme": "pacea"},
    ],
)
def test_valid_intakes(kit: Kit, answers: dict[str, Any]) -> None:
    assert kit.hooks.validate_intake(ctx(), answers) == []


@pytest.mark.parametrize(
    ("answers", "path", "code", "fragment"),
    [
        (
            {"schooling_level": "level_4", "in_education": True, "left_education_on": "2024-06-30"},
            "left_education_on",
            "inconsistent",
            "plus scolarisé",
        ),
        (
            {"schooling_level": "level_4", "left_education_on": "2026-06-30"},
            "left_education_on",
            "date_in_future",
            "30/06/2026",
        ),
        (
            {"schooling_level": "level_3", "followed_by": ["cap_emploi"], "programme": "pacea"},
            "followed_by",
            "programme_follower",
            "une mission locale",
        ),
        (
            {**CEJ, "followed_by": ["epide"]},
            "followed_by",
            "programme_follower",
            "une mission locale ou France Travail",
        ),
        (
            {**CEJ, "programme_start_on": "2021-10-01"},
            "programme",
            "not_in_force",
            "01/10/2021",
        ),
        (
            {**CEJ, "in_education": True},
            "programme",
            "not_eligible",
            "ni étudiants ni en formation",
        ),
        (
            {"schooling_level": "level_3", "programme_start_on": "2025-01-01"},
            "programme_start_on",
            "inconsistent",
            "programme",
        ),
        (
            {"schooling_level": "level_3", "followed_by": ["e2c", "e2c"]},
            "followed_by",
            "duplicate",
            "une fois",
        ),
    ],
)
def test_intake_rules_in_french(
    kit: Kit, answers: dict[str, Any], path: str, code: str, fragment: str
) -> None:
    [issue] = kit.hooks.validate_intake(ctx(), answers)
    assert (issue.path, issue.code) == (path, code)
    assert fragment in issue.message


# -- the steps ---------------------------------------------------------------------------------


def test_steps_are_namespaced_unique_and_placed_around_the_core_ones(kit: Kit) -> None:
    case = make_case(
        {**CEJ, "schooling_level": "no_diploma"}, living={**LIVING, "barriers": ["housing"]}
    )
    for level in Level:
        steps = kit.hooks.session_steps(ctx(), level, case)
        ids = [s.id for s in steps]
        assert len(ids) == len(set(ids))
        for step in own(steps).values():
            assert step.id in OWN_STEPS and step.level is level and step.replaces is None
    one = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.ONE, case)}
    assert one["mission_locale.living_situation"].order < one["level1.record"].order
    assert one["mission_locale.living_situation"].required
    two = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.TWO, case)}
    project, plan = two["level2.project"], two["level2.action_plan"]
    for step_id in OWN_STEPS - {"mission_locale.living_situation"}:
        assert project.order < two[step_id].order < plan.order
    assert two["mission_locale.qualification_path"].depends_on == ("level2.project",)


@pytest.mark.parametrize(
    ("intake", "living", "expected"),
    [
        (
            {"schooling_level": "no_diploma"},
            None,
            {
                "mission_locale.programme_link": False,
                "mission_locale.barriers_plan": False,
                "mission_locale.qualification_path": True,
            },
        ),
        (
            CEJ,
            {**LIVING, "barriers": ["mobility"]},
            {"mission_locale.programme_link": True, "mission_locale.barriers_plan": True},
        ),
        (
            CEJ,
            LIVING,
            {"mission_locale.programme_link": True, "mission_locale.barriers_plan": False},
        ),
        (
            None,
            None,
            {"mission_locale.programme_link": False, "mission_locale.barriers_plan": False},
        ),
    ],
)
def test_steps_follow_the_intake_and_level_one(
    kit: Kit,
    intake: dict[str, Any] | None,
    living: dict[str, Any] | None,
    expected: dict[str, bool],
) -> None:
    steps = own(kit.hooks.session_steps(ctx(), Level.TWO, make_case(intake, living=living)))
    assert {step_id: step.required for step_id, step in steps.items()} == expected


def test_a_draft_with_unknown_values_does_not_break_the_flow(kit: Kit) -> None:
    case = make_case(CEJ, living={"barriers": ["teleportation", "housing"], "housing": 3})
    steps = own(kit.hooks.session_steps(ctx(), Level.TWO, case))
    assert steps["mission_locale.barriers_plan"].required is True


def test_other_step_ids_are_ignored(kit: Kit) -> None:
    assert kit.hooks.validate_step(ctx(), make_case(CEJ), "apec.positioning", {}) == []


def test_living_situation_rules(kit: Kit) -> None:
    step = "mission_locale.living_situation"
    case = make_case(CEJ)
    good = {
        "housing": "young_workers_home",
        "mobility": ["bicycle", "public_transport"],
        "driving_licence": "in_progress",
        "resources": ["programme_allowance"],
        "monthly_resources_cents": 52_800,
        "barriers": ["mobility"],
    }
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {
        "housing": "hosted",
        "mobility": ["none", "car"],
        "resources": ["none", "wages"],
        "monthly_resources_cents": 10_000,
    }
    assert codes(kit.hooks.validate_step(ctx(), case, step, bad)) == {
        "mobility": "inconsistent",
        "resources": "inconsistent",
        "monthly_resources_cents": "inconsistent",
    }
    no_programme = make_case({"schooling_level": "level_3"})
    assert codes(kit.hooks.validate_step(ctx(), no_programme, step, good)) == {
        "resources": "inconsistent"
    }


def test_cej_weekly_activity_and_length(kit: Kit) -> None:
    step = "mission_locale.programme_link"
    case = make_case(CEJ)
    good = {"programme": "cej", "weekly_activity_hours": 15, "programme_end_on": "2027-05-03"}
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {"programme": "cej", "weekly_activity_hours": 10, "programme_end_on": "2027-05-04"}
    issues = kit.hooks.validate_step(ctx(), case, step, bad)
    assert codes(issues) == {
        "weekly_activity_hours": "out_of_range",
        "programme_end_on": "too_long",
    }
    assert "de 15 à 20 heures" in issues[0].message
    assert "18 mois" in issues[1].message and "03/05/2027" in issues[1].message
    # The PACEA has neither rule.
    pacea = {"programme": "pacea", "weekly_activity_hours": 4, "programme_end_on": "2028-01-01"}
    assert kit.hooks.validate_step(ctx(), case, step, pacea) == []


def test_allowance_needs_a_programme(kit: Kit) -> None:
    step = "mission_locale.programme_link"
    case = make_case({"schooling_level": "level_3"})
    assert codes(kit.hooks.validate_step(ctx(), case, step, {"allowance_requested": True})) == {
        "allowance_requested": "no_programme"
    }
    assert kit.hooks.validate_step(ctx(), case, step, {"allowance_requested": False}) == []
    before_cej = kit.hooks.validate_step(ctx(date(2021, 6, 1)), case, step, {"programme": "cej"})
    assert codes(before_cej) == {"programme": "not_in_force"}


def test_qualification_path_rules(kit: Kit) -> None:
    step = "mission_locale.qualification_path"
    case = make_case({"schooling_level": "no_diploma"})
    good = {
        "route": "apprenticeship",
        "target_level": "level_3",
        "target_certification_code": "RNCP35200",
        "planned_start_on": "2026-09-01",
    }
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {"route": "e2c", "target_level": "no_diploma", "planned_start_on": "2026-01-05"}
    assert codes(kit.hooks.validate_step(ctx(), case, step, bad)) == {
        "target_level": "inconsistent",
        "planned_start_on": "date_in_past",
    }


def test_barrier_plan_covers_every_recorded_barrier(kit: Kit) -> None:
    step = "mission_locale.barriers_plan"
    case = make_case(CEJ, living={**LIVING, "barriers": ["housing", "mobility"]})
    housing = {"barrier": "housing", "action": "Demande en foyer de jeunes travailleurs"}
    mobility = {"barrier": "mobility", "action": "Aide au permis", "due_on": "2026-06-30"}
    assert kit.hooks.validate_step(ctx(), case, step, {"actions": [housing, mobility]}) == []
    [issue] = kit.hooks.validate_step(ctx(), case, step, {"actions": [housing]})
    assert (issue.path, issue.code) == ("actions", "barrier_without_action")
    assert "Mobilité" in issue.message
    overdue = {**mobility, "due_on": "2026-01-31"}
    assert codes(kit.hooks.validate_step(ctx(), case, step, {"actions": [housing, overdue]})) == {
        "actions[1].due_on": "date_in_past"
    }
