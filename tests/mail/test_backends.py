"""Backends on their own: ``.eml`` files, the console, and SMTP against a real local server
(plain, STARTTLS, implicit TLS, login), with French errors that never show the password."""

from __future__ import annotations

import io
import ssl
import stat
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from cep_core.domain.issues import InvalidInput
from cep_core.mail.backends import (
    ConsoleBackend,
    FileBackend,
    MailDeliveryError,
    SmtpBackend,
    build_backend,
)
from cep_core.mail.message import Attachment, OutgoingMail, build_message, decode, encode
from cep_core.settings import MailBackend, MailSettings, Settings

from .conftest import Mailbox, SmtpServer, free_port, start_server

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def sample(**changes: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "to": ("camille@exemple.fr",),
        "subject": "Votre demande de conseil en évolution professionnelle (réf. R-1)",
        "text": "Bonjour,\n\nNous avons bien reçu votre demande.\n",
        "html": "<p>Bonjour,</p><p>Nous avons bien reçu votre demande.</p>",
        "attachments": (
            Attachment(
                filename="rendez-vous.ics",
                content_type="text/calendar; method=PUBLISH",
                data=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            ),
        ),
    }
    values.update(changes)
    return build_message(
        OutgoingMail(**values),
        sender="cep-kit <ne-pas-repondre@cep.exemple.fr>",
        now=NOW,
        domain="cep.exemple.fr",
    )


# -- the message itself ----------------------------------------------------------------------


