"""Retention, tested by moving the clock: before the deadline nothing is touched; after it,
nothing personal is left and the statistical facts are (SEC-19, SEC-21)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from cep_core.domain.case import Case, SessionRecord
from cep_core.domain.forms import SessionChannel
from cep_core.domain.requests import OperatorSettingsInput
from cep_core.domain.retention import (
    DEFAULT_RETENTION_MONTHS,
    RetentionPolicy,
    add_months,
    coarse_birth_date,
    last_contact,
)
from cep_core.kit import Kit
from cep_core.mail.outbox import enqueue
from cep_core.services.indicators import Period, Scope
from cep_core.storage import tables
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import CaseEventRepository

from .conftest import START, FakeClock, mime_to, seed_person
from .test_export_erase import assert_nothing_personal_left, count, dump


def results(kit: Kit, *, dry_run: bool = False) -> dict[str, int]:
    done = kit.retention.run(dry_run=dry_run)
    assert [r.error for r in done if r.error] == []
    return {r.name: r.count for r in done}


def test_the_default_is_two_years_after_the_last_contact() -> None:
    assert DEFAULT_RETENTION_MONTHS.at(START.date()) == 24
    assert RetentionPolicy.of(None, START.date()).months == 24
    assert RetentionPolicy.of(3, START.date()).months == 6  # bounded
    assert add_months(START.replace(month=1, day=31), 1).day == 28


def test_the_last_contact_is_the_latest_session_event_or_update() -> None:
    from .conftest import Situation, Status

    situation = Situation(
        birth_date=START.date().replace(year=1990), as_of=START.date(), status=Status.EMPLOYEE
    )
    case = Case(
        id="c",
        operator="op_a",
        beneficiary_id="b",
        status="level_1",  # type: ignore[arg-type]
        level=None,
        situation=situation,
        created_at=START,
        updated_at=START,
        sessions=(
            SessionRecord(
                id="s",
                start=START + timedelta(days=40),
                channel=SessionChannel.PHONE,
                duration_minutes=30,
                counsellor_id="x",
                recorded_at=START + timedelta(days=3),
            ),
        ),
    )
    assert last_contact(case) == START + timedelta(days=40)
    assert last_contact(case, [START + timedelta(days=90)]) == START + timedelta(days=90)
    coarse = coarse_birth_date(situation)
    assert coarse == START.date().replace(year=START.year - 36) and coarse.month == 3


def test_nothing_is_touched_before_the_deadline_and_everything_after(
    kit: Kit, clock: FakeClock
) -> None:
    person = seed_person(kit, "op_a")
    # A journal line a month later moves the last contact: the deadline is START + 25 months.
    clock.advance(days=31)
    with kit.database.write() as conn:
        CaseEventRepository(conn, "op_a").append(
            case_id=person.case_ids[1], at=clock.now, kind="session_recorded"
        )
    last = clock.now
    deadline = add_months(last, 24)
    before = {name: dump(kit, name, operator="op_a") for name in ("beneficiaries", "cases")}
    scope, period = Scope(operator="op_a"), Period(start=START.date(), end=last.date())
    indicators = kit.indicators.compute(scope, period)
    assert any(r.value or r.points for r in indicators)
    clock.now = deadline - timedelta(seconds=1)
    dry = results(kit, dry_run=True)
    assert dry["files"] == 0
    assert results(kit)["files"] == 0
    assert {name: dump(kit, name, operator="op_a") for name in before} == before
    assert count(kit, "syntheses", operator="op_a") == 4

    clock.now = deadline
    assert results(kit, dry_run=True)["files"] == 1
    assert {name: dump(kit, name, operator="op_a") for name in before} == before  # dry run
    assert results(kit)["files"] == 1
    assert_nothing_personal_left(kit, person, erased=False)
    # The survey's score stays for the indicators, its comment is gone.
    with kit.database.read() as conn:
        answers = tables.metadata.tables["survey_answers"]
        assert conn.execute(select(answers.c.satisfaction)).scalars().all() == [5]
    # Indicators still count the cases, exactly as before; a second run finds nothing to do.
    assert count(kit, "cases", operator="op_a") == 2
    assert kit.indicators.compute(scope, period) == indicators
    assert results(kit)["files"] == 0


def test_each_operator_has_its_own_period(kit: Kit, clock: FakeClock) -> None:
    short = seed_person(kit, "op_a")
    default = seed_person(kit, "op_b")
    kit.operator_settings.update(
        "op_a", OperatorSettingsInput(retention_months=12), actor="resp", expected_version=0
    )
    assert kit.retention.policy("op_a").months == 12
    clock.now = add_months(START, 12)
    assert results(kit)["files"] == 1
    assert_nothing_personal_left(kit, short, erased=False)
    assert default.email in dump(kit, "beneficiaries", operator="op_b")
    clock.now = add_months(START, 24)
    assert results(kit)["files"] == 1
    assert_nothing_personal_left(kit, default, erased=False)


def test_requests_without_a_case_and_the_other_jobs(kit: Kit, clock: FakeClock) -> None:
    person = seed_person(kit, "op_a")
    r = tables.appointment_requests
    with kit.database.write() as conn:  # a declined request: no case
        conn.execute(update(r).values(case_id=None, status="declined"))
        enqueue(conn, operator="op_a", kind="old", message=mime_to("x@exemple.fr"), now=clock.now)
        conn.execute(
            update(tables.mail_outbox)
            .where(tables.mail_outbox.c.kind == "old")
            .values(status="sent", sent_at=clock.now, message=b"")
        )
    clock.advance(days=8)  # the download links (7 days) have expired
    done = results(kit)
    assert done["download_links"] == 2 and count(kit, "download_links") == 0
    assert done["mail"] == 0 and done["requests"] == 0
    clock.advance(days=90)
    assert results(kit)["mail"] == 1
    clock.now = add_months(START, 24) + timedelta(days=1)
    done = results(kit)
    assert done["requests"] == 1 and done["files"] == 1
    assert person.email not in dump(kit, "appointment_requests")
    with kit.database.read() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(r).where(r.c.anonymised_at.is_(None))
            ).scalar_one()
            == 0
        )


def test_a_failing_job_is_reported_and_the_others_still_run(
    kit: Kit, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_person(kit, "op_a")
    clock.advance(days=8)

    def broken(now: object) -> int:
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr(kit.audit, "purge", broken)
    done = kit.retention.run()
    failed = [r for r in done if r.error]
    assert [r.name for r in failed] == ["audit"] and "indisponible" in (failed[0].error or "")
    assert {r.name: r.count for r in done}["download_links"] == 2
    assert new_id()  # ids still work after the failure (no transaction left open)


def test_a_dry_run_counts_what_the_purges_then_delete_and_changes_nothing(
    kit: Kit, clock: FakeClock
) -> None:
    """``cep purge --dry-run`` counts with each service's own condition (`expired`): the
    audit journal's and the idempotency keys' counts are what the real run deletes."""
    from cep_core.services.idempotency import Claimed, caller_scope, fingerprint

    for _ in range(3):
        kit.audit.record(
            action="case.read", operator="op_a", actor="u1", record_type="case", record_id=new_id()
        )
    scope = caller_scope("op_a", "u1")
    for key in ("k1", "k2"):
        claimed = kit.idempotency.claim(scope, key, "op_a", fingerprint("POST", "/x", b"{}"))
        assert isinstance(claimed, Claimed)
    clock.advance(days=2)  # the keys (24 h) have expired, the events (12 months) not yet
    kit.audit.record(
        action="case.read", operator="op_a", actor="u1", record_type="case", record_id=new_id()
    )
    dry = results(kit, dry_run=True)
    assert dry["idempotency"] == 2 and dry["audit"] == 0
    assert count(kit, "idempotency_keys") == 2 and count(kit, "audit_events") == 4
    clock.now = add_months(START, 12) + timedelta(days=1)  # the first three events are due
    dry = results(kit, dry_run=True)
    assert dry["audit"] == 3 and dry["idempotency"] == 2
    assert count(kit, "idempotency_keys") == 2 and count(kit, "audit_events") == 4
    done = results(kit)
    assert done["audit"] == dry["audit"] and done["idempotency"] == dry["idempotency"]
    assert count(kit, "idempotency_keys") == 0 and count(kit, "audit_events") == 1
    assert results(kit, dry_run=True)["audit"] == 0


def test_due_people_are_found_batch_by_batch_each_by_their_latest_journal_line(
    kit: Kit, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """People are checked a batch at a time; a journal line on any one case of a person
    keeps their whole file, whichever batch they fall in."""
    import cep_core.services.retention as retention

    monkeypatch.setattr(retention, "_BATCH", 2)
    people = [seed_person(kit, "op_a") for _ in range(5)]
    kept = {people[1].beneficiary_id, people[4].beneficiary_id}
    clock.advance(days=60)
    with kit.database.write() as conn:
        for person in people:
            if person.beneficiary_id in kept:  # on the second case only
                CaseEventRepository(conn, "op_a").append(
                    case_id=person.case_ids[1], at=clock.now, kind="session_recorded"
                )
    now = add_months(START, 24) + timedelta(days=1)
    due = kit.retention.due_people("op_a", now)
    assert due == sorted(p.beneficiary_id for p in people if p.beneficiary_id not in kept)
    assert kit.retention.due_people("op_a", add_months(START + timedelta(days=60), 24)) == sorted(
        p.beneficiary_id for p in people
    )
    assert kit.retention.due_people("op_b", now) == []
