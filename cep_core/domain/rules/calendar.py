"""Dates the funding rules count in: calendar months and French working days (jours ouvrés).

Working days are Monday to Friday minus the public holidays of C. trav. L3133-1, read from the
parameters (fixed dates, and days counted from Easter Sunday); the days specific to
Alsace-Moselle and the overseas regions are not counted, which can only make a computed
deadline one day early, never late.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from cep_core.domain.rules.params import FundingParameters

SATURDAY = 5


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int, params: FundingParameters) -> frozenset[date]:
    when = date(year, 1, 1)
    fixed = params.strings("calendar.public_holidays.fixed", when)
    offsets = params.value("calendar.public_holidays.easter_offsets", when)
    easter = easter_sunday(year)
    days = {date(year, int(md[:2]), int(md[3:])) for md in fixed}
    days |= {easter + timedelta(days=int(offset)) for offset in offsets}
    return frozenset(days)


def is_working_day(day: date, params: FundingParameters) -> bool:
    return day.weekday() < SATURDAY and day not in public_holidays(day.year, params)


def working_days_before(day: date, count: int, params: FundingParameters) -> date:
    """The `count`-th working day before `day` (`day` itself not counted): the last date on
    which a request made "at least `count` working days before `day`" is still on time."""
    current = day
    remaining = count
    while remaining > 0:
        current -= timedelta(days=1)
        if is_working_day(current, params):
            remaining -= 1
    return current


def working_days_after(day: date, count: int, params: FundingParameters) -> date:
    """The `count`-th working day after `day` (an answer due "within `count` working days")."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current, params):
            remaining -= 1
    return current


def add_months(day: date, months: int) -> date:
    """Same day `months` later (or earlier), clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_spanned(start: date, end: date) -> int:
    """Calendar months from `start` to `end` inclusive, a started month counting as one
    (1 March–31 March: 1; 1 March–1 April: 2); at least 1."""
    if end < start:
        return 1
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) <= end:
        months += 1
    return max(months, 1)
