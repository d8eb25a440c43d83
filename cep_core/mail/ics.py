"""iCalendar (RFC 5545) invitations for appointments, written by hand: the format is small.

What calendar applications trip over, and this module takes care of:

- TEXT values escape ``\\``, ``;``, ``,`` and line breaks (section 3.3.11); other control
  characters are not allowed and are dropped;
- content lines longer than 75 octets are folded (CRLF then one space), never inside a UTF-8
  sequence (section 3.1);
- every line ends with CRLF; times are UTC (``...Z``), so no VTIMEZONE is needed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

PRODID = "-//cep-kit//Conseil en evolution professionnelle//FR"
CONTENT_TYPE = "text/calendar; method=PUBLISH"
FILENAME = "rendez-vous.ics"
LINE_OCTETS = 75
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CalendarEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One appointment; ``uid`` must be globally unique (``something@host``)."""

    uid: str
    stamp: datetime
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str | None = None
    description: str | None = None


def escape_text(value: str) -> str:
    """A TEXT value: backslash first, then ``;`` ``,`` and line breaks; controls dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def utc_stamp(value: datetime) -> str:
    """``20260304T133000Z``; a naive datetime is refused (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime refused in a calendar")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """`line` cut into chunks of at most 75 octets, continuation chunks led by a space."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
            limit = LINE_OCTETS - 1  # the leading space counts
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def calendar(event: CalendarEvent, *, prodid: str = PRODID) -> bytes:
    """A VCALENDAR (``METHOD:PUBLISH``) holding `event`, as UTF-8 bytes with CRLF lines."""
    start, end = utc_stamp(event.starts_at), utc_stamp(event.ends_at)  # naive refused
    if event.ends_at <= event.starts_at:
        raise ValueError("an appointment ends after it starts")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(prodid)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines += ["TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
