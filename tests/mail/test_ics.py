"""The ``.ics`` invitation parses back: unfolding, escaping, required properties, UTC times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cep_core.mail.ics import CalendarEvent, calendar, escape_text, fold

PARIS = ZoneInfo("Europe/Paris")


def unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars)
        out.append("\n" if following in "nN" else following)
    return "".join(out)


def parse(raw: bytes) -> list[tuple[str, dict[str, str], str]]:
    """A minimal RFC 5545 reader: CRLF lines of at most 75 octets, unfolded, then split into
    (NAME, parameters, raw value)."""
    assert raw.endswith(b"\r\n")
    physical = raw[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical)
    assert all(len(line) <= 75 for line in physical), [len(line) for line in physical]
    text = raw.decode("utf-8")  # folding never cut a UTF-8 sequence
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    properties = []
    for line in unfolded.split("\r\n")[:-1]:
        head, value = line.split(":", 1)
        name, *params = head.split(";")
        properties.append((name, dict(p.split("=", 1) for p in params), value))
    return properties


def event(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": "0190aa@cep.exemple.fr",
        "stamp": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "starts_at": datetime(2026, 3, 4, 14, 30, tzinfo=PARIS),
        "ends_at": datetime(2026, 3, 4, 16, 0, tzinfo=PARIS),
        "summary": "Rendez-vous CEP – Apec",
        "location": "12, rue de l'Évolution; 2e étage",
        "description": "Conseil en évolution professionnelle\nModalité : sur place\\bureau",
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def test_the_calendar_has_the_required_structure_and_utc_times() -> None:
    properties = parse(calendar(event()))
    names = [name for name, _, _ in properties]
    assert names[0] == "BEGIN" and properties[0][2] == "VCALENDAR"
    assert names[-1] == "END" and properties[-1][2] == "VCALENDAR"
    values = {name: value for name, _, value in properties}
    assert values["VERSION"] == "2.0"
    assert values["PRODID"]
    assert values["METHOD"] == "PUBLISH"
    assert [v for n, _, v in properties if n in ("BEGIN", "END")] == [
        "VCALENDAR",
        "VEVENT",
        "VEVENT",
        "VCALENDAR",
    ]
    for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        assert required in values
    # 14:30 in Paris in March (UTC+1) is 13:30 UTC.
    assert values["DTSTART"] == "20260304T133000Z"
    assert values["DTEND"] == "20260304T150000Z"
    assert values["DTSTAMP"] == "20260302T093000Z"
    assert unescape(values["UID"]) == "0190aa@cep.exemple.fr"


def test_summer_time_is_converted_too() -> None:
    summer = event(
        starts_at=datetime(2026, 7, 1, 9, 0, tzinfo=PARIS),
        ends_at=datetime(2026, 7, 1, 10, 0, tzinfo=PARIS),
    )
    values = {name: value for name, _, value in parse(calendar(summer))}
    assert values["DTSTART"] == "20260701T070000Z"


def test_text_values_are_escaped_and_read_back() -> None:
    values = {name: value for name, _, value in parse(calendar(event()))}
    assert values["LOCATION"] == "12\\, rue de l'Évolution\\; 2e étage"
    assert unescape(values["LOCATION"]) == "12, rue de l'Évolution; 2e étage"
    assert unescape(values["DESCRIPTION"]) == (
        "Conseil en évolution professionnelle\nModalité : sur place\\bureau"
    )
    assert unescape(values["SUMMARY"]) == "Rendez-vous CEP – Apec"


def test_escape_text_order_and_line_breaks() -> None:
    assert escape_text("a\\b;c,d\r\ne\rf\ng") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert escape_text("bip\x07 tab\tok") == "bip tab\tok"  # controls dropped, tab kept


@pytest.mark.parametrize("text", ["é" * 120, "x" * 74 + "é" * 50, "€" * 60, "a" * 300])
def test_long_lines_fold_at_75_octets_without_cutting_characters(text: str) -> None:
    folded = fold(f"DESCRIPTION:{text}")
    lines = folded.encode("utf-8").split(b"\r\n")
    assert len(lines) > 1
    assert all(len(line) <= 75 for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:])
    assert all(line.decode("utf-8") for line in lines)  # each chunk is valid UTF-8 alone
    assert re.sub(r"\r\n ", "", folded) == f"DESCRIPTION:{text}"


def test_a_long_description_round_trips() -> None:
    description = "Première ligne, avec; des signes\n" + "Évolution " * 40
    properties = parse(calendar(event(description=description)))
    values = {name: value for name, _, value in properties}
    assert unescape(values["DESCRIPTION"]) == description


def test_naive_or_backwards_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        calendar(event(starts_at=datetime(2026, 3, 4, 14, 30)))
    start = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="ends after"):
        calendar(event(starts_at=start, ends_at=start - timedelta(minutes=1)))
