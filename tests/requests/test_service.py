"""`RequestService` on SQLite and PostgreSQL: submitting (with its e-mails, atomically), the
queue, accepting into a case, declining, proposing an appointment; tenant isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from request_helpers import PUBLIC_URL, FakeClock, outbox, submission, submit, text_of

from cep_core.domain.case import CaseStatus
from cep_core.domain.forms import SessionChannel
from cep_core.domain.issues import InvalidInput
from cep_core.domain.requests import (
    PRIVACY_NOTICE_VERSION,
    AppointmentInput,
    DeclineInput,
    DeclineReason,
    HalfDay,
    OperatorSettingsInput,
    RequestStatus,
    Weekday,
)
from cep_core.kit import Kit
from cep_core.services import requests as requests_module
from cep_core.services.requests import CLAIM_LEASE, RequestConflict, RequestNotFound
from cep_core.storage.tables import appointment_requests


def paths(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [issue.path for issue in exc.value.issues]


# -- submitting ------------------------------------------------------------------------------


def test_a_request_is_stored_in_its_operators_queue(db_kit: Kit, clock: FakeClock) -> None:
    request = submit(db_kit)

    assert request.status is RequestStatus.PENDING
    assert request.operator == "apec"
    assert request.reference.startswith("CEP-") and len(request.reference) == 13
    assert request.identity.full_name == "Maëlle Roussel"
    assert request.contact.phone == "06 12 34 56 78"
    assert request.preferences.channel is SessionChannel.VIDEO
    assert request.preferences.days == (Weekday.MONDAY, Weekday.THURSDAY)
    assert request.preferences.half_days == (HalfDay.MORNING,)
    assert request.situation.as_of == date(2026, 3, 2)
    assert request.situation.age == 41 and request.age_only
    assert request.consent.given_at == clock.now
    assert request.consent.notice_version == PRIVACY_NOTICE_VERSION
    assert db_kit.requests.get("apec", request.id) == request
    assert db_kit.requests.count_pending("apec") == 1


def test_submitting_queues_the_acknowledgement_and_the_queue_notice(db_kit: Kit) -> None:
    request = submit(db_kit)

    messages = outbox(db_kit)
    assert [(kind, operator) for kind, operator, _ in messages] == [
        ("request_received", "apec"),
        ("new_request_notice", "apec"),
    ]
    ack, notice = messages[0][2], messages[1][2]
    assert ack["To"] == "maelle.roussel@exemple.fr"
    assert request.reference in ack["Subject"] and request.reference in text_of(ack)
    assert "0809 361 212" in text_of(ack)  # how to reach the operator
    # The queue's notice: the fallback address, a link, and nothing about the person.
    assert notice["To"] == "file-cep@plateforme.exemple.fr"
    assert f"{PUBLIC_URL}/espace/demandes/{request.id}" in text_of(notice)
    for personal in ("Maëlle", "Roussel", "maelle.roussel", "06 12"):
        assert personal not in notice.as_string()


def test_the_queue_notice_goes_to_the_operators_own_address(db_kit: Kit) -> None:
    db_kit.operator_settings.update(
        "apec",
        OperatorSettingsInput(queue_email="accueil-cep@apec.exemple.fr"),
        actor="m",
        expected_version=0,
    )
    submit(db_kit)
    notice = outbox(db_kit)[1][2]
    assert notice["To"] == "accueil-cep@apec.exemple.fr"


def test_without_any_queue_address_only_the_person_is_written_to(make_kit: Any) -> None:
    kit = make_kit()
    submit(kit)
    assert [kind for kind, _, _ in outbox(kit)] == ["request_received"]


def test_a_request_that_cannot_be_stored_sends_nothing(
    db_kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("panne du service de courriel")

    monkeypatch.setattr(db_kit.notifications, "new_request_notice", broken)
    with pytest.raises(RuntimeError):
        submit(db_kit)
    # The same transaction: no request, and the acknowledgement queued before is gone too.
    assert db_kit.requests.count_pending("apec") == 0
    assert outbox(db_kit) == []


def test_the_operator_must_be_competent_for_the_situation(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit(db_kit, situation={"status": "employee", "age": 41, "region": "53"})
    [issue] = refused.value.issues
    assert issue.path == "operator" and issue.code == "not_competent"
    assert "Apec" in issue.message and "Opérateur régional" in issue.message
    assert outbox(db_kit) == []


def test_a_public_agent_is_pointed_to_the_orientation(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit(db_kit, operator="regional", situation={"status": "public_agent", "age": 45})
    assert paths(refused) == ["operator"]
    assert "Trouver mon conseiller" in refused.value.issues[0].message


def test_an_impossible_situation_is_refused_field_by_field(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit(db_kit, situation={"status": "employee", "birth_date": "2030-01-01"})
    assert paths(refused) == ["situation.birth_date"]


def test_an_unknown_operator_is_a_field_error(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit(db_kit, operator="inconnu")
    assert paths(refused) == ["operator"]


def test_an_operator_closed_to_public_requests_says_how_to_reach_it(db_kit: Kit) -> None:
    db_kit.operator_settings.update(
        "apec",
        OperatorSettingsInput(public_requests_open=False),
        actor="m",
        expected_version=0,
    )
    with pytest.raises(InvalidInput) as refused:
        submit(db_kit)
    [issue] = refused.value.issues
    assert issue.code == "closed" and "0809 361 212" in issue.message


def test_every_mistake_is_reported_at_once_in_french() -> None:
    from cep_core.services.requests import RequestService

    with pytest.raises(InvalidInput) as refused:
        RequestService.parse_submission(
            {
                "situation": {"status": "chomeur", "age": 3},
                "first_name": "",
                "email": "pas-une-adresse",
                "phone": "abc",
                "preferred_channel": "pigeon",
                "preferred_days": ["sunday"],
                "message": "x" * 1001,
            }
        )
    found = {issue.path: issue.message for issue in refused.value.issues}
    assert set(found) == {
        "situation.status",
        "situation.age",
        "operator",
        "first_name",
        "last_name",
        "email",
        "phone",
        "preferred_channel",
        "preferred_days",
        "message",
        "consent",
    }
    assert found["email"].startswith("Indiquez une adresse électronique valide")
    assert "15 à 120 ans" in found["situation.age"]
    assert "1000 caractères" in found["message"]


def test_a_missing_age_is_said_with_the_other_mistakes() -> None:
    from cep_core.services.requests import RequestService

    with pytest.raises(InvalidInput) as refused:
        RequestService.parse_submission({"situation": {"region": "99x"}, "consent": True})
    found = [issue.path for issue in refused.value.issues]
    assert "situation.birth_date" in found and "situation.status" in found


def test_a_reference_already_taken_is_drawn_again(
    db_kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = submit(db_kit)
    drawn = iter([first.reference, "CEP-2222-3333"])
    monkeypatch.setattr(requests_module, "new_reference", lambda: next(drawn))
    second = submit(db_kit, email="autre@exemple.fr")
    assert second.reference == "CEP-2222-3333"
    assert db_kit.requests.count_pending("apec") == 2


def test_find_by_reference_reads_what_a_person_says(db_kit: Kit) -> None:
    request = submit(db_kit)
    spoken = request.reference.lower().replace("-", " ").replace("0", "o")
    assert db_kit.requests.find_by_reference("apec", spoken) == request
    assert db_kit.requests.find_by_reference("regional", request.reference) is None
    assert db_kit.requests.find_by_reference("apec", "n'importe quoi") is None


# -- the queue -------------------------------------------------------------------------------


def test_another_operators_request_is_not_found(db_kit: Kit) -> None:
    request = submit(db_kit)
    with pytest.raises(RequestNotFound):
        db_kit.requests.get("regional", request.id)
    with pytest.raises(RequestNotFound):
        db_kit.requests.accept("regional", request.id, actor="r-1")
    with pytest.raises(RequestNotFound):
        db_kit.requests.decline(
            "regional", request.id, DeclineInput(reason=DeclineReason.DUPLICATE), actor="r-1"
        )
    assert db_kit.requests.list_requests("regional").items == ()
    assert db_kit.requests.count_pending("regional") == 0
    with pytest.raises(RequestNotFound):
        db_kit.requests.get("apec", "pas-un-identifiant")


def test_the_queue_pages_without_gaps_or_duplicates(db_kit: Kit, clock: FakeClock) -> None:
    made = []
    for number in range(7):
        made.append(submit(db_kit, email=f"personne{number}@exemple.fr"))
        if number % 3:
            clock.advance(minutes=1)  # some share a timestamp
    seen: list[str] = []
    cursor = None
    while True:
        page = db_kit.requests.list_requests("apec", limit=3, cursor=cursor)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # The queue is served in order of arrival.
    assert seen == [request.id for request in sorted(made, key=lambda r: (r.created_at, r.id))]
    everything = db_kit.requests.list_requests("apec", status=None, limit=200)
    assert [item.id for item in everything.items] == list(reversed(seen))


def test_a_bad_cursor_or_page_size_is_refused(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        db_kit.requests.list_requests("apec", cursor="%%%")
    assert paths(refused) == ["cursor"]
    with pytest.raises(InvalidInput):
        db_kit.requests.list_requests("apec", limit=0)


# -- accepting -------------------------------------------------------------------------------


def test_accepting_opens_the_case_from_the_request(db_kit: Kit) -> None:
    request = submit(db_kit)

    accepted = db_kit.requests.accept("apec", request.id, actor="conseiller-1")

    stored = accepted.request
    assert stored.status is RequestStatus.ACCEPTED
    assert stored.case_id == accepted.case.id and stored.decided_by == "conseiller-1"
    case = db_kit.cases.get_case("apec", accepted.case.id)
    assert case.situation == request.situation
    assert case.counsellor_id == "conseiller-1" and case.status is CaseStatus.OPENED
    person = db_kit.cases.get_beneficiary("apec", case.beneficiary_id)
    assert person is not None
    assert (person.first_name, person.last_name) == ("Maëlle", "Roussel")
    assert (person.email, person.phone) == ("maelle.roussel@exemple.fr", "06 12 34 56 78")
    [opened] = db_kit.cases.case_events("apec", case.id)
    assert opened.kind == "opened" and opened.actor == "conseiller-1"
    assert db_kit.requests.count_pending("apec") == 0


def test_a_request_is_accepted_once(db_kit: Kit) -> None:
    request = submit(db_kit)
    db_kit.requests.accept("apec", request.id, actor="c-1")
    with pytest.raises(RequestConflict) as conflict:
        db_kit.requests.accept("apec", request.id, actor="c-2")
    assert "déjà été acceptée" in str(conflict.value)
    with pytest.raises(RequestConflict):
        db_kit.requests.decline(
            "apec", request.id, DeclineInput(reason=DeclineReason.DUPLICATE), actor="c-2"
        )


def test_when_the_case_cannot_be_opened_the_request_stays_pending(
    db_kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = submit(db_kit)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise InvalidInput([])

    with monkeypatch.context() as patch:
        patch.setattr(db_kit.cases, "open_case", refuse)
        with pytest.raises(InvalidInput):
            db_kit.requests.accept("apec", request.id, actor="c-1")
    assert db_kit.requests.get("apec", request.id).pending
    # The claim was released: a colleague can accept it straight away.
    accepted = db_kit.requests.accept("apec", request.id, actor="c-2")
    assert accepted.request.decided_by == "c-2"


def test_a_claim_holds_until_its_lease_ends(db_kit: Kit, clock: FakeClock) -> None:
    request = submit(db_kit)
    with db_kit.database.write() as connection:  # a process died while accepting
        connection.execute(
            appointment_requests.update()
            .where(appointment_requests.c.id == request.id)
            .values(claim="0" * 32, claimed_at=clock.now)
        )
    with pytest.raises(RequestConflict) as conflict:
        db_kit.requests.accept("apec", request.id, actor="c-1")
    assert "en train d'accepter" in str(conflict.value)
    with pytest.raises(RequestConflict):
        db_kit.requests.decline(
            "apec", request.id, DeclineInput(reason=DeclineReason.DUPLICATE), actor="c-1"
        )
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert db_kit.requests.accept("apec", request.id, actor="c-1").request.case_id


# -- declining -------------------------------------------------------------------------------


def test_declining_records_the_reason(db_kit: Kit, clock: FakeClock) -> None:
    request = submit(db_kit)
    declined = db_kit.requests.decline(
        "apec",
        request.id,
        DeclineInput(reason=DeclineReason.OTHER, text="  Hors de notre zone  "),
        actor="c-1",
    )
    assert declined.status is RequestStatus.DECLINED
    assert declined.decline_reason is DeclineReason.OTHER
    assert declined.decline_text == "Hors de notre zone"
    assert (declined.decided_at, declined.decided_by) == (clock.now, "c-1")
    assert db_kit.requests.get("apec", request.id) == declined
    with pytest.raises(RequestConflict):
        db_kit.requests.accept("apec", request.id, actor="c-2")


def test_declining_for_another_reason_needs_a_text(db_kit: Kit) -> None:
    request = submit(db_kit)
    with pytest.raises(InvalidInput) as refused:
        db_kit.requests.decline(
            "apec", request.id, DeclineInput(reason=DeclineReason.OTHER), actor="c-1"
        )
    assert paths(refused) == ["text"]
    assert db_kit.requests.get("apec", request.id).pending


# -- appointments ----------------------------------------------------------------------------


def test_proposing_an_appointment_emails_it_with_an_invitation(
    db_kit: Kit, clock: FakeClock
) -> None:
    request = submit(db_kit)
    starts = datetime(2026, 3, 5, 13, 30, tzinfo=UTC)  # 14:30 in Paris

    proposed = db_kit.requests.propose_appointment(
        "apec",
        request.id,
        AppointmentInput(
            starts_at=starts, channel=SessionChannel.IN_PERSON, location="12 rue de Brest, Rennes"
        ),
        actor="c-1",
        counsellor_name="Claire Martin",
    )

    appointment = proposed.appointment
    assert appointment is not None
    assert appointment.starts_at == starts and appointment.duration_minutes == 60
    assert appointment.counsellor_name == "Claire Martin" and appointment.proposed_by == "c-1"
    assert proposed.status is RequestStatus.PENDING  # proposing does not decide
    kind, operator, message = outbox(db_kit)[-1]
    assert (kind, operator) == ("appointment_proposed", "apec")
    assert message["To"] == "maelle.roussel@exemple.fr"
    assert "14:30" in text_of(message) and "12 rue de Brest" in text_of(message)
    [invitation] = list(message.iter_attachments())
    assert invitation.get_content_type() == "text/calendar"
    assert request.reference in invitation.get_content()


def test_the_duration_defaults_to_the_operators_setting(db_kit: Kit, clock: FakeClock) -> None:
    db_kit.operator_settings.update(
        "apec",
        OperatorSettingsInput(default_duration_minutes=90),
        actor="m",
        expected_version=0,
    )
    request = submit(db_kit)
    proposed = db_kit.requests.propose_appointment(
        "apec",
        request.id,
        AppointmentInput(starts_at=clock.now + timedelta(days=2), channel=SessionChannel.PHONE),
        actor="c-1",
    )
    assert proposed.appointment is not None and proposed.appointment.duration_minutes == 90


def test_no_appointment_in_the_past_nor_on_a_declined_request(
    db_kit: Kit, clock: FakeClock
) -> None:
    request = submit(db_kit)
    with pytest.raises(InvalidInput) as refused:
        db_kit.requests.propose_appointment(
            "apec",
            request.id,
            AppointmentInput(starts_at=clock.now, channel=SessionChannel.PHONE),
            actor="c-1",
        )
    assert paths(refused) == ["starts_at"]
    db_kit.requests.decline(
        "apec", request.id, DeclineInput(reason=DeclineReason.WITHDRAWN), actor="c-1"
    )
    with pytest.raises(RequestConflict):
        db_kit.requests.propose_appointment(
            "apec",
            request.id,
            AppointmentInput(starts_at=clock.now + timedelta(days=1), channel=SessionChannel.PHONE),
            actor="c-1",
        )
    assert [kind for kind, _, _ in outbox(db_kit)].count("appointment_proposed") == 0


def test_an_appointment_can_follow_the_acceptance(db_kit: Kit, clock: FakeClock) -> None:
    request = submit(db_kit)
    db_kit.requests.accept("apec", request.id, actor="c-1")
    proposed = db_kit.requests.propose_appointment(
        "apec",
        request.id,
        AppointmentInput(starts_at=clock.now + timedelta(days=3), channel=SessionChannel.VIDEO),
        actor="c-1",
    )
    assert proposed.status is RequestStatus.ACCEPTED and proposed.appointment is not None
    assert proposed.case_id is not None


def test_submission_data_helper_is_valid() -> None:
    # The helper the other tests build on is itself a valid submission.
    from cep_core.services.requests import RequestService

    assert RequestService.parse_submission(submission()).consent is True
