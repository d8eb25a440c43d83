"""The state machine: every status × every action, through the service and as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cep_core import Case, CaseStatus, CloseReason, Level, ReferralReason, Situation, Status
from cep_core.domain.lifecycle import (
    ACTIVE,
    TERMINAL,
    Action,
    allowed_actions,
    plan,
    refusal,
    target_status,
)
from cep_core.errors import TransitionRefused

if TYPE_CHECKING:
    from .conftest import World

S = CaseStatus
A = Action

# What each action leads to from each status; None: refused by the state machine.
TABLE: dict[CaseStatus, dict[Action, CaseStatus | None]] = {
    S.OPENED: {
        A.START_LEVEL_1: S.LEVEL_ONE,
        A.START_LEVEL_2: S.LEVEL_TWO,
        A.PAUSE: S.PAUSED,
        A.RESUME: None,
        A.CLOSE: S.CLOSED,
        A.REFER: S.REFERRED,
    },
    S.LEVEL_ONE: {
        A.START_LEVEL_1: None,
        A.START_LEVEL_2: S.LEVEL_TWO,
        A.PAUSE: S.PAUSED,
        A.RESUME: None,
        A.CLOSE: S.CLOSED,
        A.REFER: S.REFERRED,
    },
    S.LEVEL_TWO: {
        A.START_LEVEL_1: None,
        A.START_LEVEL_2: None,
        A.PAUSE: S.PAUSED,
        A.RESUME: None,
        A.CLOSE: S.CLOSED,
        A.REFER: S.REFERRED,
    },
    S.PAUSED: {  # paused from level 1
        A.START_LEVEL_1: None,
        A.START_LEVEL_2: None,
        A.PAUSE: None,
        A.RESUME: S.LEVEL_ONE,
        A.CLOSE: None,
        A.REFER: None,
    },
    S.CLOSED: dict.fromkeys(Action),
    S.REFERRED: dict.fromkeys(Action),
}

ARGUMENTS: dict[Action, dict[str, Any]] = {
    A.CLOSE: {"close_reason": CloseReason.ABANDONED},
    A.REFER: {"target_operator": "op_b", "referral_reason": ReferralReason.BETTER_SUITED},
}


def case_in(world: World, status: CaseStatus, answers: dict[str, dict[str, Any]]) -> Case:
    """A case of op_a in `status`; at level 1 its record is done, so level 2 may start."""
    svc = world.cases
    if status is S.OPENED:
        return world.open()
    if status is S.LEVEL_TWO:
        return world.open(level=Level.TWO)
    case = world.open(level=Level.ONE)
    case = svc.save_step(
        "op_a",
        case.id,
        "level1.record",
        answers["level1.record"],
        complete=True,
        expected_version=case.version,
    ).case
    v = case.version
    if status is S.PAUSED:
        return svc.pause("op_a", case.id, expected_version=v)
    if status is S.CLOSED:
        return svc.close("op_a", case.id, CloseReason.ABANDONED, expected_version=v)
    if status is S.REFERRED:
        return svc.refer("op_a", case.id, "op_b", ReferralReason.OTHER, expected_version=v)
    return case


@pytest.mark.parametrize("status", list(TABLE))
@pytest.mark.parametrize("action", list(Action))
def test_every_status_and_action(
    world: World, answers: dict[str, dict[str, Any]], status: CaseStatus, action: Action
) -> None:
    case = case_in(world, status, answers)
    assert case.status is status
    expected = TABLE[status][action]
    journal = world.cases.case_events("op_a", case.id)
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            world.cases.transition(
                "op_a", case.id, action, expected_version=case.version, **ARGUMENTS.get(action, {})
            )
        [issue] = refused.value.issues
        assert issue.path == "status"
        assert issue.code == "transition_refused"
        assert issue.message.startswith(("Impossible", "Le niveau"))
        assert "refusé" in str(refused.value)
        # Nothing written: same version, same journal.
        assert world.cases.get_case("op_a", case.id) == case
        assert world.cases.case_events("op_a", case.id) == journal
        return
    after = world.cases.transition(
        "op_a", case.id, action, expected_version=case.version, **ARGUMENTS.get(action, {})
    )
    assert after.status is expected
    assert after.version == case.version + 1
    events = world.cases.case_events("op_a", case.id)
    assert len(events) == len(journal) + 1
    last = events[-1]
    assert (last.kind, last.from_status, last.to_status) == ("transition", status, expected)


def test_the_paused_status_and_level_are_kept_for_resuming(world: World) -> None:
    case = world.open(level=Level.TWO)
    paused = world.cases.pause("op_a", case.id, expected_version=case.version)
    assert (paused.status, paused.paused_from, paused.level) == (S.PAUSED, S.LEVEL_TWO, Level.TWO)
    resumed = world.cases.resume("op_a", case.id, expected_version=paused.version)
    assert (resumed.status, resumed.paused_from, resumed.level) == (S.LEVEL_TWO, None, Level.TWO)


def test_an_opened_case_cannot_be_closed_as_completed(world: World) -> None:
    case = world.open()
    with pytest.raises(TransitionRefused) as refused:
        world.cases.close("op_a", case.id, CloseReason.COMPLETED, expected_version=case.version)
    [issue] = refused.value.issues
    assert issue.path == "reason"
    assert "aucun niveau" in issue.message
    closed = world.cases.close(
        "op_a", case.id, CloseReason.UNREACHABLE, note="Trois appels sans réponse.",
        expected_version=case.version,
    )  # fmt: skip
    assert closed.status is S.CLOSED
    assert closed.closure is not None
    assert (closed.closure.reason, closed.closure.note) == (
        CloseReason.UNREACHABLE,
        "Trois appels sans réponse.",
    )


# -- the pure rules --------------------------------------------------------------------------

SITUATION = Situation(birth_date=date(1990, 1, 1), as_of=date(2026, 1, 1), status=Status.EMPLOYEE)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def bare_case(status: CaseStatus, paused_from: CaseStatus | None = None) -> Case:
    return Case(
        id="c",
        operator="op",
        beneficiary_id="b",
        status=status,
        level=None,
        situation=SITUATION,
        created_at=NOW,
        updated_at=NOW,
        paused_from=paused_from,
    )


statuses = st.sampled_from(list(CaseStatus))
actions = st.sampled_from(list(Action))
reasons = st.sampled_from([*CloseReason, None])


@given(statuses, st.sampled_from(sorted(ACTIVE)), actions, reasons)
def test_refusal_and_target_agree(
    status: CaseStatus, paused_from: CaseStatus, action: Action, reason: CloseReason | None
) -> None:
    """An action is refused with a reason exactly when the table has no target for it (the
    one exception: closing an opened case as completed, refused for its reason)."""
    case = bare_case(status, paused_from if status is S.PAUSED else None)
    problems = refusal(case, action, reason)
    target = target_status(case, action)
    opened_completed = (status, action, reason) == (S.OPENED, A.CLOSE, CloseReason.COMPLETED)
    assert bool(problems) == (target is None or opened_completed)
    assert all(p.message and p.message[0].isupper() for p in problems)
    if not problems:
        change = plan(case, action)
        assert change.to_status is target
        assert (change.paused_from is not None) == (action is A.PAUSE)


@given(st.sampled_from(sorted(TERMINAL)), actions)
def test_terminal_statuses_allow_nothing(status: CaseStatus, action: Action) -> None:
    case = bare_case(status)
    assert allowed_actions(case) == ()
    assert refusal(case, action) != []


@given(st.sampled_from(sorted(ACTIVE)))
def test_pause_then_resume_returns_to_where_it_was(status: CaseStatus) -> None:
    case = bare_case(status)
    paused = plan(case, A.PAUSE)
    again = bare_case(paused.to_status, paused.paused_from)
    assert plan(again, A.RESUME).to_status is status
    assert allowed_actions(again) == (A.RESUME,)


@given(st.lists(st.tuples(actions, reasons), max_size=30))
def test_any_walk_through_the_machine_stays_consistent(walk: list[Any]) -> None:
    """Whatever is attempted, in whatever order: a pause always knows where to resume, the
    level never goes back, and nothing leaves a terminal status."""
    case = bare_case(S.OPENED)
    for action, reason in walk:
        before = case
        if refusal(case, action, reason):
            continue
        change = plan(case, action)
        case = msgspec.structs.replace(
            case, status=change.to_status, level=change.level, paused_from=change.paused_from
        )
        assert before.status not in TERMINAL
        assert (case.status is S.PAUSED) == (case.paused_from is not None)
        assert case.paused_from in (None, *ACTIVE)
        if before.level is not None:
            assert case.level is not None
            assert case.level >= before.level
        if case.status in (S.LEVEL_ONE, S.LEVEL_TWO):
            assert case.level == (Level.ONE if case.status is S.LEVEL_ONE else Level.TWO)
