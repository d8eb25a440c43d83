"""Notifications by e-mail: what a person and an operator's queue are told, and when.

Each method renders a French message (plain text and HTML) and queues it in the CALLER's
transaction (a connection from ``kit.database.write()``): the message leaves only if the
change it announces commits. ``deliver_pending`` (``cep mail send``, or a periodic task)
sends what is due. Messages carry no more personal data than they need: the queue notice has
the reference and a link only, the synthesis notice a single-use link and never the PDF.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import Connection

from cep_core.clock import Clock
from cep_core.domain.issues import InvalidInput
from cep_core.mail.backends import Backend, build_backend
from cep_core.mail.ics import CONTENT_TYPE as ICS_CONTENT_TYPE
from cep_core.mail.ics import FILENAME as ICS_FILENAME
from cep_core.mail.ics import CalendarEvent, calendar
from cep_core.mail.message import Address, Attachment, OutgoingMail, build_message, encode
from cep_core.mail.outbox import (
    DEFAULT_BACKOFF,
    DEFAULT_MAX_ATTEMPTS,
    DeliveryReport,
    Outbox,
    enqueue,
)
from cep_core.mail.rendering import MailTemplates
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.validation import issues_from_msgspec_error

REQUEST_RECEIVED = "request_received"
NEW_REQUEST_NOTICE = "new_request_notice"
APPOINTMENT_PROPOSED = "appointment_proposed"
SYNTHESIS_READY = "synthesis_ready"

_LINE = r"^[^\x00-\x1f\x7f]+\Z"  # one line of text: no control character, no line break
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_LINE)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_LINE)]
Operator = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_LINE)]
Url = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https?://[^\s<>\"'`]+\Z")]
AwareDateTime = Annotated[datetime, msgspec.Meta(tz=True)]


class _Base(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    operator: Operator
    to: Address
    operator_label: Line


class RequestReceived(_Base, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reference: Reference
    contact_text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None


class NewRequestNotice(_Base, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reference: Reference
    queue_url: Url


class AppointmentProposed(_Base, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reference: Reference
    starts_at: AwareDateTime
    duration_minutes: Annotated[int, msgspec.Meta(ge=5, le=480)]
    channel_label: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=_LINE)]
    location: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=_LINE)] | None = (
        None
    )
    counsellor_name: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=_LINE)] | None
    ) = None


class SynthesisReady(_Base, frozen=True, kw_only=True, forbid_unknown_fields=True):
    link_url: Url
    expires_at: AwareDateTime


_S = TypeVar("_S", bound=_Base)


def _checked(model: type[_S], values: dict[str, Any]) -> _S:
    """`values` as `model`, bounds enforced; `InvalidInput` (French, field named) otherwise."""
    try:
        return msgspec.convert(values, model)
    except msgspec.ValidationError as exc:
        raise InvalidInput(issues_from_msgspec_error(exc, model)) from None


def mail_domain(public_url: str) -> str:
    """The host of ``CEP_PUBLIC_URL``, for Message-IDs and calendar UIDs."""
    return urlsplit(public_url).hostname or "cep-kit.invalid"


class NotificationService:
    """Queues the kit's e-mails and delivers them (see the module docstring).

    ``backend`` replaces the one ``CEP_MAIL_BACKEND`` names (tests, embedding portals);
    ``max_attempts`` and ``backoff`` tune the retries.
    """

    def __init__(
        self,
        database: Database,
        *,
        settings: Settings,
        clock: Clock,
        backend: Backend | None = None,
        templates: MailTemplates | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: tuple[timedelta, ...] = DEFAULT_BACKOFF,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._templates = templates or MailTemplates()
        self._domain = mail_domain(settings.public_url)
        self.outbox = Outbox(
            database,
            backend if backend is not None else (lambda: build_backend(settings)),
            clock=clock,
            max_attempts=max_attempts,
            backoff=backoff,
        )

    # -- messages --------------------------------------------------------------------------

    def request_received(
        self,
        conn: Connection,
        *,
        operator: str,
        to: str,
        reference: str,
        operator_label: str,
        contact_text: str | None,
    ) -> None:
        """To the person: their request arrived, here is its reference."""
        data = _checked(
            RequestReceived,
            {
                "operator": operator,
                "to": to,
                "reference": reference,
                "operator_label": operator_label,
                "contact_text": contact_text,
            },
        )
        self._queue(
            conn,
            data,
            REQUEST_RECEIVED,
            reference=data.reference,
            contact_text=data.contact_text,
        )

    def new_request_notice(
        self,
        conn: Connection,
        *,
        operator: str,
        to: str,
        reference: str,
        operator_label: str,
        queue_url: str,
    ) -> None:
        """To the operator's queue: a request is waiting (its reference and a link, nothing
        about the person)."""
        data = _checked(
            NewRequestNotice,
            {
                "operator": operator,
                "to": to,
                "reference": reference,
                "operator_label": operator_label,
                "queue_url": queue_url,
            },
        )
        self._queue(
            conn, data, NEW_REQUEST_NOTICE, reference=data.reference, queue_url=data.queue_url
        )

    def appointment_proposed(
        self,
        conn: Connection,
        *,
        operator: str,
        to: str,
        reference: str,
        operator_label: str,
        starts_at: datetime,
        duration_minutes: int,
        channel_label: str,
        location: str | None,
        counsellor_name: str | None,
    ) -> None:
        """To the person: the appointment a counsellor proposes, with ``rendez-vous.ics``."""
        data = _checked(
            AppointmentProposed,
            {
                "operator": operator,
                "to": to,
                "reference": reference,
                "operator_label": operator_label,
                "starts_at": starts_at,
                "duration_minutes": duration_minutes,
                "channel_label": channel_label,
                "location": location,
                "counsellor_name": counsellor_name,
            },
        )
        details = [f"Modalité : {data.channel_label}"]
        if data.counsellor_name:
            details.append(f"Conseiller ou conseillère : {data.counsellor_name}")
        details.append(f"Référence de votre demande : {data.reference}")
        event = CalendarEvent(
            uid=f"{new_id()}@{self._domain}",
            stamp=self._clock(),
            starts_at=data.starts_at,
            ends_at=data.starts_at + timedelta(minutes=data.duration_minutes),
            summary=f"Rendez-vous CEP – {data.operator_label}",
            location=data.location or data.channel_label,
            description="Conseil en évolution professionnelle\n" + "\n".join(details),
        )
        invitation = Attachment(
            filename=ICS_FILENAME, content_type=ICS_CONTENT_TYPE, data=calendar(event)
        )
        self._queue(
            conn,
            data,
            APPOINTMENT_PROPOSED,
            attachments=(invitation,),
            reference=data.reference,
            starts_at=data.starts_at,
            duration_minutes=data.duration_minutes,
            channel_label=data.channel_label,
            location=data.location,
            counsellor_name=data.counsellor_name,
        )

    def synthesis_ready(
        self,
        conn: Connection,
        *,
        operator: str,
        to: str,
        operator_label: str,
        link_url: str,
        expires_at: datetime,
    ) -> None:
        """To the person: their synthesis can be downloaded once, until `expires_at`, through
        `link_url` (from `DownloadLinkService.create`). Never the PDF itself."""
        data = _checked(
            SynthesisReady,
            {
                "operator": operator,
                "to": to,
                "operator_label": operator_label,
                "link_url": link_url,
                "expires_at": expires_at,
            },
        )
        self._queue(conn, data, SYNTHESIS_READY, link_url=data.link_url, expires_at=data.expires_at)

    # -- delivery --------------------------------------------------------------------------

    def deliver_pending(self, *, limit: int = 100) -> DeliveryReport:
        """Send up to `limit` due messages (see `cep_core.mail.outbox`)."""
        return self.outbox.deliver_pending(limit=limit)

    # -- internals -------------------------------------------------------------------------

    def _queue(
        self,
        conn: Connection,
        data: _Base,
        kind: str,
        *,
        attachments: tuple[Attachment, ...] = (),
        **context: Any,
    ) -> None:
        rendered = self._templates.render(kind, operator_label=data.operator_label, **context)
        mail = OutgoingMail(
            to=(data.to,),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=attachments,
        )
        now = self._clock()
        message = build_message(
            mail, sender=self._settings.mail.sender, now=now, domain=self._domain
        )
        enqueue(conn, operator=data.operator, kind=kind, message=encode(message), now=now)
