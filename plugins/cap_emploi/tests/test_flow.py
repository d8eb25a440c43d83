"""Cap emploi's intake form and session steps, through a kit and its hook facade."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cep_cap_emploi import flow, hooks
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
OWN_STEPS = {
    "cap_emploi.compensation_needs",
    "cap_emploi.job_retention",
    "cap_emploi.compensation_plan",
    "cap_emploi.workstation_adaptation",
}
RETENTION = {"recognition_kind": "rqth", "currently_employed": True, "job_retention": True}


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit([hooks], load_entrypoints=False, settings=Settings(data_dir=tmp_path))


def ctx(today: date = TODAY) -> OperatorContext:
    return OperatorContext(operator="cap_emploi", today=today)


def make_case(intake: dict[str, Any] | None = None, *, status: Status = Status.EMPLOYEE) -> Case:
    return Case(
        id="case-1",
        operator="cap_emploi",
        beneficiary_id="person-1",
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(
            birth_date=date(1980, 5, 2),
            as_of=TODAY,
            status=status,
            disability_recognition=True,
        ),
        created_at=NOW,
        updated_at=NOW,
        intake=None
        if intake is None
        else IntakeRecord(channel=FormChannel.COUNSELLOR, answers=intake, submitted_at=NOW),
    )


def own(steps: list[StepDefinition]) -> dict[str, StepDefinition]:
    return {s.id: s for s in steps if s.id.startswith("cap_emploi.")}


def codes(issues: list[Any]) -> dict[str, str]:
    return {issue.path: issue.code for issue in issues}


def fields(struct: type[msgspec.Struct]) -> list[Any]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return list(info.fields)


def is_sensitive(field: Any) -> bool:
    return isinstance(field.type, msgspec.inspect.Metadata) and bool(
        (field.type.extra or {}).get("sensitive")
    )


# -- the intake form ---------------------------------------------------------------------------


def test_public_form_asks_less(kit: Kit) -> None:
    public = kit.hooks.intake_form(ctx(), FormChannel.PUBLIC)
    counsellor = kit.hooks.intake_form(ctx(), FormChannel.COUNSELLOR)
    api = kit.hooks.intake_form(ctx(), FormChannel.API)
    assert public is not None and counsellor is not None and api is not None
    assert api.input is counsellor.input is flow.CapEmploiIntake
    assert public.input is flow.CapEmploiPublicIntake
    only_counsellor = set(counsellor.input.__struct_fields__) - set(public.input.__struct_fields__)
    assert only_counsellor == {"on_sick_leave", "occupational_health_involved", "referred_by"}
    assert set(public.input.__struct_fields__) < set(counsellor.input.__struct_fields__)
    with pytest.raises(msgspec.ValidationError, match="unknown field `on_sick_leave`"):
        msgspec.convert({"recognition_kind": "rqth", "on_sick_leave": True}, public.input)
    assert "santé" in public.help


def test_every_input_is_bounded_strict_and_labelled() -> None:
    for struct in [
        flow.CapEmploiPublicIntake,
        flow.CapEmploiIntake,
        *(check[0] for check in flow.STEP_CHECKS.values()),
    ]:
        assert unbounded_fields(struct) == [], struct
        assert struct.__struct_config__.forbid_unknown_fields, struct
        for field in fields(struct):
            assert isinstance(field.type, msgspec.inspect.Metadata), (struct, field.name)
            assert field.type.extra_json_schema.get("title"), (struct, field.name)
    for choice in flow.LabelledChoice.__subclasses__():
        # Labels are looked up per choice: equal values of two choices keep their own label.
        assert set(flow.LABELS[choice]) == set(choice), choice
        for member in choice:
            assert member.label == flow.LABELS[choice][member] and member.label.strip()
            assert member.value.isascii() and member.value == member.value.lower()


def test_health_data_is_an_enumerated_status_marked_sensitive() -> None:
    marked = {
        (struct.__name__, field.name)
        for struct in [flow.CapEmploiIntake, *(c[0] for c in flow.STEP_CHECKS.values())]
        for field in fields(struct)
        if is_sensitive(field)
    }
    assert {
        ("CapEmploiIntake", "recognition_kind"),
        ("CapEmploiIntake", "recognition_valid_until"),
        ("CapEmploiIntake", "on_sick_leave"),
        ("CompensationNeeds", "needs"),
        ("CompensationPlan", "needs"),
        ("WorkstationAdaptation", "adaptations"),
    } <= marked
    # No free text anywhere in Cap emploi's inputs: nothing could hold a diagnosis.
    for struct in [flow.CapEmploiIntake, *(c[0] for c in flow.STEP_CHECKS.values())]:
        assert "StrType" not in repr(msgspec.inspect.type_info(struct)), struct


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `diagnosis`"):
        msgspec.convert({"recognition_kind": "rqth", "diagnosis": "x"}, flow.CapEmploiIntake)
    with pytest.raises(msgspec.ValidationError, match="unknown field `details`"):
        msgspec.convert({"needs": [], "details": "x"}, flow.CompensationNeeds)


@pytest.mark.parametrize(
    "answers",
    [
        {"recognition_kind": "rqth", "recognition_valid_until": "2029-12-31"},
        {"recognition_kind": "rqth", "recognition_permanent": True},
        {"recognition_kind": "rqth_pending"},
        {
            "recognition_kind": "aah",
            "recognition_valid_until": "2025-12-31",
            "renewal_requested": True,
        },
        {**RETENTION, "on_sick_leave": True, "referred_by": "occupational_health"},
    ],
)
def test_valid_intakes(kit: Kit, answers: dict[str, Any]) -> None:
    assert kit.hooks.validate_intake(ctx(), answers) == []


@pytest.mark.parametrize(
    ("answers", "path", "code", "fragment"),
    [
        (
            {"recognition_kind": "rqth", "recognition_valid_until": "2025-12-31"},
            "recognition_valid_until",
            "recognition_expired",
            "31/12/2025",
        ),
        (
            {"recognition_kind": "rqth_pending", "recognition_valid_until": "2027-01-01"},
            "recognition_valid_until",
            "pending_recognition",
            "demande de RQTH en cours",
        ),
        (
            {
                "recognition_kind": "invalidity_pension",
                "recognition_permanent": True,
                "recognition_valid_until": "2030-01-01",
            },
            "recognition_valid_until",
            "inconsistent",
            "sans limitation de durée",
        ),
        (
            {"recognition_kind": "rqth", "job_retention": True},
            "job_retention",
            "not_employed",
            "maintien dans l'emploi",
        ),
        (
            {"recognition_kind": "rqth", "on_sick_leave": True},
            "on_sick_leave",
            "not_employed",
            "arrêt de travail",
        ),
    ],
)
def test_intake_rules_in_french(
    kit: Kit, answers: dict[str, Any], path: str, code: str, fragment: str
) -> None:
    [issue] = kit.hooks.validate_intake(ctx(), answers)
    assert (issue.path, issue.code) == (path, code)
    assert fragment in issue.message


def test_expired_recognition_message_says_it_must_be_renewed(kit: Kit) -> None:
    [issue] = kit.hooks.validate_intake(
        ctx(), {"recognition_kind": "rqth", "recognition_valid_until": "2026-03-01"}
    )
    assert "renouvelée" in issue.message and "MDPH" in issue.message
    still_valid = {"recognition_kind": "rqth", "recognition_valid_until": "2026-03-02"}
    assert kit.hooks.validate_intake(ctx(), still_valid) == []


def test_dated_rules(kit: Kit) -> None:
    permanent = {"recognition_kind": "rqth", "recognition_permanent": True}
    assert codes(kit.hooks.validate_intake(ctx(date(2019, 6, 1)), permanent)) == {
        "recognition_permanent": "not_in_force"
    }
    assert kit.hooks.validate_intake(ctx(date(2020, 1, 1)), permanent) == []
    assert codes(kit.hooks.validate_intake(ctx(date(2017, 6, 1)), RETENTION)) == {
        "job_retention": "not_in_force"
    }


# -- the steps ---------------------------------------------------------------------------------


def test_steps_are_namespaced_unique_and_placed_around_the_core_ones(kit: Kit) -> None:
    case = make_case(RETENTION)
    for level in Level:
        steps = kit.hooks.session_steps(ctx(), level, case)
        ids = [s.id for s in steps]
        assert len(ids) == len(set(ids))
        for step in own(steps).values():
            assert step.id in OWN_STEPS and step.level is level and step.replaces is None
    one = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.ONE, case)}
    assert one["cap_emploi.compensation_needs"].order < one["level1.record"].order
    two = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.TWO, case)}
    project, plan = two["level2.project"], two["level2.action_plan"]
    assert two["cap_emploi.job_retention"].order < project.order
    for step_id in ("cap_emploi.compensation_plan", "cap_emploi.workstation_adaptation"):
        assert project.order < two[step_id].order < plan.order
    assert two["cap_emploi.workstation_adaptation"].depends_on == (
        "cap_emploi.job_retention",
        "level2.project",
    )


@pytest.mark.parametrize(
    ("intake", "expected"),
    [
        (
            RETENTION,
            {
                "cap_emploi.job_retention": True,
                "cap_emploi.compensation_plan": True,
                "cap_emploi.workstation_adaptation": True,
            },
        ),
        (
            {"recognition_kind": "rqth", "currently_employed": True},
            {"cap_emploi.compensation_plan": True, "cap_emploi.workstation_adaptation": False},
        ),
        ({"recognition_kind": "rqth"}, {"cap_emploi.compensation_plan": True}),
        (None, {"cap_emploi.compensation_plan": True}),
    ],
)
def test_retention_steps_follow_the_intake(
    kit: Kit, intake: dict[str, Any] | None, expected: dict[str, bool]
) -> None:
    steps = own(kit.hooks.session_steps(ctx(), Level.TWO, make_case(intake)))
    assert {step_id: step.required for step_id, step in steps.items()} == expected


def test_other_step_ids_are_ignored(kit: Kit) -> None:
    assert kit.hooks.validate_step(ctx(), make_case(RETENTION), "regional.ptp", {}) == []


def test_funders_follow_the_sector(kit: Kit) -> None:
    step = "cap_emploi.compensation_plan"
    private = make_case(RETENTION)
    agent = make_case(RETENTION, status=Status.PUBLIC_AGENT)
    needs = {"needs": ["workstation_adaptation"]}
    assert kit.hooks.validate_step(ctx(), private, step, {**needs, "funders": ["agefiph"]}) == []
    assert kit.hooks.validate_step(ctx(), agent, step, {**needs, "funders": ["fiphfp"]}) == []
    [wrong] = kit.hooks.validate_step(ctx(), private, step, {**needs, "funders": ["fiphfp"]})
    assert (wrong.path, wrong.code) == ("funders", "wrong_fund")
    assert "Agefiph" in wrong.message
    [wrong] = kit.hooks.validate_step(ctx(), agent, step, {**needs, "funders": ["agefiph"]})
    assert "FIPHFP" in wrong.message
    assert codes(kit.hooks.validate_step(ctx(), private, step, {"funders": ["employer"]})) == {
        "needs": "required"
    }


def test_employer_is_contacted_only_with_consent(kit: Kit) -> None:
    case = make_case({**RETENTION, "on_sick_leave": True})
    for step in ("cap_emploi.job_retention", "cap_emploi.workstation_adaptation"):
        base = {"adaptations": ["hours"]} if "workstation" in step else {}
        refused = kit.hooks.validate_step(ctx(), case, step, {**base, "employer_stance": "agreed"})
        assert codes(refused) == {"employer_contact_consent": "consent_required"}
        assert "accord de la personne" in refused[0].message
        agreed = {**base, "employer_stance": "agreed", "employer_contact_consent": True}
        assert kit.hooks.validate_step(ctx(), case, step, agreed) == []


def test_job_retention_dates_and_pre_return_visit(kit: Kit) -> None:
    step = "cap_emploi.job_retention"
    on_leave = make_case({**RETENTION, "on_sick_leave": True})
    working = make_case(RETENTION)
    visit = {"pre_return_visit": "planned", "planned_return_on": "2026-04-01"}
    assert kit.hooks.validate_step(ctx(), on_leave, step, visit) == []
    assert codes(kit.hooks.validate_step(ctx(), working, step, visit)) == {
        "pre_return_visit": "inconsistent"
    }
    past = {"planned_return_on": "2026-02-01"}
    assert codes(kit.hooks.validate_step(ctx(), on_leave, step, past)) == {
        "planned_return_on": "date_in_past"
    }


def test_workstation_adaptation_records_something(kit: Kit) -> None:
    step = "cap_emploi.workstation_adaptation"
    case = make_case(RETENTION)
    assert codes(kit.hooks.validate_step(ctx(), case, step, {})) == {"adaptations": "required"}
    study = {"work_situation_study_requested": True}
    assert kit.hooks.validate_step(ctx(), case, step, study) == []
    twice = {"adaptations": ["software", "software"]}
    assert codes(kit.hooks.validate_step(ctx(), case, step, twice)) == {"adaptations": "duplicate"}