def test_the_message_has_text_html_and_the_calendar() -> None:
    message = decode(encode(sample()))
    assert message["Subject"] == "Votre demande de conseil en évolution professionnelle (réf. R-1)"
    assert message["To"] == "camille@exemple.fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "fr"
    assert message["Message-ID"].endswith("@cep.exemple.fr>")
    assert message.get_content_type() == "multipart/mixed"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and "bien reçu" in plain.get_content()
    assert html is not None and "<p>Bonjour,</p>" in html.get_content()
    [invitation] = list(message.iter_attachments())
    assert invitation.get_filename() == "rendez-vous.ics"
    assert invitation.get_content_type() == "text/calendar"
    assert invitation.get_param("method") == "PUBLISH"
    assert invitation.get_content().startswith("BEGIN:VCALENDAR")
    assert b"\r\n" in encode(sample()) and b"\n\n" not in encode(sample())


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"to": ("pas une adresse",)}, "to[0]"),
        ({"to": ("a@b.fr\r\nBcc: x@y.fr",)}, "to[0]"),
        ({"to": ("camille@exemple.fr\n",)}, "to[0]"),
        ({"to": ("é@exemple.fr",)}, "to[0]"),
        ({"to": ()}, "to"),
        ({"subject": "Sujet\n"}, "subject"),
        ({"subject": "Sujet\r\nBcc: x@y.fr"}, "subject"),
        ({"text": ""}, "text"),
        ({"to": tuple(f"p{i}@exemple.fr" for i in range(11))}, "to"),
    ],
)
def test_bad_messages_are_refused_in_french(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sample(**changes)
    [issue] = refused.value.issues
    assert issue.path == path
    assert "Expected" not in issue.message  # French, from cep_core.validation
    assert "Bcc" not in issue.message  # the value is never echoed


# -- file and console ------------------------------------------------------------------------


def test_the_file_backend_writes_one_parseable_eml_per_message(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "mail")
    backend.send(sample())
    backend.send(sample(subject="Deuxième message"))
    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left behind
    assert all(f.name.startswith("20260302T093000-") for f in files)
    subjects = set()
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600  # personal data: owner only
        parsed = BytesParser(policy=policy.default).parsebytes(file.read_bytes())
        subjects.add(str(parsed["Subject"]))
        assert parsed.get_body(preferencelist=("plain",)) is not None
    assert subjects == {
        "Votre demande de conseil en évolution professionnelle (réf. R-1)",
        "Deuxième message",
    }


def test_the_file_backend_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("un fichier, pas un dossier")
    with pytest.raises(MailDeliveryError, match="écriture impossible"):
        FileBackend(blocker).send(sample())


def test_the_console_backend_prints_the_text_and_attachment_names() -> None:
    stream = io.StringIO()
    ConsoleBackend(stream).send(sample())
    printed = stream.getvalue()
    assert "Subject : Votre demande de conseil" in printed
    assert "Nous avons bien reçu votre demande." in printed
    assert "[pièce jointe : rendez-vous.ics (text/calendar)]" in printed
    assert "<p>" not in printed


def test_build_backend_follows_the_settings(tmp_path: Path) -> None:
    def settings(backend: MailBackend) -> Settings:
        return Settings(data_dir=tmp_path, mail=MailSettings(backend=backend))

    file_backend = build_backend(settings(MailBackend.FILE))
    assert isinstance(file_backend, FileBackend)
    assert file_backend.folder == tmp_path / "mail"
    assert isinstance(build_backend(settings(MailBackend.CONSOLE)), ConsoleBackend)
    assert isinstance(build_backend(settings(MailBackend.SMTP)), SmtpBackend)


# -- SMTP ------------------------------------------------------------------------------------


def test_smtp_delivers_to_a_real_server(smtp_server: SmtpServer) -> None:
    SmtpBackend(smtp_server.settings()).send(sample())
    [received] = smtp_server.mailbox.messages
    assert received["Subject"].startswith("Votre demande de conseil")
    assert smtp_server.mailbox.envelopes == [
        ("ne-pas-repondre@cep.exemple.fr", ["camille@exemple.fr"])
    ]


def test_smtp_connection_refused_is_a_french_temporary_error() -> None:
    port = free_port()  # nobody listens there
    settings = MailSettings(backend=MailBackend.SMTP, smtp_host="127.0.0.1", smtp_port=port)
    with pytest.raises(MailDeliveryError) as failed:
        SmtpBackend(settings).send(sample())
    assert failed.value.message == (
        f"serveur SMTP 127.0.0.1:{port} : connexion refusée (aucun serveur n'écoute à cette "
        "adresse)"
    )
    assert not failed.value.permanent


def test_smtp_recipient_refused_is_permanent_and_names_nobody(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.refuse_recipients = True
    with pytest.raises(MailDeliveryError) as failed:
        SmtpBackend(smtp_server.settings()).send(sample())
    assert failed.value.permanent
    assert "destinataire refusé (code 550)" in failed.value.message
    assert "camille" not in failed.value.message
    assert smtp_server.mailbox.messages == []


def test_smtp_temporary_refusal_keeps_only_the_code(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.fail_data = True
    with pytest.raises(MailDeliveryError) as failed:
        SmtpBackend(smtp_server.settings()).send(sample())
    assert not failed.value.permanent
    assert failed.value.code == 451
    assert "Réessayez" not in failed.value.message  # the server's words are not kept


class _Authenticator:
    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        ok = auth_data.login == b"cep" and auth_data.password == b"mot-de-passe-secret"
        return AuthResult(success=ok, handled=False)


def test_smtp_login_and_a_refused_password_never_shown() -> None:
    server = start_server(Mailbox(), authenticator=_Authenticator(), auth_require_tls=False)
    try:
        good = server.settings(smtp_username="cep", smtp_password="mot-de-passe-secret")
        SmtpBackend(good).send(sample())
        assert len(server.mailbox.messages) == 1
        bad = server.settings(smtp_username="cep", smtp_password="mauvais-secret-123")
        with pytest.raises(MailDeliveryError) as failed:
            SmtpBackend(bad).send(sample())
        assert "identifiants refusés" in failed.value.message
        assert "CEP_SMTP_PASSWORD" in failed.value.message
        assert "mauvais-secret-123" not in str(failed.value)
        assert failed.value.__cause__ is None and failed.value.__suppress_context__
        assert len(server.mailbox.messages) == 1
    finally:
        server.controller.stop()


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_smtp_starttls(certificate: tuple[Path, Path]) -> None:
    server = start_server(
        Mailbox(), tls_context=_server_context(certificate), require_starttls=True
    )
    try:
        client_context = ssl.create_default_context(cafile=str(certificate[0]))
        settings = server.settings(smtp_starttls=True)
        SmtpBackend(settings, ssl_context=client_context).send(sample())
        assert len(server.mailbox.messages) == 1
        # Without STARTTLS the server refuses; with an untrusted certificate, TLS fails.
        with pytest.raises(MailDeliveryError):
            SmtpBackend(server.settings()).send(sample())
        with pytest.raises(MailDeliveryError, match="connexion chiffrée"):
            SmtpBackend(settings).send(sample())  # system trust store: self-signed refused
        assert len(server.mailbox.messages) == 1
    finally:
        server.controller.stop()


def test_smtp_implicit_tls(certificate: tuple[Path, Path]) -> None:
    server = start_server(Mailbox(), ssl_context=_server_context(certificate))
    try:
        client_context = ssl.create_default_context(cafile=str(certificate[0]))
        SmtpBackend(server.settings(smtp_ssl=True), ssl_context=client_context).send(sample())
        assert len(server.mailbox.messages) == 1
    finally:
        server.controller.stop()
