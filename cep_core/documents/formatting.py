"""French formatting for documents, through Babel (UX-02).

- dates: ``4 mars 2026`` (Babel's long format for ``fr_FR``);
- times and date-times: shown in Europe/Paris whatever the stored zone (storage is UTC),
  ``4 mars 2026 à 14:30``;
- amounts: integer cents in, ``1 234,50 €`` out, with U+202F (narrow no-break space) between
  digit groups and U+00A0 (no-break space) before the euro sign — never a float on the way;
- percentages: ``25 %`` with U+00A0;
- durations in minutes: ``1 h 30``, ``45 min``.

Templates get these as filters (`FILTERS`); ``money`` also wraps the amount in a
``nowrap`` span so a line break never separates the digits from the sign.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.numbers import format_currency as _babel_currency
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import format_percent as _babel_percent
from markupsafe import Markup, escape

from cep_core.clock import PARIS

LOCALE = "fr_FR"
NBSP = "\u00a0"
NNBSP = "\u202f"


def format_date(value: date | datetime) -> str:
    """``4 mars 2026``; a datetime is first moved to Paris time (23:30 UTC may be tomorrow)."""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return str(_babel_date(value, format="long", locale=LOCALE))


def format_short_date(value: date | datetime) -> str:
    """``04/03/2026``."""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return str(_babel_date(value, format="short", locale=LOCALE))


def to_paris(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: its time zone is unknown")
    return value.astimezone(PARIS)


def format_time(value: datetime | time) -> str:
    """``14:30`` (Paris time for a datetime)."""
    if isinstance(value, datetime):
        value = to_paris(value).time()
    return str(_babel_time(value, format="HH:mm", locale=LOCALE))


def format_datetime(value: datetime) -> str:
    """``4 mars 2026 à 14:30``, in Paris time."""
    local = to_paris(value)
    return f"{format_date(local.date())} à {format_time(local.time())}"


def format_money(cents: int) -> str:
    """``1 234,50 €`` from 123450 (integer cents; a float or a bool is refused)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, not {type(cents).__name__}")
    return str(_babel_currency(Decimal(cents).scaleb(-2), "EUR", locale=LOCALE))


def format_number(value: int | Decimal) -> str:
    """``1 234 567`` with U+202F between groups."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected an int or a Decimal, not {type(value).__name__}")
    return str(_babel_decimal(value, locale=LOCALE))


def format_percent(value: Decimal | int) -> str:
    """``25 %`` from Decimal("0.25")."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected an int or a Decimal, not {type(value).__name__}")
    return str(_babel_percent(value, locale=LOCALE))


def format_minutes(minutes: int) -> str:
    """``45 min``, ``1 h``, ``1 h 30`` (no-break spaces)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError("a duration is a non-negative number of minutes")
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}{NBSP}min"
    if not rest:
        return f"{hours}{NBSP}h"
    return f"{hours}{NBSP}h{NBSP}{rest:02d}"


def nowrap(text: str) -> Markup:
    """Escaped text in a span that never breaks across lines."""
    return Markup('<span class="nowrap">%s</span>') % escape(text)


def money_filter(cents: int) -> Markup:
    return nowrap(format_money(cents))


def date_filter(value: date | datetime) -> Markup:
    return nowrap(format_date(value))


def datetime_filter(value: datetime) -> Markup:
    local = to_paris(value)
    return Markup("%s à %s") % (nowrap(format_date(local.date())), nowrap(format_time(local)))


def minutes_filter(minutes: int) -> Markup:
    return nowrap(format_minutes(minutes))


def percent_filter(value: Decimal | int) -> Markup:
    return nowrap(format_percent(value))


FILTERS = {
    "money": money_filter,
    "date_fr": date_filter,
    "short_date": format_short_date,
    "datetime_fr": datetime_filter,
    "time_fr": format_time,
    "minutes": minutes_filter,
    "percent": percent_filter,
    "number": format_number,
}
