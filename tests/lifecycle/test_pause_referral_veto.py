"""Pause and resume with no expiry, referral to another operator, plugin vetoes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from cep_core import CaseStatus, CloseReason, Issue, Level, ReferralReason, SessionChannel
from cep_core.domain.issues import InvalidInput
from cep_core.errors import CaseStateConflict, TransitionRefused
from cep_core.services.cases import NewSession

if TYPE_CHECKING:
    from .conftest import World

Answers = dict[str, dict[str, Any]]


# -- pause and resume ------------------------------------------------------------------------


@pytest.mark.parametrize("level", [None, Level.ONE, Level.TWO])
def test_a_case_resumes_where_it_was_even_years_later(world: World, level: Level | None) -> None:
    case = world.open(level=level)
    status = case.status
    world.clock.advance(days=3)
    paused = world.cases.pause("op_a", case.id, expected_version=case.version)
    assert paused.status is CaseStatus.PAUSED
    world.clock.advance(days=3650)  # ten years: a pause has no expiry
    resumed = world.cases.resume("op_a", case.id, expected_version=paused.version)
    assert (resumed.status, resumed.level, resumed.paused_from) == (status, level, None)
    events = world.cases.case_events("op_a", case.id)
    assert [(e.from_status, e.to_status) for e in events[1:]] == [
        (status, CaseStatus.PAUSED),
        (CaseStatus.PAUSED, status),
    ]
    assert (events[2].at - events[1].at).days == 3650


def test_work_can_go_on_while_paused_but_not_transitions(world: World, answers: Answers) -> None:
    case = world.open(level=Level.ONE)
    case = world.cases.pause("op_a", case.id, expected_version=case.version)
    case = world.cases.record_session(
        "op_a",
        case.id,
        NewSession(
            start=datetime(2026, 3, 1, 14, tzinfo=UTC),
            channel=SessionChannel.PHONE,
            duration_minutes=30,
            outside_working_time=True,
        ),
        expected_version=case.version,
        actor="c-1",
    )
    saved = world.cases.save_step(
        "op_a", case.id, "level1.record", answers["level1.record"], complete=True,
        expected_version=case.version,
    )  # fmt: skip
    with pytest.raises(TransitionRefused, match="en pause"):
        world.cases.start_level_2("op_a", case.id, expected_version=saved.case.version)
    resumed = world.cases.resume("op_a", case.id, expected_version=saved.case.version)
    assert resumed.status is CaseStatus.LEVEL_ONE
    assert world.cases.start_level_2("op_a", case.id, expected_version=resumed.version).level is (
        Level.TWO
    )


# -- referral --------------------------------------------------------------------------------


def test_a_referral_is_written_in_the_level_one_record_and_the_journal(world: World) -> None:
    case = world.open(level=Level.ONE)
    referred = world.cases.refer(
        "op_a",
        case.id,
        "op_b",
        ReferralReason.BETTER_SUITED,
        note="La personne relève plutôt de op_b.",
        expected_version=case.version,
        actor="c-1",
    )
    assert referred.status is CaseStatus.REFERRED
    assert referred.referral is not None
    assert (referred.referral.target_operator, referred.referral.reason) == (
        "op_b",
        ReferralReason.BETTER_SUITED,
    )
    record = referred.steps["level1.record"]  # created as a draft: there was none
    assert record.completed is False
    assert record.data == {
        "referral": {
            "operator": "op_b",
            "reason": "better_suited",
            "note": "La personne relève plutôt de op_b.",
        }
    }
    last = world.cases.case_events("op_a", case.id)[-1]
    assert (last.kind, last.to_status, last.reason, last.actor) == (
        "transition",
        CaseStatus.REFERRED,
        "better_suited",
        "c-1",
    )
    assert "op_b" not in (last.reason or "")  # reason codes only
    with pytest.raises(CaseStateConflict):  # terminal: nothing more is written on it
        world.cases.save_step("op_a", case.id, "level1.record", {}, expected_version=2)
    # op_b opens its own case for the person: files are never shared between operators.
    theirs = world.open("op_b", level=Level.ONE)
    assert theirs.beneficiary_id != referred.beneficiary_id


def test_a_referral_keeps_a_completed_record_completed(world: World, answers: Answers) -> None:
    case = world.open(level=Level.ONE)
    case = world.cases.save_step(
        "op_a", case.id, "level1.record", answers["level1.record"], complete=True,
        expected_version=case.version,
    ).case  # fmt: skip
    referred = world.cases.refer(
        "op_a", case.id, "op_b", ReferralReason.PERSON_REQUEST, expected_version=case.version
    )
    record = referred.steps["level1.record"]
    assert record.completed
    assert record.data["request"] == answers["level1.record"]["request"]
    assert record.data["referral"] == {"operator": "op_b", "reason": "person_request"}


@pytest.mark.parametrize(
    ("target", "reason", "path", "words"),
    [
        ("op_a", ReferralReason.OTHER, "target_operator", "autre opérateur"),
        ("nobody", ReferralReason.OTHER, "target_operator", "n'est pas installé"),
        ("core.steps", ReferralReason.OTHER, "target_operator", "n'est pas installé"),
        ("op_b", None, "reason", "motif de l'orientation"),
        ("op_b", "lost", "reason", "Motif d'orientation inconnu"),
    ],
)
def test_a_referral_needs_another_installed_operator_and_a_reason(
    world: World, target: str, reason: Any, path: str, words: str
) -> None:
    case = world.open(level=Level.TWO)
    with pytest.raises(InvalidInput) as refused:
        world.cases.refer("op_a", case.id, target, reason, expected_version=case.version)
    [issue] = refused.value.issues
    assert issue.path == path
    assert words in issue.message
    assert world.cases.get_case("op_a", case.id) == case


def test_a_referral_typed_in_the_record_names_an_installed_operator(
    world: World, answers: Answers
) -> None:
    case = world.open(level=Level.ONE)
    record = {**answers["level1.record"], "referral": {"operator": "ailleurs", "reason": "other"}}
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "level1.record", record, complete=True, expected_version=1
        )
    [issue] = refused.value.issues
    assert issue.path == "referral.operator"
    record["referral"]["operator"] = "op_b"
    saved = world.cases.save_step(
        "op_a", case.id, "level1.record", record, complete=True, expected_version=1
    )
    assert saved.case.steps["level1.record"].data["referral"]["operator"] == "op_b"


# -- plugin vetoes ---------------------------------------------------------------------------


def test_a_plugin_veto_refuses_with_its_own_reasons(world: World) -> None:
    reason = Issue(
        path="status",
        code="interview_missing",
        message="Programmez un entretien de bilan avant de clôturer.",
    )
    world.a.veto = [reason]
    case = world.open(level=Level.TWO)
    journal = world.cases.case_events("op_a", case.id)
    with pytest.raises(TransitionRefused) as refused:
        world.cases.close("op_a", case.id, CloseReason.ABANDONED, expected_version=case.version)
    assert refused.value.issues == (reason,)
    assert "entretien de bilan" in str(refused.value)
    assert world.cases.get_case("op_a", case.id) == case
    assert world.cases.case_events("op_a", case.id) == journal
    [offered] = world.a.transitions
    assert (offered.from_status, offered.to_status, offered.reason) == (
        CaseStatus.LEVEL_TWO,
        CaseStatus.CLOSED,
        "abandoned",
    )
    assert world.b.transitions == []  # op_b is never asked about op_a's cases
    world.a.veto = []
    closed = world.cases.close(
        "op_a", case.id, CloseReason.ABANDONED, expected_version=case.version
    )
    assert closed.status is CaseStatus.CLOSED


def test_every_transition_is_offered_for_veto(world: World) -> None:
    case = world.open()
    case = world.cases.start_level_1("op_a", case.id, expected_version=case.version)
    case = world.cases.pause("op_a", case.id, expected_version=case.version)
    case = world.cases.resume("op_a", case.id, expected_version=case.version)
    world.cases.refer(
        "op_a", case.id, "op_b", ReferralReason.MOVED_AWAY, expected_version=case.version
    )
    assert [(t.to_status, t.reason, t.target_operator) for t in world.a.transitions] == [
        (CaseStatus.LEVEL_ONE, None, None),
        (CaseStatus.PAUSED, None, None),
        (CaseStatus.LEVEL_ONE, None, None),
        (CaseStatus.REFERRED, "moved_away", "op_b"),
    ]
