"""Opening from an orientation, intake forms per channel, sessions and confidential notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import func, select

from cep_core import FormChannel, Level, Role, SessionChannel, Status
from cep_core.domain.issues import InvalidInput
from cep_core.errors import CaseStateConflict
from cep_core.services.cases import NewSession
from cep_core.storage.tables import beneficiaries, case_events, cases

if TYPE_CHECKING:
    from cep_core.storage.database import Database

    from .conftest import World


def counts(database: Database) -> tuple[int, ...]:
    with database.read() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (beneficiaries, cases, case_events)
        )


# -- opening from an orientation -------------------------------------------------------------


def test_an_operator_the_orientation_did_not_retain_is_refused(world: World) -> None:
    world.a.competent = False
    with pytest.raises(InvalidInput) as refused:
        world.open("op_a")
    [issue] = refused.value.issues
    assert (issue.path, issue.code) == ("operator", "not_competent")
    assert "« Opérateur op_a »" in issue.message
    assert "« Opérateur op_b »" in issue.message  # who is competent instead
    assert "conseiller peut passer outre" in issue.message
    assert counts(world.database) == (0, 0, 0)


def test_a_counsellor_may_force_it_and_the_journal_says_so(world: World) -> None:
    world.a.competent = False
    case = world.open("op_a", force=True)
    [opened] = world.cases.case_events("op_a", case.id)
    assert (opened.kind, opened.reason) == ("opened", "forced")
    world.a.competent = True
    normal = world.open("op_a", force=True)  # forcing what needs no forcing is not recorded
    assert world.cases.case_events("op_a", normal.id)[0].reason is None


def test_the_public_form_cannot_force(world: World) -> None:
    world.a.competent = False
    with pytest.raises(InvalidInput) as refused:
        world.open("op_a", force=True, channel=FormChannel.PUBLIC)
    assert [i.path for i in refused.value.issues] == ["force"]


def test_a_person_outside_the_cep_is_refused_with_the_eligibility_reason(world: World) -> None:
    retired = world.situation(status=Status.RETIRED, birth_date=date(1950, 1, 1))
    with pytest.raises(InvalidInput) as refused:
        world.open("op_a", situation=retired)
    [issue] = refused.value.issues
    assert issue.path == "operator"
    assert "retraité" in issue.message


# -- intake ----------------------------------------------------------------------------------


def test_each_channel_has_its_form(world: World) -> None:
    counsellor = world.cases.intake_form("op_a", FormChannel.COUNSELLOR)
    public = world.cases.intake_form("op_a", FormChannel.PUBLIC)
    assert counsellor is not None
    assert public is not None
    assert (counsellor.title, public.title) == ("Accueil", "Vos souhaits")
    assert world.cases.intake_form("op_b", FormChannel.COUNSELLOR) is None
    with pytest.raises(InvalidInput, match="Canal inconnu"):
        world.cases.intake_form("op_a", "fax")  # type: ignore[arg-type]


def test_opening_with_intake_stores_the_checked_answers(world: World) -> None:
    case = world.open(
        intake={"employer_size": 250, "contract": "cdd", "wishes": "Travailler de jour"}
    )
    assert case.intake is not None
    assert case.intake.channel is FormChannel.COUNSELLOR
    assert case.intake.answers == {
        "employer_size": 250,
        "contract": "cdd",
        "wishes": "Travailler de jour",
    }
    assert case.intake.submitted_by == "c-1"
    events = world.cases.case_events("op_a", case.id)
    assert [(e.kind, e.reason) for e in events] == [
        ("opened", None),
        ("intake_submitted", "counsellor"),
    ]
    [ctx_opened, ctx_intake] = [ctx for ctx, _ in world.a.events]
    assert ctx_intake.actor == "c-1"
    assert ctx_opened.role is Role.COUNSELLOR


def test_intake_problems_come_all_at_once_per_field(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.open(intake={"employer_size": 0, "contract": "interim", "pointure": 42})
    issues = {issue.path: issue for issue in refused.value.issues}
    assert set(issues) == {"intake.employer_size", "intake.contract", "intake.pointure"}
    assert "supérieur ou égal à 1" in issues["intake.employer_size"].message
    assert "Valeurs possibles : cdd, cdi" in issues["intake.contract"].message
    assert "Champ inconnu « pointure »" in issues["intake.pointure"].message
    assert counts(world.database) == (0, 0, 0)
    with pytest.raises(InvalidInput) as refused:
        world.open(intake={"contract": "cdd", "employer_size": 5})  # the operator's own rule
    [issue] = refused.value.issues
    assert (issue.path, issue.message) == ("intake.wishes", "Pour un CDD, précisez les souhaits.")
    assert counts(world.database) == (0, 0, 0)


def test_the_public_form_asks_less_and_acts_as_the_person(world: World) -> None:
    case = world.open(channel=FormChannel.PUBLIC, intake={"wishes": "Changer de voie"})
    assert case.intake is not None
    assert case.intake.channel is FormChannel.PUBLIC
    ctx, _ = world.a.events[-1]
    assert ctx.role is Role.BENEFICIARY
    with pytest.raises(InvalidInput) as refused:
        world.open(channel=FormChannel.PUBLIC, intake={"employer_size": 3, "contract": "cdi"})
    assert {i.path for i in refused.value.issues} == {
        "intake.employer_size",
        "intake.contract",
        "intake.wishes",
    }


def test_intake_can_be_submitted_later_and_replaced(world: World) -> None:
    case = world.open()
    after = world.cases.submit_intake(
        "op_a", case.id, FormChannel.API, {"employer_size": 9, "contract": "cdi"},
        expected_version=case.version, actor="api-client",
    )  # fmt: skip
    assert after.intake is not None
    assert (after.intake.channel, after.intake.answers["employer_size"]) == (FormChannel.API, 9)
    again = world.cases.submit_intake(
        "op_a", case.id, FormChannel.COUNSELLOR, {"employer_size": 10, "contract": "cdi"},
        expected_version=after.version,
    )  # fmt: skip
    assert again.intake is not None
    assert again.intake.answers["employer_size"] == 10
    assert [e.reason for e in world.cases.case_events("op_a", case.id)[1:]] == [
        "api",
        "counsellor",
    ]
    with pytest.raises(InvalidInput) as refused:
        world.cases.submit_intake(
            "op_a", case.id, FormChannel.COUNSELLOR, {"contract": "cdi"},
            expected_version=again.version,
        )  # fmt: skip
    assert [i.path for i in refused.value.issues] == ["employer_size"]


def test_an_operator_without_a_form_takes_no_answers(world: World) -> None:
    case = world.open("op_b", intake={})
    assert case.intake is not None
    assert case.intake.answers == {}
    with pytest.raises(InvalidInput, match="ne recueille pas"):
        world.cases.submit_intake(
            "op_b", case.id, FormChannel.COUNSELLOR, {"x": 1}, expected_version=case.version
        )


# -- sessions --------------------------------------------------------------------------------


def session(**changes: Any) -> NewSession:
    values: dict[str, Any] = {
        "start": datetime(2026, 3, 2, 14, 0, tzinfo=timezone(timedelta(hours=1))),
        "channel": SessionChannel.VIDEO,
        "duration_minutes": 60,
        "outside_working_time": True,
        "notes": "Évoque des difficultés personnelles : à ne pas diffuser.",
    }
    values.update(changes)
    return NewSession(**values)


def test_a_session_is_recorded_with_its_channel_and_counsellor(world: World) -> None:
    case = world.open(level=Level.ONE)
    after = world.cases.record_session(
        "op_a", case.id, session(), expected_version=case.version, actor="c-7"
    )
    full = world.cases.get_case("op_a", case.id, confidential_notes=True)
    [stored] = full.sessions
    assert stored.start == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert stored.start.tzinfo is UTC
    assert (stored.channel, stored.duration_minutes, stored.counsellor_id) == (
        SessionChannel.VIDEO,
        60,
        "c-7",
    )
    assert (stored.level, stored.outside_working_time, stored.recorded_by) == (
        Level.ONE,
        True,
        "c-7",
    )
    assert stored.notes is not None
    assert after.sessions[0].notes is None  # what a write returns carries no notes
    last = world.cases.case_events("op_a", case.id)[-1]
    assert (last.kind, last.reason) == ("session_recorded", "visio")
    earlier = world.cases.record_session(
        "op_a", case.id, session(start=datetime(2026, 2, 1, 9, tzinfo=UTC), notes=None,
                                 counsellor_id="c-8"),
        expected_version=after.version,
    )  # fmt: skip
    assert [s.counsellor_id for s in earlier.sessions] == ["c-8", "c-7"]  # in time order


def test_confidential_notes_reach_counsellors_only(world: World) -> None:
    case = world.open(level=Level.ONE, counsellor_id="c-1")
    world.cases.record_session("op_a", case.id, session(), expected_version=1, actor="c-1")
    secret = "difficultés personnelles"

    def shows_notes(value: Any) -> bool:
        return secret in msgspec.json.encode(value).decode()

    assert shows_notes(world.cases.view_case("op_a", case.id, role=Role.COUNSELLOR))
    for role in (Role.BENEFICIARY, Role.MANAGER, Role.ADMIN, Role.SYSTEM):
        view = world.cases.view_case("op_a", case.id, role=role)
        assert not shows_notes(view)
        assert view.confidential_notes is False
        assert view.case.sessions[0].duration_minutes == 60  # the session itself is there
    assert not shows_notes(world.cases.get_case("op_a", case.id))
    assert shows_notes(world.cases.get_case("op_a", case.id, confidential_notes=True))
    assert not shows_notes(world.cases.list_cases("op_a"))
    assert not shows_notes(world.cases.case_events("op_a", case.id))
    assert not shows_notes([event for _, event in world.a.events])
    assert not shows_notes(
        world.cases.save_step("op_a", case.id, "op_a.positioning", {}, expected_version=2)
    )


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"start": datetime(2026, 3, 2, 14, 0)}, "start"),  # no time zone: ambiguous
        ({"counsellor_id": "c" * 65}, "counsellor_id"),
        ({"outside_working_time": None}, "outside_working_time"),  # an employee must say
    ],
)
def test_a_session_is_checked_in_french(world: World, changes: dict[str, Any], path: str) -> None:
    case = world.open(level=Level.ONE)
    with pytest.raises(InvalidInput) as refused:
        world.cases.record_session(
            "op_a", case.id, session(**changes), expected_version=1, actor="c-1"
        )
    [issue] = refused.value.issues
    assert issue.path == path
    assert world.cases.get_case("op_a", case.id).version == 1


def test_working_time_is_asked_of_employees_only(world: World) -> None:
    jobseeker = world.situation(status=Status.JOBSEEKER, registered_jobseeker=True)
    case = world.open(level=Level.ONE, situation=jobseeker)
    after = world.cases.record_session(
        "op_a", case.id, session(outside_working_time=None), expected_version=1, actor="c-1"
    )
    assert after.sessions[0].outside_working_time is None
    with pytest.raises(InvalidInput, match="conseiller qui a mené"):
        world.cases.record_session(
            "op_a", case.id, session(), expected_version=after.version, actor=None
        )


def test_no_session_on_an_ended_case(world: World) -> None:
    from cep_core import CloseReason

    case = world.open(level=Level.ONE)
    closed = world.cases.close("op_a", case.id, CloseReason.MOVED_AWAY, expected_version=1)
    with pytest.raises(CaseStateConflict, match="clôturé"):
        world.cases.record_session(
            "op_a", case.id, session(), expected_version=closed.version, actor="c-1"
        )
    with pytest.raises(CaseStateConflict):
        world.cases.submit_intake(
            "op_a", case.id, FormChannel.COUNSELLOR, {"employer_size": 1, "contract": "cdi"},
            expected_version=closed.version,
        )  # fmt: skip
