"""E-mail: messages (`OutgoingMail`), backends (console, ``.eml`` files, SMTP), ``.ics``
invitations, French templates and the outbox that sends after commit.

Services queue messages through `cep_core.services.notifications.NotificationService`
(``kit.notifications``); ``cep mail send`` delivers what is due.
"""

from __future__ import annotations

from cep_core.mail.backends import (
    Backend,
    ConsoleBackend,
    FileBackend,
    MailDeliveryError,
    SmtpBackend,
    build_backend,
)
from cep_core.mail.ics import CalendarEvent, calendar
from cep_core.mail.message import Attachment, OutgoingMail, build_message, decode, encode
from cep_core.mail.outbox import DeliveryReport, FailedMessage, Outbox, OutboxCounts, enqueue
from cep_core.mail.rendering import MailTemplates, RenderedMail

__all__ = [
    "Attachment",
    "Backend",
    "CalendarEvent",
    "ConsoleBackend",
    "DeliveryReport",
    "FailedMessage",
    "FileBackend",
    "MailDeliveryError",
    "MailTemplates",
    "Outbox",
    "OutboxCounts",
    "OutgoingMail",
    "RenderedMail",
    "SmtpBackend",
    "build_backend",
    "build_message",
    "calendar",
    "decode",
    "encode",
    "enqueue",
]
