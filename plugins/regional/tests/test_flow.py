"""The regional operators' intake form and session steps, through a kit and its hook facade."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    funding_parameters,
)
from cep_core.domain.case import IntakeRecord
from cep_core.domain.forms import unbounded_fields
from cep_regional import flow, hooks

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWN_STEPS = {
    "regional.employer_information",
    "regional.entretien_professionnel",
    "regional.ptp",
    "regional.demission_reconversion",
}


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit([hooks], load_entrypoints=False, settings=Settings(data_dir=tmp_path))


def ctx(today: date = TODAY) -> OperatorContext:
    return OperatorContext(operator="regional", today=today)


def make_case(
    intake: dict[str, Any] | None = None, *, disability_recognition: bool = False
) -> Case:
    return Case(
        id="case-1",
        operator="regional",
        beneficiary_id="person-1",
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(
            birth_date=date(1985, 3, 10),
            as_of=TODAY,
            status=Status.EMPLOYEE,
            disability_recognition=disability_recognition,
        ),
        created_at=NOW,
        updated_at=NOW,
        intake=None
        if intake is None
        else IntakeRecord(channel=FormChannel.COUNSELLOR, answers=intake, submitted_at=NOW),
    )


def step_ids(kit: Kit, level: Level, case: Case, today: date = TODAY) -> list[str]:
    return [s.id for s in kit.hooks.session_steps(ctx(today), level, case)]


def own(steps: list[StepDefinition]) -> dict[str, StepDefinition]:
    return {s.id: s for s in steps if s.id.startswith("regional.")}


def codes(issues: list[Any]) -> dict[str, str]:
    return {issue.path: issue.code for issue in issues}


# -- the intake form ---------------------------------------------------------------------------


def test_public_form_asks_less_and_nothing_only_a_counsellor_judges(kit: Kit) -> None:
    public = kit.hooks.intake_form(ctx(), FormChannel.PUBLIC)
    counsellor = kit.hooks.intake_form(ctx(), FormChannel.COUNSELLOR)
    api = kit.hooks.intake_form(ctx(), FormChannel.API)
    assert public is not None and counsellor is not None and api is not None
    assert {public.operator, counsellor.operator, api.operator} == {"regional"}
    assert api.input is counsellor.input is flow.RegionalIntake
    public_fields = set(public.input.__struct_fields__)
    full_fields = set(counsellor.input.__struct_fields__)
    assert public_fields < full_fields
    assert {"sessions_in_working_time", "working_time_agreement", "company_entry_on"} <= (
        full_fields - public_fields
    )
    with pytest.raises(msgspec.ValidationError, match="unknown field `working_time_agreement`"):
        msgspec.convert({"contract": "cdi", "working_time_agreement": True}, public.input)
    assert public.title and public.help and counsellor.title


def test_employer_is_not_informed_by_default() -> None:
    for struct in (flow.RegionalPublicIntake, flow.RegionalIntake):
        answers = msgspec.convert({"contract": "cdi"}, struct)
        assert answers.employer_informed is False
    assert flow.RegionalIntake(contract=flow.Contract.CDI).sessions_in_working_time is False


def test_every_input_is_bounded_strict_and_labelled() -> None:
    structs = [
        flow.RegionalPublicIntake,
        flow.RegionalIntake,
        *(check[0] for check in flow.STEP_CHECKS.values()),
    ]
    for struct in structs:
        assert unbounded_fields(struct) == [], struct
        assert struct.__struct_config__.forbid_unknown_fields, struct
        for field in msgspec.inspect.type_info(struct).fields:
            assert isinstance(field.type, msgspec.inspect.Metadata), (struct, field.name)
            assert field.type.extra_json_schema.get("title"), (struct, field.name)
    for choice in flow.LabelledChoice.__subclasses__():
        # Labels are looked up per choice: equal values of two choices keep their own label.
        assert set(flow.LABELS[choice]) == set(choice), choice
        for member in choice:
            assert member.label == flow.LABELS[choice][member] and member.label.strip()
            assert member.value.isascii() and member.value == member.value.lower()


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `salary`"):
        msgspec.convert({"contract": "cdi", "salary": 1}, flow.RegionalIntake)
    with pytest.raises(msgspec.ValidationError, match="unknown field `extra`"):
        msgspec.convert({"training_start_on": "2026-09-01", "extra": 1}, flow.TransitionProject)


def test_valid_intake_has_no_issue(kit: Kit) -> None:
    answers = {
        "contract": "cdi",
        "employer_size": "from_50_to_299",
        "paths_considered": ["ptp", "demission_reconversion"],
        "company_entry_on": "2019-05-01",
        "last_professional_review_on": "2025-01-15",
        "sessions_in_working_time": True,
        "working_time_agreement": True,
    }
    assert kit.hooks.validate_intake(ctx(), answers) == []
    assert kit.hooks.validate_intake(ctx(), {"contract": "self_employed"}) == []


@pytest.mark.parametrize(
    ("answers", "path", "code", "fragment"),
    [
        (
            {"contract": "cdi", "sessions_in_working_time": True},
            "sessions_in_working_time",
            "agreement_required",
            "hors du temps de travail",
        ),
        (
            {"contract": "cdd", "paths_considered": ["demission_reconversion"]},
            "paths_considered",
            "not_eligible",
            "CDI de droit privé",
        ),
        (
            {"contract": "self_employed", "paths_considered": ["ptp"]},
            "paths_considered",
            "not_eligible",
            "réservé aux salariés",
        ),
        (
            {"contract": "self_employed", "employer_size": "under_11"},
            "employer_size",
            "not_applicable",
            "pas d'employeur",
        ),
        (
            {"contract": "self_employed", "last_professional_review_on": "2025-01-01"},
            "last_professional_review_on",
            "not_applicable",
            "concerne les salariés",
        ),
        (
            {"contract": "cdi", "company_entry_on": "2026-05-01"},
            "company_entry_on",
            "date_in_future",
            "01/05/2026",
        ),
        (
            {
                "contract": "cdi",
                "company_entry_on": "2024-01-01",
                "last_professional_review_on": "2023-06-01",
            },
            "last_professional_review_on",
            "before_hiring",
            "entrée dans l'entreprise",
        ),
        (
            {"contract": "cdi", "paths_considered": ["vae", "vae"]},
            "paths_considered",
            "duplicate",
            "une fois",
        ),
    ],
)
def test_intake_rules_in_french(
    kit: Kit, answers: dict[str, Any], path: str, code: str, fragment: str
) -> None:
    issues = kit.hooks.validate_intake(ctx(), answers)
    matching = [i for i in issues if i.path == path]
    assert matching, issues
    assert matching[0].code == code
    assert fragment in matching[0].message


def test_public_answers_are_validated_too(kit: Kit) -> None:
    public = msgspec.to_builtins(
        flow.RegionalPublicIntake(
            contract=flow.Contract.CDD,
            paths_considered=[flow.TransitionPath.RESIGNATION_RETRAINING],
        )
    )
    assert codes(kit.hooks.validate_intake(ctx(), public)) == {"paths_considered": "not_eligible"}


# -- the steps ---------------------------------------------------------------------------------


def test_steps_are_namespaced_unique_and_placed_around_the_core_ones(kit: Kit) -> None:
    case = make_case({"contract": "cdi", "paths_considered": ["ptp"]})
    for level in Level:
        steps = kit.hooks.session_steps(ctx(), level, case)
        ids = [s.id for s in steps]
        assert len(ids) == len(set(ids))
        for step in own(steps).values():
            assert step.id in OWN_STEPS
            assert step.level is level
            assert step.replaces is None
            assert step.title and step.help
    level_one = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.ONE, case)}
    assert level_one["regional.employer_information"].order < level_one["level1.record"].order
    level_two = {s.id: s for s in kit.hooks.session_steps(ctx(), Level.TWO, case)}
    project, plan = level_two["level2.project"], level_two["level2.action_plan"]
    assert level_two["regional.entretien_professionnel"].order < project.order
    for step_id in ("regional.ptp", "regional.demission_reconversion"):
        assert project.order < level_two[step_id].order < plan.order
        assert level_two[step_id].depends_on == ("level2.project",)


@pytest.mark.parametrize(
    ("intake", "level_one", "level_two"),
    [
        (
            {"contract": "cdi"},
            {"regional.employer_information"},
            {"regional.entretien_professionnel", "regional.ptp", "regional.demission_reconversion"},
        ),
        (
            {"contract": "cdd"},
            {"regional.employer_information"},
            {"regional.entretien_professionnel", "regional.ptp"},
        ),
        (
            {"contract": "interim"},
            {"regional.employer_information"},
            {"regional.entretien_professionnel"},
        ),
        ({"contract": "self_employed"}, set(), set()),
        (None, {"regional.employer_information"}, {"regional.entretien_professionnel"}),
    ],
)
def test_steps_follow_the_contract(
    kit: Kit, intake: dict[str, Any] | None, level_one: set[str], level_two: set[str]
) -> None:
    case = make_case(intake)
    assert set(own(kit.hooks.session_steps(ctx(), Level.ONE, case))) == level_one
    assert set(own(kit.hooks.session_steps(ctx(), Level.TWO, case))) == level_two


def test_paths_considered_make_the_transition_steps_required(kit: Kit) -> None:
    considered = own(
        kit.hooks.session_steps(
            ctx(),
            Level.TWO,
            make_case({"contract": "cdi", "paths_considered": ["demission_reconversion"]}),
        )
    )
    assert considered["regional.demission_reconversion"].required is True
    assert considered["regional.ptp"].required is False
    assert considered["regional.entretien_professionnel"].required is False


def test_transition_steps_do_not_exist_before_their_schemes(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    before_ptp = set(step_ids(kit, Level.TWO, case, date(2018, 6, 1)))
    assert "regional.ptp" not in before_ptp
    assert "regional.demission_reconversion" not in before_ptp
    between = set(step_ids(kit, Level.TWO, case, date(2019, 6, 1)))
    assert "regional.ptp" in between
    assert "regional.demission_reconversion" not in between


def test_other_step_ids_are_ignored(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    assert kit.hooks.validate_step(ctx(), case, "apec.positioning", {"anything": 1}) == []


# -- employer information (rule 2) --------------------------------------------------------------


def test_employer_information_needs_consent_and_a_scope(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    step = "regional.employer_information"
    assert kit.hooks.validate_step(ctx(), case, step, {}) == []
    assert (
        kit.hooks.validate_step(
            ctx(),
            case,
            step,
            {
                "employer_to_be_informed": True,
                "consent_given_on": "2026-02-20",
                "scope": ["attendance"],
            },
        )
        == []
    )
    missing = kit.hooks.validate_step(ctx(), case, step, {"employer_to_be_informed": True})
    assert codes(missing) == {"consent_given_on": "consent_required", "scope": "required"}
    assert "accord de la personne" in missing[0].message
    silent = kit.hooks.validate_step(ctx(), case, step, {"scope": ["project"]})
    assert codes(silent) == {"scope": "consent_required"}


# -- entretien professionnel ---------------------------------------------------------------------


def test_next_review_within_the_legal_period(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    step = "regional.entretien_professionnel"
    # Last one in 2024, next planned in 2027: the 4-year rule (from 26 October 2025) applies.
    ok = {"last_review_on": "2024-01-10", "next_review_planned_on": "2027-12-01"}
    assert kit.hooks.validate_step(ctx(), case, step, ok) == []
    late = {"last_review_on": "2024-01-10", "next_review_planned_on": "2028-02-01"}
    [issue] = kit.hooks.validate_step(ctx(), case, step, late)
    assert (issue.path, issue.code) == ("next_review_planned_on", "review_overdue")
    assert "tous les 4 ans" in issue.message
    assert "10/01/2028" in issue.message


def test_the_two_year_rule_before_the_2025_reform(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    step = "regional.entretien_professionnel"
    today = date(2024, 6, 1)
    answers = {"last_review_on": "2022-01-10", "next_review_planned_on": "2024-09-01"}
    [issue] = kit.hooks.validate_step(ctx(today), case, step, answers)
    assert "tous les 2 ans" in issue.message
    answers["next_review_planned_on"] = "2024-01-05"
    assert kit.hooks.validate_step(ctx(today), case, step, answers) == []


def test_review_dates_run_forwards(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    step = "regional.entretien_professionnel"
    issues = kit.hooks.validate_step(
        ctx(), case, step, {"last_review_on": "2026-04-01", "next_review_planned_on": "2026-03-01"}
    )
    assert codes(issues) == {
        "last_review_on": "date_in_future",
        "next_review_planned_on": "before_last_review",
    }


# -- PTP ----------------------------------------------------------------------------------------

CDI_INTAKE = {"contract": "cdi", "company_entry_on": "2020-01-06", "paths_considered": ["ptp"]}
GOOD_PTP = {
    "certification_code": "RNCP34828",
    "training_start_on": "2026-09-07",
    "training_end_on": "2027-06-30",
    "continuous_absence_months": 10,
    "leave_request_on": "2026-04-20",
    "salaried_months_total": 96,
}


def test_a_complete_cdi_ptp_passes(kit: Kit) -> None:
    assert kit.hooks.validate_step(ctx(), make_case(CDI_INTAKE), "regional.ptp", GOOD_PTP) == []


def test_ptp_requires_a_certifying_training(kit: Kit) -> None:
    answers = {**GOOD_PTP, "certification_code": None}
    [issue] = kit.hooks.validate_step(ctx(), make_case(CDI_INTAKE), "regional.ptp", answers)
    assert (issue.path, issue.code) == ("certification_code", "certification_required")
    assert "RNCP ou RS" in issue.message


def test_ptp_is_for_cdi_and_cdd_only(kit: Kit) -> None:
    for intake in ({"contract": "interim"}, None):
        [issue] = kit.hooks.validate_step(ctx(), make_case(intake), "regional.ptp", GOOD_PTP)
        assert issue.code == "not_eligible"


def test_cdi_seniority(kit: Kit) -> None:
    young = make_case({"contract": "cdi", "company_entry_on": "2025-09-01"})
    answers = {**GOOD_PTP, "salaried_months_total": 20}
    issues = kit.hooks.validate_step(ctx(), young, "regional.ptp", answers)
    assert codes(issues) == {"salaried_months_total": "seniority", "months_in_company": "seniority"}
    assert "24 mois" in issues[0].message and "12 mois" in issues[1].message
    # The counsellor's own count wins over the entry date.
    counted = {**GOOD_PTP, "months_in_company": 14}
    assert kit.hooks.validate_step(ctx(), young, "regional.ptp", counted) == []
    unknown = make_case({"contract": "cdi"})
    assert codes(kit.hooks.validate_step(ctx(), unknown, "regional.ptp", GOOD_PTP)) == {
        "months_in_company": "required"
    }


def test_cdd_seniority_and_start_window(kit: Kit) -> None:
    case = make_case({"contract": "cdd"})
    answers = {
        **GOOD_PTP,
        "salaried_months_last_5_years": 30,
        "cdd_months_last_12_months": 5,
        "cdd_end_on": "2026-06-30",
    }
    assert kit.hooks.validate_step(ctx(), case, "regional.ptp", answers) == []
    short = {**answers, "salaried_months_last_5_years": 20, "cdd_months_last_12_months": 3}
    assert codes(kit.hooks.validate_step(ctx(), case, "regional.ptp", short)) == {
        "salaried_months_last_5_years": "seniority",
        "cdd_months_last_12_months": "seniority",
    }
    late = {**answers, "cdd_end_on": "2026-02-28"}
    [issue] = kit.hooks.validate_step(ctx(), case, "regional.ptp", late)
    assert (issue.path, issue.code) == ("training_start_on", "too_late_after_cdd")
    assert "28/08/2026" in issue.message


def test_seniority_exemptions(kit: Kit) -> None:
    newcomer = {"contract": "cdi", "company_entry_on": "2025-12-01"}
    answers = {**GOOD_PTP, "salaried_months_total": 3, "seniority_exemption": "boeth"}
    assert (
        kit.hooks.validate_step(
            ctx(), make_case(newcomer, disability_recognition=True), "regional.ptp", answers
        )
        == []
    )
    assert codes(kit.hooks.validate_step(ctx(), make_case(newcomer), "regional.ptp", answers)) == {
        "seniority_exemption": "inconsistent"
    }
    absence = {**answers, "seniority_exemption": "long_absence"}
    assert kit.hooks.validate_step(ctx(), make_case(newcomer), "regional.ptp", absence) == []
    before = date(2022, 1, 10)
    absence["training_start_on"] = "2022-09-01"
    absence["leave_request_on"] = "2022-03-01"
    assert codes(
        kit.hooks.validate_step(ctx(before), make_case(newcomer), "regional.ptp", absence)
    ) == {"seniority_exemption": "not_in_force"}


def test_leave_request_notice(kit: Kit) -> None:
    case = make_case(CDI_INTAKE)
    late = {**GOOD_PTP, "leave_request_on": "2026-06-01"}  # 98 days before a long absence
    [issue] = kit.hooks.validate_step(ctx(), case, "regional.ptp", late)
    assert (issue.path, issue.code) == ("leave_request_on", "notice_too_short")
    assert "120 jours" in issue.message and "10/05/2026" in issue.message
    part_time = {**late, "part_time_training": True}  # 60 days are enough
    assert kit.hooks.validate_step(ctx(), case, "regional.ptp", part_time) == []
    too_soon = {**GOOD_PTP, "leave_request_on": None, "training_start_on": "2026-04-15"}
    [issue] = kit.hooks.validate_step(ctx(), case, "regional.ptp", too_soon)
    assert (issue.path, issue.code) == ("training_start_on", "notice_too_short")


@given(days=st.integers(min_value=0, max_value=400), months=st.integers(min_value=0, max_value=24))
def test_notice_is_refused_exactly_when_too_short(days: int, months: int) -> None:
    start = date(2027, 1, 4)
    answers = flow.TransitionProject(
        training_start_on=start,
        leave_request_on=start - timedelta(days=days),
        continuous_absence_months=months,
    )
    needed = 120 if months >= 6 else 60
    refused = bool(flow._check_ptp_notice(TODAY, answers, funding_parameters()))
    assert refused is (days < needed)


# -- démission-reconversion ----------------------------------------------------------------------


def test_resignation_retraining_rules(kit: Kit) -> None:
    case = make_case({"contract": "cdi"})
    step = "regional.demission_reconversion"
    good = {
        "project_kind": "training",
        "days_worked_last_60_months": 1350,
        "cep_part_signed_on": "2026-02-25",
        "file_sent_to_transitions_pro": True,
    }
    assert kit.hooks.validate_step(ctx(), case, step, good) == []
    bad = {
        "project_kind": "business_creation",
        "days_worked_last_60_months": 1000,
        "already_resigned": True,
        "file_sent_to_transitions_pro": True,
    }
    issues = kit.hooks.validate_step(ctx(), case, step, bad)
    assert codes(issues) == {
        "already_resigned": "cep_after_resignation",
        "days_worked_last_60_months": "seniority",
        "cep_part_signed_on": "required",
    }
    assert "1300 jours" in issues[1].message
    [issue] = kit.hooks.validate_step(ctx(), make_case({"contract": "cdd"}), step, good)
    assert issue.code == "not_eligible"
    assert "CDI de droit privé" in issue.message
