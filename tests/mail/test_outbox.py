"""Notifications through the outbox to a real SMTP server, on SQLite and PostgreSQL: the four
messages, rollback, retries then failure without loss, leases, concurrent senders."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from cep_core.domain.issues import InvalidInput
from cep_core.kit import Kit
from cep_core.mail.outbox import DEFAULT_BACKOFF, DeliveryReport
from cep_core.services.notifications import NotificationService
from cep_core.storage.tables import mail_outbox

from .conftest import FakeClock, KitBuilder, SmtpServer
from .test_ics import parse, unescape

STARTS = datetime(2026, 3, 4, 13, 30, tzinfo=UTC)  # 14:30 in Paris


def queue_the_four(kit: Kit, operator: str = "apec") -> None:
    notes = kit.notifications
    with kit.database.write() as conn:
        notes.request_received(
            conn,
            operator=operator,
            to="camille@exemple.fr",
            reference="APEC-2026-0001",
            operator_label="Apec",
            contact_text="01 23 45 67 89",
        )
        notes.new_request_notice(
            conn,
            operator=operator,
            to="file-cep@apec.exemple.fr",
            reference="APEC-2026-0001",
            operator_label="Apec",
            queue_url="https://cep.exemple.fr/conseil/demandes",
        )
        notes.appointment_proposed(
            conn,
            operator=operator,
            to="camille@exemple.fr",
            reference="APEC-2026-0001",
            operator_label="Apec",
            starts_at=STARTS,
            duration_minutes=60,
            channel_label="Entretien sur place",
            location="Apec, 12 rue de la Paix, 75002 Paris",
            counsellor_name="Dominique Durand",
        )
        notes.synthesis_ready(
            conn,
            operator=operator,
            to="camille@exemple.fr",
            operator_label="Apec",
            link_url="https://cep.exemple.fr/documents/abcdef",
            expires_at=STARTS + timedelta(days=7),
        )


def outbox_rows(kit: Kit) -> list[Any]:
    with kit.database.read() as conn:
        return list(conn.execute(select(mail_outbox).order_by(mail_outbox.c.created_at)))


def by_subject(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(m["Subject"]).split(" (")[0].split(" le ")[0]: m for m in messages}


def test_the_four_messages_reach_a_real_smtp_server(
    make_kit: KitBuilder, smtp_server: SmtpServer
) -> None:
    kit = make_kit(smtp_server.settings())
    queue_the_four(kit)
    assert smtp_server.mailbox.messages == []  # queued, not sent yet
    assert kit.notifications.deliver_pending() == DeliveryReport(sent=4)
    received = by_subject(smtp_server.mailbox.messages)
    assert set(received) == {
        "Votre demande de conseil en évolution professionnelle",
        "Nouvelle demande de CEP à traiter",
        "Votre rendez-vous de conseil en évolution professionnelle",
        "Votre document de synthèse est disponible",
    }
    for message in received.values():
        assert message.get_body(preferencelist=("plain",)) is not None
        assert message.get_body(preferencelist=("html",)) is not None
        assert message["From"] == "cep-kit <ne-pas-repondre@cep-kit.invalid>"
        assert message["Message-ID"].endswith("@cep.exemple.fr>")

    notice = received["Nouvelle demande de CEP à traiter"]
    assert notice["To"] == "file-cep@apec.exemple.fr"
    notice_text = notice.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "camille" not in notice_text.lower() and "01 23" not in notice_text

    appointment = received["Votre rendez-vous de conseil en évolution professionnelle"]
    assert "mercredi 4 mars 2026 à 14:30" in str(appointment["Subject"])
    [invitation] = list(appointment.iter_attachments())
    assert invitation.get_filename() == "rendez-vous.ics"
    assert invitation.get_content_type() == "text/calendar"
    assert invitation.get_param("method") == "PUBLISH"
    properties = parse(invitation.get_payload(decode=True))  # type: ignore[arg-type]
    values = {name: value for name, _, value in properties}
    assert values["DTSTART"] == "20260304T133000Z"
    assert values["DTEND"] == "20260304T143000Z"
    assert values["DTSTAMP"] == "20260302T093000Z"
    assert values["UID"].endswith("@cep.exemple.fr")
    assert unescape(values["LOCATION"]) == "Apec, 12 rue de la Paix, 75002 Paris"
    assert "Dominique Durand" in unescape(values["DESCRIPTION"])

    synthesis = received["Votre document de synthèse est disponible"]
    assert list(synthesis.iter_attachments()) == []  # the link only, never the PDF
    assert (
        "https://cep.exemple.fr/documents/abcdef"
        in synthesis.get_body(  # type: ignore[union-attr]
            preferencelist=("plain",)
        ).get_content()
    )

    rows = outbox_rows(kit)
    assert [row.status for row in rows] == ["sent"] * 4
    assert all(row.message == b"" for row in rows)  # personal data not kept once sent
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    assert {row.kind for row in rows} == {
        "request_received",
        "new_request_notice",
        "appointment_proposed",
        "synthesis_ready",
    }
    # Nothing left: a second run sends nothing again.
    assert kit.notifications.deliver_pending() == DeliveryReport()
    assert len(smtp_server.mailbox.messages) == 4


def test_a_rolled_back_change_sends_nothing(make_kit: KitBuilder, smtp_server: SmtpServer) -> None:
    kit = make_kit(smtp_server.settings())

    class Boom(Exception):
        pass

    def change_that_fails() -> None:
        with kit.database.write() as conn:
            kit.notifications.request_received(
                conn,
                operator="apec",
                to="camille@exemple.fr",
                reference="R-1",
                operator_label="Apec",
                contact_text=None,
            )
            raise Boom

    with pytest.raises(Boom):
        change_that_fails()
    assert outbox_rows(kit) == []
    assert kit.notifications.deliver_pending() == DeliveryReport()
    assert smtp_server.mailbox.messages == []


def test_a_failing_server_means_retries_then_failure_and_the_message_is_kept(
    make_kit: KitBuilder, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    kit = make_kit(smtp_server.settings())
    kit.notifications.outbox.max_attempts = 3
    with kit.database.write() as conn:
        kit.notifications.request_received(
            conn,
            operator="apec",
            to="camille@exemple.fr",
            reference="R-1",
            operator_label="Apec",
            contact_text=None,
        )
    smtp_server.mailbox.fail_data = True
    assert kit.notifications.deliver_pending() == DeliveryReport(retried=1)
    [row] = outbox_rows(kit)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now + DEFAULT_BACKOFF[0]
    assert (
        row.last_error == f"serveur SMTP 127.0.0.1:{smtp_server.port} : message refusé (code 451)"
    )

    # Not due yet: nothing happens.
    assert kit.notifications.deliver_pending() == DeliveryReport()
    clock.advance(minutes=1)
    assert kit.notifications.deliver_pending() == DeliveryReport(retried=1)
    [row] = outbox_rows(kit)
    assert row.next_attempt_at == clock.now + DEFAULT_BACKOFF[1]  # backoff grows
    clock.advance(minutes=5)
    assert kit.notifications.deliver_pending() == DeliveryReport(failed=1)
    [row] = outbox_rows(kit)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.message != b""  # not lost
    assert "camille" not in (row.last_error or "")
    [failed] = kit.notifications.outbox.failed_messages()
    assert (failed.id, failed.kind, failed.operator) == (row.id, "request_received", "apec")
    clock.advance(hours=12)
    assert kit.notifications.deliver_pending() == DeliveryReport()  # failed stays failed

    # The cause is fixed: an administrator requeues it, and it goes.
    smtp_server.mailbox.fail_data = False
    assert kit.notifications.outbox.requeue_failed() == 1
    assert kit.notifications.deliver_pending() == DeliveryReport(sent=1)
    [received] = smtp_server.mailbox.messages
    assert "R-1" in str(received["Subject"])
    counts = kit.notifications.outbox.counts()
    assert (counts.pending, counts.sent, counts.failed) == (0, 1, 0)


def test_a_refused_recipient_fails_at_once(make_kit: KitBuilder, smtp_server: SmtpServer) -> None:
    kit = make_kit(smtp_server.settings())
    queue_the_four(kit)
    smtp_server.mailbox.refuse_recipients = True
    assert kit.notifications.deliver_pending() == DeliveryReport(failed=4)
    assert {row.attempts for row in outbox_rows(kit)} == {1}


def test_a_crash_while_sending_loses_nothing(
    make_kit: KitBuilder, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    """The process dies after claiming: the lease runs out, then another run sends it."""
    kit = make_kit(smtp_server.settings())
    queue_the_four(kit)

    class Dying:
        def send(self, message: EmailMessage) -> None:
            raise SystemExit("killed")

    dying = NotificationService(kit.database, settings=kit.settings, clock=clock, backend=Dying())
    with pytest.raises(SystemExit):
        dying.deliver_pending()
    assert kit.notifications.deliver_pending() == DeliveryReport(sent=3)  # the claimed one waits
    clock.advance(minutes=10)
    assert kit.notifications.deliver_pending() == DeliveryReport(sent=1)
    assert len(smtp_server.mailbox.messages) == 4
    assert {row.status for row in outbox_rows(kit)} == {"sent"}


def test_an_unexpected_backend_error_is_retried_not_lost(
    make_kit: KitBuilder, clock: FakeClock
) -> None:
    kit = make_kit()

    class Broken:
        def send(self, message: EmailMessage) -> None:
            raise KeyError("oops")

    service = NotificationService(
        kit.database, settings=kit.settings, clock=clock, backend=Broken()
    )
    with kit.database.write() as conn:
        service.request_received(
            conn,
            operator="apec",
            to="camille@exemple.fr",
            reference="R-1",
            operator_label="Apec",
            contact_text=None,
        )
    assert service.deliver_pending() == DeliveryReport(retried=1)
    [row] = outbox_rows(kit)
    assert row.last_error == "erreur inattendue (KeyError)"


def test_two_concurrent_senders_send_each_message_once(
    make_kit: KitBuilder, smtp_server: SmtpServer
) -> None:
    first = make_kit(smtp_server.settings())
    second = make_kit(smtp_server.settings())  # its own engine, like another process
    for _ in range(10):
        queue_the_four(first)
    barrier = threading.Barrier(2)
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []

    def run(kit: Kit) -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(kit.notifications.deliver_pending(limit=100))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(kit,)) for kit in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(report.sent for report in reports) == 40
    ids = [str(m["Message-ID"]) for m in smtp_server.mailbox.messages]
    assert len(ids) == 40 and len(set(ids)) == 40
    with first.database.read() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(mail_outbox).where(mail_outbox.c.status == "sent")
            ).scalar_one()
            == 40
        )


def test_limit_bounds_one_run(make_kit: KitBuilder, smtp_server: SmtpServer) -> None:
    kit = make_kit(smtp_server.settings())
    queue_the_four(kit)
    assert kit.notifications.deliver_pending(limit=3) == DeliveryReport(sent=3)
    assert kit.notifications.deliver_pending(limit=3) == DeliveryReport(sent=1)
    with pytest.raises(ValueError, match="limit"):
        kit.notifications.deliver_pending(limit=0)


def test_the_default_file_backend_writes_eml_files(make_kit: KitBuilder) -> None:
    kit = make_kit()  # MailSettings() : backend "file" under data_dir/mail
    queue_the_four(kit)
    assert kit.notifications.deliver_pending() == DeliveryReport(sent=4)
    files = sorted((kit.settings.data_dir / "mail").glob("*.eml"))
    assert len(files) == 4
    assert all(re.match(r"^\d{8}T\d{6}-", f.name) for f in files)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"to": "pas-une-adresse"}, "to"),
        ({"reference": "R-1\r\nBcc: x@y.fr"}, "reference"),
        ({"reference": "R-1\n"}, "reference"),
        ({"operator_label": "x" * 201}, "operator_label"),
        ({"contact_text": "x" * 1001}, "contact_text"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_queued(
    make_kit: KitBuilder, changes: dict[str, Any], path: str
) -> None:
    kit = make_kit()
    values: dict[str, Any] = {
        "operator": "apec",
        "to": "camille@exemple.fr",
        "reference": "R-1",
        "operator_label": "Apec",
        "contact_text": None,
    }
    values.update(changes)
    with pytest.raises(InvalidInput) as refused, kit.database.write() as conn:
        kit.notifications.request_received(conn, **values)
    [issue] = refused.value.issues
    assert issue.path == path
    assert outbox_rows(kit) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("queue_url", "javascript:alert(1)"),
        ("queue_url", "https://cep.exemple.fr/a b"),
    ],
)
def test_links_must_be_http_urls(make_kit: KitBuilder, name: str, value: str) -> None:
    kit = make_kit()
    with pytest.raises(InvalidInput), kit.database.write() as conn:
        kit.notifications.new_request_notice(
            conn,
            operator="apec",
            to="file@apec.exemple.fr",
            reference="R-1",
            operator_label="Apec",
            **{name: value},
        )


def test_appointment_times_must_be_aware_and_durations_bounded(make_kit: KitBuilder) -> None:
    kit = make_kit()
    base: dict[str, Any] = {
        "operator": "apec",
        "to": "camille@exemple.fr",
        "reference": "R-1",
        "operator_label": "Apec",
        "starts_at": STARTS,
        "duration_minutes": 60,
        "channel_label": "Téléphone",
        "location": None,
        "counsellor_name": None,
    }
    for changes in ({"starts_at": datetime(2026, 3, 4, 14, 30)}, {"duration_minutes": 0}):
        with pytest.raises(InvalidInput), kit.database.write() as conn:
            kit.notifications.appointment_proposed(conn, **{**base, **changes})
    assert outbox_rows(kit) == []
