"""`OutgoingMail`: what the kit sends, checked, then turned into RFC 5322 bytes.

A message is built once, when it is queued, and its bytes are what every backend delivers (the
outbox keeps them until sent). Strings and lists are bounded and header fields refuse line
breaks, so a value that slipped through a caller cannot inject headers or blow up a row.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from typing import Annotated

import msgspec

from cep_core.domain.issues import InvalidInput
from cep_core.validation import issues_from_msgspec_error

MAX_RECIPIENTS = 10
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 1_000_000
MAX_TEXT = 100_000
MAX_HTML = 300_000

# Patterns end with ``\Z``, not ``$``: ``$`` also matches before a final line break.
# Deliberately plain: one ASCII ``local@domain`` address (an international domain in its
# punycode form), no display name, no comment, no list — nothing that needs SMTPUTF8.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+\Z"
SUBJECT_PATTERN = r"^[^\r\n\x00-\x1f\x7f]+\Z"
FILENAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z"
# ``type/subtype`` and optional ``; name=value`` parameters (token values only).
CONTENT_TYPE_PATTERN = r"^[a-z]+/[a-z0-9.+-]+(?:; ?[a-z-]+=[A-Za-z0-9._-]+)*\Z"

Address = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=ADDRESS_PATTERN)]


class Attachment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A file joined to a message (an ``.ics`` invitation; never a synthesis PDF)."""

    filename: Annotated[str, msgspec.Meta(pattern=FILENAME_PATTERN)]
    content_type: Annotated[str, msgspec.Meta(max_length=100, pattern=CONTENT_TYPE_PATTERN)]
    data: Annotated[bytes, msgspec.Meta(max_length=MAX_ATTACHMENT_BYTES)]


class OutgoingMail(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One message: recipients, French subject, plain text and (optionally) HTML bodies."""

    to: Annotated[tuple[Address, ...], msgspec.Meta(min_length=1, max_length=MAX_RECIPIENTS)]
    subject: Annotated[str, msgspec.Meta(max_length=200, pattern=SUBJECT_PATTERN)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    html: Annotated[str, msgspec.Meta(max_length=MAX_HTML)] | None = None
    attachments: Annotated[tuple[Attachment, ...], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = ()


def checked(mail: OutgoingMail) -> OutgoingMail:
    """`mail` once its bounds hold (msgspec checks them when decoding, not on construction).

    Raises `InvalidInput` with a French message naming the field, never echoing the value.
    """
    try:
        return msgspec.convert(msgspec.to_builtins(mail, builtin_types=(bytes,)), OutgoingMail)
    except msgspec.ValidationError as exc:
        raise InvalidInput(issues_from_msgspec_error(exc, OutgoingMail)) from None


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    kind, *raw_params = (part.strip() for part in value.split(";"))
    maintype, subtype = kind.split("/", 1)
    params = dict(param.split("=", 1) for param in raw_params if param)
    return maintype, subtype, params


def build_message(mail: OutgoingMail, *, sender: str, now: datetime, domain: str) -> EmailMessage:
    """The MIME message: text (and HTML alternative), attachments, and honest headers.

    ``Auto-Submitted: auto-generated`` (RFC 3834) keeps auto-responders from answering.
    """
    mail = checked(mail)
    if now.tzinfo is None:
        raise ValueError("naive datetime refused for the Date header")
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, subtype, params = _content_type(attachment.content_type)
        if maintype == "text":
            params.setdefault("charset", "utf-8")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    # Last: building the multipart moves Content-* headers into the first part.
    message["Content-Language"] = "fr"
    return message


def encode(message: EmailMessage) -> bytes:
    """RFC 5322 bytes with CRLF line ends, as stored in the outbox and written to ``.eml``."""
    return message.as_bytes(policy=policy.SMTP)


def decode(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.SMTP).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message
