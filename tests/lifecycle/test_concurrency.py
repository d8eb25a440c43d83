"""Optimistic concurrency and atomicity: stale edits refused, one winner, nothing half-written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from cep_core import CloseReason, FormChannel, Level, ReferralReason, SessionChannel
from cep_core.errors import PluginFailure, VersionConflict
from cep_core.services.cases import CaseService, NewSession
from cep_core.storage.repositories import CaseEventRepository

if TYPE_CHECKING:
    from cep_core import Case

    from .conftest import World

Answers = dict[str, dict[str, Any]]
SESSION = NewSession(
    start=datetime(2026, 3, 2, 10, tzinfo=UTC),
    channel=SessionChannel.VIDEO,
    duration_minutes=45,
    outside_working_time=True,
    notes="Notes confidentielles.",
)

# Every write, as (name, call with the version to expect).
WRITES: dict[str, Callable[[CaseService, str, int], Any]] = {
    "submit_intake": lambda s, c, v: s.submit_intake(
        "op_a", c, FormChannel.COUNSELLOR, {"employer_size": 12, "contract": "cdi"},
        expected_version=v,
    ),
    "record_session": lambda s, c, v: s.record_session(
        "op_a", c, SESSION, expected_version=v, actor="c-1"
    ),
    "save_step": lambda s, c, v: s.save_step(
        "op_a", c, "op_a.positioning", {"score": 3}, expected_version=v
    ),
    "pause": lambda s, c, v: s.pause("op_a", c, expected_version=v),
    "start_level_2": lambda s, c, v: s.start_level_2("op_a", c, expected_version=v),
    "close": lambda s, c, v: s.close("op_a", c, CloseReason.OTHER, expected_version=v),
    "refer": lambda s, c, v: s.refer(
        "op_a", c, "op_b", ReferralReason.OTHER, expected_version=v
    ),
}  # fmt: skip


def complete_positioning(service: CaseService, case_id: str, version: int) -> Any:
    return service.save_step(
        "op_a", case_id, "op_a.positioning", {"score": 4}, complete=True, expected_version=version
    )


def snapshot(world: World, case: Case) -> tuple[Case, list[Any]]:
    return (
        world.cases.get_case("op_a", case.id, confidential_notes=True),
        world.cases.case_events("op_a", case.id),
    )


@pytest.mark.parametrize("write", list(WRITES))
def test_a_stale_version_is_refused_and_nothing_is_written(
    world: World, answers: Answers, write: str
) -> None:
    case = world.open(level=Level.ONE)
    case = world.cases.save_step(
        "op_a", case.id, "level1.record", answers["level1.record"], complete=True,
        expected_version=case.version,
    ).case  # fmt: skip
    before = snapshot(world, case)
    events_heard = len(world.a.events)
    for stale in (case.version - 1, case.version + 1):
        with pytest.raises(VersionConflict) as conflict:
            WRITES[write](world.cases, case.id, stale)
        assert (conflict.value.expected, conflict.value.actual) == (stale, case.version)
        assert "modifié par quelqu'un d'autre" in str(conflict.value)
    assert snapshot(world, case) == before
    assert len(world.a.events) == events_heard
    # The same write at the right version goes through.
    WRITES[write](world.cases, case.id, case.version)
    assert world.cases.get_case("op_a", case.id).version == case.version + 1


@pytest.mark.parametrize("write", ["save_step", "record_session", "pause", "submit_intake"])
def test_of_concurrent_edits_exactly_one_wins(world: World, write: str) -> None:
    """Six threads edit the same version at once: one wins, five get a conflict."""
    case = world.open(level=Level.ONE)
    barrier = threading.Barrier(6)
    wins: list[int] = []
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def edit(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            WRITES[write](world.cases, case.id, case.version)
            wins.append(worker)
        except VersionConflict:
            conflicts.append(worker)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (len(wins), len(conflicts)) == (1, 5)
    after, events = snapshot(world, case)
    assert after.version == case.version + 1
    assert len(events) == 2  # "opened" and the winner's line
    assert [e.seq for e in events] == [1, 2]


@pytest.mark.parametrize(
    "hook", ["cep_validate_step", "cep_session_steps", "cep_intake_form", "cep_validate_intake"]
)
def test_a_fault_in_a_hook_leaves_the_database_unchanged(
    world: World, answers: Answers, hook: str
) -> None:
    case = world.open(level=Level.ONE)
    before = snapshot(world, case)
    world.a.fail_in.add(hook)
    # Completing a step asks cep_validate_step (a draft does not); intake asks the other two.
    step = hook in ("cep_validate_step", "cep_session_steps")
    write = complete_positioning if step else WRITES["submit_intake"]
    with pytest.raises(PluginFailure) as failure:
        write(world.cases, case.id, case.version)
    assert (failure.value.plugin, failure.value.hook) == ("op_a", hook)
    assert "panne injectée" in str(failure.value)
    assert snapshot(world, case) == before


def test_a_fault_in_a_veto_hook_refuses_the_transition(world: World) -> None:
    case = world.open(level=Level.ONE)
    before = snapshot(world, case)
    world.a.fail_in.add("cep_case_transition")
    with pytest.raises(PluginFailure, match="cep_case_transition"):
        world.cases.pause("op_a", case.id, expected_version=case.version)
    assert snapshot(world, case) == before


def test_a_failure_while_writing_rolls_everything_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = world.open(level=Level.ONE)
    before = snapshot(world, case)
    heard = len(world.a.events)

    def broken_append(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disque plein")

    monkeypatch.setattr(CaseEventRepository, "append", broken_append)
    with pytest.raises(RuntimeError, match="disque plein"):
        world.cases.pause("op_a", case.id, expected_version=case.version)
    monkeypatch.undo()
    assert snapshot(world, case) == before  # the case update was rolled back with the line
    assert len(world.a.events) == heard  # nothing committed, nothing announced


def test_a_failing_listener_does_not_undo_a_committed_change(world: World) -> None:
    case = world.open(level=Level.ONE)
    world.a.fail_in.add("cep_case_event")
    paused = world.cases.pause("op_a", case.id, expected_version=case.version)
    assert world.cases.get_case("op_a", case.id) == paused
    assert world.cases.case_events("op_a", case.id)[-1].to_status is paused.status
