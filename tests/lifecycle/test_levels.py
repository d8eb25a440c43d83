"""Levels: independent, gated by the level-1 record, closed as completed only when done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from cep_core import CaseStatus, CloseReason, Level, StepDefinition
from cep_core.errors import TransitionRefused

if TYPE_CHECKING:
    from cep_core import Case

    from .conftest import World

Answers = dict[str, dict[str, Any]]


def complete(world: World, case: Case, step_id: str, data: dict[str, Any]) -> Case:
    return world.cases.save_step(
        case.operator, case.id, step_id, data, complete=True, expected_version=case.version
    ).case


def test_a_case_may_start_directly_at_level_two(world: World) -> None:
    opened_at_two = world.open(level=Level.TWO)
    assert (opened_at_two.status, opened_at_two.level) == (CaseStatus.LEVEL_TWO, Level.TWO)
    opened = world.open()
    assert opened.level is None
    started = world.cases.start_level_2("op_a", opened.id, expected_version=opened.version)
    assert (started.status, started.level) == (CaseStatus.LEVEL_TWO, Level.TWO)
    assert "level1.record" not in started.steps  # no level-1 record needed to get there


def test_level_two_after_level_one_needs_the_record_and_the_decision(
    world: World, answers: Answers
) -> None:
    case = world.open(level=Level.ONE)
    with pytest.raises(TransitionRefused) as refused:
        world.cases.start_level_2("op_a", case.id, expected_version=case.version)
    [issue] = refused.value.issues
    assert issue.path == "steps.level1.record"
    assert "compte rendu du niveau 1 doit être terminé" in issue.message
    no = {**answers["level1.record"], "continues": False}
    case = complete(world, case, "level1.record", no)
    with pytest.raises(TransitionRefused) as refused:
        world.cases.start_level_2("op_a", case.id, expected_version=case.version)
    [issue] = refused.value.issues
    assert issue.path == "steps.level1.record.continues"
    assert "ne souhaite pas poursuivre" in issue.message
    assert world.cases.get_case("op_a", case.id) == case  # nothing written
    case = complete(world, case, "level1.record", answers["level1.record"])
    started = world.cases.start_level_2("op_a", case.id, expected_version=case.version)
    assert (started.status, started.level) == (CaseStatus.LEVEL_TWO, Level.TWO)
    assert started.steps["level1.record"].completed  # the level-1 record stays with the case


def test_closing_level_one_as_completed_names_every_missing_step(
    world: World, answers: Answers
) -> None:
    case = world.open(level=Level.ONE)
    case = world.cases.save_step(  # a draft does not count
        "op_a", case.id, "level1.record", {"request": "?"}, expected_version=case.version
    ).case
    with pytest.raises(TransitionRefused) as refused:
        world.cases.close("op_a", case.id, CloseReason.COMPLETED, expected_version=case.version)
    issues = refused.value.issues
    assert [i.path for i in issues] == ["steps.op_a.positioning", "steps.level1.record"]
    assert "« Positionnement »" in issues[0].message
    assert "« Compte rendu du niveau 1 »" in issues[1].message
    assert all("niveau 1 n'est pas terminée" in i.message for i in issues)
    case = complete(world, case, "op_a.positioning", {"score": 3})
    case = complete(world, case, "level1.record", answers["level1.record"])
    closed = world.cases.close(
        "op_a", case.id, CloseReason.COMPLETED, expected_version=case.version, actor="c-2"
    )
    assert closed.status is CaseStatus.CLOSED
    assert closed.closure is not None
    assert (closed.closure.reason, closed.closure.by) == (CloseReason.COMPLETED, "c-2")
    assert world.cases.case_events("op_a", case.id)[-1].reason == "completed"


def test_closing_level_two_as_completed_needs_project_plan_and_required_operator_steps(
    world: World, answers: Answers
) -> None:
    from cep_core import Level1Record

    world.a.extra_steps.append(
        StepDefinition(id="op_a.bilan", level=Level.TWO, title="Bilan", input=Level1Record)
    )
    case = world.open(level=Level.TWO)
    with pytest.raises(TransitionRefused) as refused:
        world.cases.close("op_a", case.id, CloseReason.COMPLETED, expected_version=case.version)
    assert [i.path for i in refused.value.issues] == [
        "steps.level2.project",
        "steps.op_a.bilan",
        "steps.level2.action_plan",
    ]  # flow order; the optional follow-up is not required
    case = complete(world, case, "level2.project", answers["level2.project"])
    case = complete(world, case, "level2.action_plan", answers["level2.action_plan"])
    with pytest.raises(TransitionRefused) as refused:
        world.cases.close("op_a", case.id, CloseReason.COMPLETED, expected_version=case.version)
    assert [i.path for i in refused.value.issues] == ["steps.op_a.bilan"]
    case = complete(world, case, "op_a.bilan", answers["level1.record"])
    progress = world.cases.progress("op_a", case.id)
    assert progress is not None
    assert (progress.required, progress.completed, progress.percent) == (3, 3, 100)
    closed = world.cases.close(
        "op_a", case.id, CloseReason.COMPLETED, expected_version=case.version
    )
    assert closed.status is CaseStatus.CLOSED


@pytest.mark.parametrize(
    "reason", [CloseReason.ABANDONED, CloseReason.UNREACHABLE, CloseReason.MOVED_AWAY,
               CloseReason.OTHER],
)  # fmt: skip
def test_other_close_reasons_need_no_step(world: World, reason: CloseReason) -> None:
    case = world.open(level=Level.TWO)
    closed = world.cases.close("op_a", case.id, reason, expected_version=case.version)
    assert closed.closure is not None
    assert closed.closure.reason is reason
    assert world.cases.case_events("op_a", case.id)[-1].reason == reason.value


def test_close_and_refer_inputs_are_checked_in_french(world: World) -> None:
    from cep_core.domain.issues import InvalidInput
    from cep_core.domain.lifecycle import Action

    case = world.open(level=Level.ONE)
    with pytest.raises(InvalidInput, match="motif de clôture"):
        world.cases.transition("op_a", case.id, Action.CLOSE, expected_version=1)
    with pytest.raises(InvalidInput, match="Motif de clôture inconnu"):
        world.cases.close("op_a", case.id, "bored", expected_version=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="de 1 à 1000 caractères"):
        world.cases.close("op_a", case.id, CloseReason.OTHER, note="x" * 1001, expected_version=1)
    with pytest.raises(InvalidInput, match="ne s'indique que"):
        world.cases.transition(
            "op_a", case.id, Action.PAUSE, close_reason=CloseReason.OTHER, expected_version=1
        )
    with pytest.raises(InvalidInput, match="Action inconnue"):
        world.cases.transition("op_a", case.id, "fly", expected_version=1)  # type: ignore[arg-type]
    assert world.cases.get_case("op_a", case.id).version == 1
