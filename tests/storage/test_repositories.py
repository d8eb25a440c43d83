"""Repositories: tenant scoping on every statement and optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from cep_core.domain.case import Beneficiary, Case, CaseStatus, Level
from cep_core.domain.situation import Situation, Status
from cep_core.errors import CaseNotFound, VersionConflict
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
    TenantMismatch,
)

NOW = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
SITUATION = Situation(birth_date=date(1985, 6, 1), as_of=date(2026, 2, 1), status=Status.EMPLOYEE)


def _new_case(database: Database, operator: str = "op_a") -> Case:
    person = Beneficiary(
        id=new_id(), operator=operator, first_name="Inès", last_name="Girard", created_at=NOW
    )
    case = Case(
        id=new_id(),
        operator=operator,
        beneficiary_id=person.id,
        status=CaseStatus.OPENED,
        level=None,
        situation=SITUATION,
        created_at=NOW,
        updated_at=NOW,
    )
    with database.write() as connection:
        BeneficiaryRepository(connection, operator).add(person)
        CaseRepository(connection, operator).add(case)
        CaseEventRepository(connection, operator).append(
            case_id=case.id, at=NOW, kind="opened", to_status=CaseStatus.OPENED
        )
    return case


def test_a_case_round_trips_through_document_and_columns(database: Database) -> None:
    case = _new_case(database)
    with database.read() as connection:
        assert CaseRepository(connection, "op_a").get(case.id) == case


def test_another_operator_sees_nothing(database: Database) -> None:
    case = _new_case(database)
    with database.read() as connection:
        assert CaseRepository(connection, "op_b").get(case.id) is None
        assert CaseRepository(connection, "op_b").find() == []
        assert CaseRepository(connection, "op_b").count() == 0
        assert BeneficiaryRepository(connection, "op_b").get(case.beneficiary_id) is None
        assert BeneficiaryRepository(connection, "op_b").count() == 0
        assert CaseEventRepository(connection, "op_b").for_case(case.id) == []
        assert CaseEventRepository(connection, "op_b").count() == 0
        assert CaseRepository(connection, "op_a").count() == 1


def test_writing_another_operators_record_is_a_bug(database: Database) -> None:
    person = Beneficiary(
        id=new_id(), operator="op_a", first_name="Inès", last_name="Girard", created_at=NOW
    )
    with pytest.raises(TenantMismatch), database.write() as connection:
        BeneficiaryRepository(connection, "op_b").add(person)


def test_an_update_at_the_read_version_wins_and_bumps_the_version(database: Database) -> None:
    case = _new_case(database)
    edited = msgspec.structs.replace(
        case,
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        counsellor_id="c-1",
        updated_at=NOW + timedelta(minutes=5),
    )
    with database.write() as connection:
        stored = CaseRepository(connection, "op_a").update(edited)
    assert stored.version == 2
    with database.read() as connection:
        again = CaseRepository(connection, "op_a").get(case.id)
    assert again == stored
    assert again is not None
    assert again.counsellor_id == "c-1"


def test_a_stale_update_raises_a_conflict_and_changes_nothing(database: Database) -> None:
    case = _new_case(database)
    first = msgspec.structs.replace(case, counsellor_id="first")
    second = msgspec.structs.replace(case, counsellor_id="second")  # read at the same version
    with database.write() as connection:
        CaseRepository(connection, "op_a").update(first)
    with pytest.raises(VersionConflict) as conflict, database.write() as connection:
        CaseRepository(connection, "op_a").update(second)
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert "modifié par quelqu'un d'autre" in str(conflict.value)
    with database.read() as connection:
        stored = CaseRepository(connection, "op_a").get(case.id)
    assert stored is not None
    assert (stored.counsellor_id, stored.version) == ("first", 2)


def test_exactly_one_of_two_concurrent_edits_wins(database: Database) -> None:
    """Two counsellors read version 1 and both save: one wins, the other gets a conflict."""
    case = _new_case(database)
    outcomes = []
    for name in ("alice", "bob"):
        try:
            with database.write() as connection:
                CaseRepository(connection, "op_a").update(
                    msgspec.structs.replace(case, counsellor_id=name)
                )
            outcomes.append(name)
        except VersionConflict:
            outcomes.append("conflict")
    assert outcomes == ["alice", "conflict"]


def test_updating_another_operators_case_is_not_found(database: Database) -> None:
    case = _new_case(database)
    foreign = msgspec.structs.replace(case, operator="op_b", counsellor_id="intruder")
    with pytest.raises(CaseNotFound), database.write() as connection:
        CaseRepository(connection, "op_b").update(foreign)
    with database.read() as connection:
        stored = CaseRepository(connection, "op_a").get(case.id)
    assert stored is not None
    assert stored.counsellor_id is None


def test_journal_lines_are_numbered_per_case(database: Database) -> None:
    case = _new_case(database)
    other = _new_case(database)
    with database.write() as connection:
        journal = CaseEventRepository(connection, "op_a")
        journal.append(
            case_id=case.id,
            at=NOW + timedelta(hours=1),
            kind="paused",
            actor="c-1",
            from_status=CaseStatus.OPENED,
            to_status=CaseStatus.PAUSED,
            reason="congé maternité",
        )
    with database.read() as connection:
        events = CaseEventRepository(connection, "op_a").for_case(case.id)
        others = CaseEventRepository(connection, "op_a").for_case(other.id)
    assert [(e.seq, e.kind) for e in events] == [(1, "opened"), (2, "paused")]
    assert events[1].reason == "congé maternité"
    assert events[1].from_status is CaseStatus.OPENED
    assert events[1].at == NOW + timedelta(hours=1)
    assert [e.seq for e in others] == [1]
