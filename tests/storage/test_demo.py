"""Demo seeding: every operator gets cases from its own public, once, reproducibly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pytest

from cep_core.domain.case import Case, CaseStatus, CloseReason, Level
from cep_core.domain.situation import Status
from cep_core.domain.steps import (
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    ActionPlan,
    CareerProject,
)
from cep_core.kit import Kit
from cep_core.services.cases import CaseService
from cep_core.services.demo import DEMO_ACTOR, Stage, seed_demo
from cep_core.services.syntheses import SynthesisService
from cep_core.settings import Settings
from cep_core.storage.database import Database

if TYPE_CHECKING:
    from .conftest import FakeClock, KitFactory

REAL_OPERATORS = ("apec", "cap_emploi", "mission_locale", "pole_emploi", "regional")
OPERATORS = (*REAL_OPERATORS, "op_x")  # op_x: an operator the demo knows nothing about


def all_cases(kit: Kit, database: Database, clock: FakeClock) -> dict[str, list[Case]]:
    service = CaseService(database, kit.hooks, clock=clock)
    return {operator: list(service.list_cases(operator, limit=200).items) for operator in OPERATORS}


def test_seeding_is_spread_over_every_operator_and_idempotent(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory(operators=OPERATORS)
    calls: list[tuple[int, int]] = []
    created = seed_demo(
        database, kit.hooks, clock, per_operator=4, progress=lambda d, t: calls.append((d, t))
    )
    assert created == 4 * len(OPERATORS)
    assert calls == [(n, created) for n in range(1, created + 1)]
    found = all_cases(kit, database, clock)
    assert {operator: len(items) for operator, items in found.items()} == dict.fromkeys(
        OPERATORS, 4
    )

    assert seed_demo(database, kit.hooks, clock, per_operator=4) == 0  # nothing duplicated
    assert seed_demo(database, kit.hooks, clock, per_operator=6) == 2 * len(OPERATORS)  # top-up
    found = all_cases(kit, database, clock)
    assert all(len(items) == 6 for items in found.values())
    service = CaseService(database, kit.hooks, clock=clock)
    for operator, items in found.items():
        for case in items:
            journal = service.case_events(operator, case.id)
            assert journal[0].kind == "opened"
            assert {event.actor for event in journal} == {DEMO_ACTOR}
            assert sum(event.kind == "opened" for event in journal) == 1


def test_each_operator_gets_its_own_public(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory(operators=OPERATORS)
    seed_demo(database, kit.hooks, clock, per_operator=8)
    service = CaseService(database, kit.hooks, clock=clock)
    for operator in OPERATORS:
        for case in service.list_cases(operator).items:
            s = case.situation
            assert s.problems() == []
            person = service.get_beneficiary(operator, case.beneficiary_id)
            assert person is not None
            assert person.email is not None
            assert person.email.endswith(".invalid")  # never a real mailbox
            if operator == "apec":
                assert s.cadre
            elif operator == "mission_locale":
                assert 16 <= s.age < 26
            elif operator == "cap_emploi":
                assert s.disability_recognition
            elif operator == "pole_emploi":
                assert s.status is Status.JOBSEEKER
                assert s.registered_jobseeker
            elif operator == "regional":
                assert s.status in {Status.EMPLOYEE, Status.SELF_EMPLOYED}
                assert not s.cadre
            else:
                assert s.status is Status.EMPLOYEE  # the fallback for an unknown public
    levels = {c.level for op in OPERATORS for c in service.list_cases(op).items}
    assert levels == {None, Level.ONE, Level.TWO}  # a mix of opened, level-1 and level-2 cases


def test_seeding_is_reproducible(
    database: Database, kit_factory: KitFactory, clock: FakeClock, tmp_path: Path
) -> None:
    kit = kit_factory(operators=OPERATORS)
    other = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        other.upgrade()
        seed_demo(database, kit.hooks, clock, per_operator=3)
        seed_demo(other, kit.hooks, clock, per_operator=3)

        def people(db: Database) -> set[tuple[str, str, str | None, object]]:
            service = CaseService(db, kit.hooks, clock=clock)
            found: set[tuple[str, str, str | None, object]] = set()
            for operator in OPERATORS:
                for case in service.list_cases(operator).items:
                    person = service.get_beneficiary(operator, case.beneficiary_id)
                    assert person is not None
                    found.add((operator, person.last_name, person.email, case.situation))
            return found

        assert people(database) == people(other)
    finally:
        other.dispose()


def test_a_kit_can_be_passed_whole(database_url: str, kit_factory: KitFactory) -> None:
    kit = kit_factory(database_url)
    kit.database.upgrade()
    assert seed_demo(kit, per_operator=2) == 4  # op_a and op_b
    assert seed_demo(kit, per_operator=2) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_people_are_in_the_real_plugins_public(database: Database, tmp_path: Path) -> None:
    """Cross-check with the real operator plugins: each says the person is in its public."""
    kit = Kit(settings=Settings(data_dir=tmp_path, plugins=None), load_entrypoints=True)
    try:
        installed = {info.id for info in kit.hooks.operators()}
        if kit.registry.refused or not set(REAL_OPERATORS) <= installed:
            pytest.skip(
                f"the five operator plugins are not all usable here: {kit.registry.refused}"
            )
        seed_demo(database, kit.hooks, kit.clock, per_operator=6)
        service = CaseService(database, kit.hooks, clock=kit.clock)
        for operator in REAL_OPERATORS:
            for case in service.list_cases(operator).items:
                competences, failures = kit.hooks.assess_competences(case.situation)
                assert failures == []
                verdict = {c.operator: c for c in competences}[operator]
                assert verdict.competent, (operator, case.situation, verdict.reason)
    finally:
        kit.close()


def stage_of(case: Case) -> Stage:
    """The stage a demo case shows, read from the case alone."""
    if case.status is CaseStatus.CLOSED:
        assert case.closure is not None
        return Stage.COMPLETED if case.closure.reason is CloseReason.COMPLETED else Stage.CLOSED
    if case.status is CaseStatus.LEVEL_TWO:
        return Stage.FUNDED if case.funding_plan is not None else Stage.LEVEL_2
    return Stage(case.status.value)


def test_every_stage_appears_for_every_operator_with_real_content(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory(operators=OPERATORS)
    seed_demo(database, kit.hooks, clock, per_operator=len(Stage))
    service = CaseService(database, kit.hooks, clock=clock)
    today = clock.now.date()
    for operator in OPERATORS:
        full = [service.get_case(operator, c.id, confidential_notes=True)
                for c in service.list_cases(operator).items]  # fmt: skip
        assert {stage_of(case) for case in full} == set(Stage), operator
        for case in full:
            if case.status is CaseStatus.OPENED:
                assert case.sessions == () and case.steps == {}
                continue
            assert case.sessions, (operator, case.status)
            for session in case.sessions:
                assert session.start.date() < today  # sessions lie in the past
                assert 0 < session.duration_minutes <= 480
                assert session.notes is None or "santé" not in session.notes.lower()
            assert case.step_completed(LEVEL_ONE_RECORD)
            record = case.steps[LEVEL_ONE_RECORD].data
            assert record["request"] and record["clarified_need"] and record["shared_review"]
            assert record["continues"] is (stage_of(case) is not Stage.CLOSED)
            if case.status is CaseStatus.REFERRED:
                assert case.referral is not None
                assert case.referral.target_operator in OPERATORS
                assert case.referral.target_operator != operator
                assert record["referral"]["operator"] == case.referral.target_operator
            if case.level is Level.TWO:
                project = msgspec.convert(case.steps[LEVEL_TWO_PROJECT].data, CareerProject)
                assert project.target_job and project.rome_code
                if case.status is CaseStatus.PAUSED:
                    assert case.paused_from is CaseStatus.LEVEL_TWO
                    assert LEVEL_TWO_ACTION_PLAN not in case.steps
                    continue
                plan = msgspec.convert(case.steps[LEVEL_TWO_ACTION_PLAN].data, ActionPlan)
                assert plan.services and plan.personal_steps and plan.milestones
                assert all(s.provider_qualiopi is not None for s in plan.services if s.provider)
                assert all(m.on > today for m in plan.milestones)  # the plan looks ahead
        # Different people get different projects.
        projects = {str(c.steps[LEVEL_TWO_PROJECT].data["description"]) for c in full
                    if LEVEL_TWO_PROJECT in c.steps}  # fmt: skip
        assert len(projects) > 1, operator


def test_the_journal_of_a_level_two_demo_case_tells_its_history_in_order(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory()
    seed_demo(database, kit.hooks, clock, per_operator=1)  # the first case: level 2, funded
    service = CaseService(database, kit.hooks, clock=clock)
    [case] = service.list_cases("op_a").items
    assert case.status is CaseStatus.LEVEL_TWO and case.funding_plan is not None
    lines = [(e.kind, e.to_status, e.reason) for e in service.case_events("op_a", case.id)]
    sessions = [(kind, None, reason) for kind, _, reason in lines if kind == "session_recorded"]
    assert len(sessions) == len(case.sessions) >= 2
    expected = [
        ("opened", CaseStatus.OPENED, None),
        ("transition", CaseStatus.LEVEL_ONE, None),
        sessions[0],
        ("step_completed", None, LEVEL_ONE_RECORD),
        ("transition", CaseStatus.LEVEL_TWO, None),
        *sessions[1:],
        ("step_completed", None, LEVEL_TWO_PROJECT),
        ("step_completed", None, LEVEL_TWO_ACTION_PLAN),
        ("funding_plan_attached", None, "certification"),
    ]
    assert lines == expected
    assert [e.seq for e in service.case_events("op_a", case.id)] == list(range(1, len(lines) + 1))


def test_a_level_two_demo_case_renders_its_project_and_action_plan(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory()
    seed_demo(database, kit.hooks, clock, per_operator=1)
    [case] = CaseService(database, kit.hooks, clock=clock).list_cases("op_a").items
    syntheses = SynthesisService(database, kit.hooks, kit.registry, clock=clock)
    generated = syntheses.generate("op_a", case.id, Level.TWO)
    _, pdf = syntheses.download("op_a", case.id, generated.synthesis.id)
    text = " ".join(pdf_text(pdf).split())
    project = case.steps[LEVEL_TWO_PROJECT].data
    plan = case.steps[LEVEL_TWO_ACTION_PLAN].data
    assert project["target_job"] in text and project["rome_code"] in text
    assert project["description"] in text
    for strategy in project["strategies"]:
        assert strategy in text
    for service in plan["services"]:
        assert " ".join(service["label"].split()[:3]) in text
        assert service["provider"] in text
    assert "Non renseigné" not in text
    assert "Plan de financement" in text


def pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("poppler-utils missing (pdftotext): .ci/run installs it")
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True,
        timeout=60,
    ).stdout.decode("utf-8")  # fmt: skip
