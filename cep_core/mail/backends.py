"""Where messages go: the console, ``.eml`` files, or an SMTP server.

The backend is chosen by ``CEP_MAIL_BACKEND`` (`build_backend`): ``file`` by default in
development (open the ``.eml`` files with any mail client), ``smtp`` in production. A backend
raises `MailDeliveryError` when a message could not be handed over; its French message never
contains the SMTP password nor the server's reply text (which may quote an address), so it
can be stored in the outbox and shown to an administrator.
"""

from __future__ import annotations

import errno
import logging
import os
import smtplib
import socket
import ssl
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from cep_core.errors import CepError
from cep_core.mail.message import encode
from cep_core.settings import MailBackend, MailSettings, Settings

log = logging.getLogger("cep_core.mail")


class MailDeliveryError(CepError):
    """A message was not handed over. ``permanent``: retrying the same message is pointless
    (the server refused its recipient for good)."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None):
        self.message = message
        self.permanent = permanent
        self.code = code
        super().__init__(message)


@runtime_checkable
class Backend(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand `message` over, or raise `MailDeliveryError`."""


class ConsoleBackend:
    """Prints each message's headers, plain text and attachment names (development)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        out = self.stream or sys.stdout
        lines = ["-" * 72]
        lines += [f"{name} : {message[name]}" for name in ("From", "To", "Subject", "Date")]
        body = message.get_body(preferencelist=("plain",))
        lines += ["", body.get_content().rstrip() if isinstance(body, EmailMessage) else ""]
        for part in message.iter_attachments():
            lines.append(f"[pièce jointe : {part.get_filename()} ({part.get_content_type()})]")
        lines.append("-" * 72)
        out.write("\n".join(lines) + "\n")
        out.flush()


class FileBackend:
    """Writes one RFC 5322 ``.eml`` file per message in `folder`, atomically.

    The file appears whole or not at all (a temporary file in the same folder, flushed to disk,
    then renamed), readable by its owner only: it holds personal data.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        raw = encode(message)
        name = _file_name(message)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(raw)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.folder / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailDeliveryError(
                f"écriture impossible dans le dossier des messages ({exc.strerror or exc})"
            ) from None


def _file_name(message: EmailMessage) -> str:
    """``<UTC time>-<Message-ID local part>.eml``: sorted by date, unique, no personal data."""
    from email.utils import parsedate_to_datetime

    stamp = "00000000T000000"
    if message["Date"]:
        stamp = parsedate_to_datetime(str(message["Date"])).strftime("%Y%m%dT%H%M%S")
    msgid = str(message["Message-ID"] or "").strip("<>").split("@", 1)[0]
    safe = "".join(c for c in msgid if c.isalnum() or c in ".-_")[:80]
    return f"{stamp}-{safe or os.urandom(8).hex()}.eml"


class SmtpBackend:
    """Sends through an SMTP server (stdlib `smtplib`): STARTTLS or implicit TLS, login when a
    user name is set, a timeout on every network step. One connection per message: mail
    volumes are small and a fresh connection survives a server restart between messages.

    ``ssl_context`` defaults to the system's trust store with host name checking; pass one
    built with ``cafile=`` for a private authority.
    """

    def __init__(self, settings: MailSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.ssl_context = ssl_context

    def _where(self) -> str:
        return f"serveur SMTP {self.settings.smtp_host}:{self.settings.smtp_port}"

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        context = self.ssl_context or ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if s.smtp_ssl:
                client = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            with client:
                if s.smtp_starttls and not s.smtp_ssl:
                    client.starttls(context=context)
                if s.smtp_username:
                    client.login(s.smtp_username, s.smtp_password or "")
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise _refused(self._where(), codes) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise MailDeliveryError(
                f"{self._where()} : identifiants refusés (code {exc.smtp_code}) ; vérifiez "
                "CEP_SMTP_USERNAME et CEP_SMTP_PASSWORD",
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise MailDeliveryError(
                f"{self._where()} : fonction non prise en charge par le serveur (STARTTLS ou "
                "authentification) ; vérifiez CEP_SMTP_STARTTLS, CEP_SMTP_SSL et le port"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailDeliveryError(
                f"{self._where()} : adresse d'expédition refusée (code {exc.smtp_code}) ; "
                "vérifiez CEP_MAIL_FROM",
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPResponseException as exc:
            # The reply text may quote an address: only its code is kept.
            raise MailDeliveryError(
                f"{self._where()} : message refusé (code {exc.smtp_code})",
                code=exc.smtp_code,
                permanent=False,
            ) from None
        except TimeoutError:
            raise MailDeliveryError(
                f"{self._where()} : délai dépassé ({s.smtp_timeout:g} s)"
            ) from None
        except ssl.SSLError as exc:
            raise MailDeliveryError(
                f"{self._where()} : échec de la connexion chiffrée ({exc.reason or 'TLS'})"
            ) from None
        except smtplib.SMTPException as exc:
            raise MailDeliveryError(
                f"{self._where()} : échange interrompu ({type(exc).__name__})"
            ) from None
        except OSError as exc:
            raise MailDeliveryError(f"{self._where()} : {_network_problem(exc)}") from None
        if refused:
            # Delivered to the others: retrying would send them a second copy.
            codes = sorted({code for code, _ in refused.values()})
            log.warning(
                "%s: %d recipient(s) refused (codes %s)", self._where(), len(refused), codes
            )


def _network_problem(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "nom d'hôte inconnu"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée (aucun serveur n'écoute à cette adresse)"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connexion coupée par le serveur"
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return f"erreur réseau ({name})"


def _refused(where: str, codes: list[int]) -> MailDeliveryError:
    """Some recipients refused: permanent when every refusal is a 5xx."""
    permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    shown = ", ".join(str(code) for code in sorted(set(codes)))
    return MailDeliveryError(
        f"{where} : destinataire refusé (code {shown})",
        permanent=permanent,
        code=codes[0] if codes else None,
    )


def build_backend(settings: Settings) -> Backend:
    """The backend ``CEP_MAIL_BACKEND`` names; ``file`` writes under ``<data_dir>/mail/``."""
    mail = settings.mail
    if mail.backend is MailBackend.CONSOLE:
        return ConsoleBackend()
    if mail.backend is MailBackend.FILE:
        return FileBackend(settings.data_dir / "mail")
    return SmtpBackend(mail)
