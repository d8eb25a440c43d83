"""French formatting through Babel: exact code points (UX-02)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from cep_core.documents import formatting as fmt

NNBSP = "\u202f"
NBSP = "\u00a0"


def test_dates_are_long_french_dates() -> None:
    assert fmt.format_date(date(2026, 3, 4)) == "4 mars 2026"
    assert fmt.format_date(date(2026, 2, 1)) == "1 février 2026"
    assert fmt.format_date(date(2026, 8, 15)) == "15 août 2026"
    assert fmt.format_short_date(date(2026, 3, 4)) == "04/03/2026"


def test_datetimes_are_shown_in_paris_time() -> None:
    # 23:30 UTC on 4 March is 00:30 on 5 March in Paris (winter, UTC+1).
    late = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    assert fmt.format_date(late) == "5 mars 2026"
    assert fmt.format_datetime(late) == "5 mars 2026 à 00:30"
    # Summer time (UTC+2).
    assert fmt.format_datetime(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "1 juillet 2026 à 14:00"
    assert fmt.format_time(time(9, 5)) == "09:05"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        fmt.format_datetime(datetime(2026, 3, 4, 12, 0))


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (123_450, f"1{NNBSP}234,50{NBSP}€"),
        (0, f"0,00{NBSP}€"),
        (5, f"0,05{NBSP}€"),
        (10_223, f"102,23{NBSP}€"),
        (123_456_789, f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (-150_000, f"-1{NNBSP}500,00{NBSP}€"),
    ],
)
def test_amounts_have_the_right_no_break_spaces(cents: int, expected: str) -> None:
    assert fmt.format_money(cents) == expected


@pytest.mark.parametrize("value", [12.5, Decimal("12.5"), True, "1234"])
def test_amounts_are_integer_cents_only(value: object) -> None:
    with pytest.raises(TypeError):
        fmt.format_money(value)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_amount_reads_back_to_its_cents(cents: int) -> None:
    text = fmt.format_money(cents)
    assert text.endswith(f"{NBSP}€")
    assert " " not in text  # never a breakable space
    number = text.removesuffix(f"{NBSP}€").replace(NNBSP, "").replace(",", ".")
    assert re.fullmatch(r"-?\d+\.\d\d", number)
    assert int(Decimal(number) * 100) == cents


def test_numbers_percentages_and_durations() -> None:
    assert fmt.format_number(1_234_567) == f"1{NNBSP}234{NNBSP}567"
    assert fmt.format_percent(Decimal("0.25")) == f"25{NBSP}%"
    assert fmt.format_minutes(45) == f"45{NBSP}min"
    assert fmt.format_minutes(60) == f"1{NBSP}h"
    assert fmt.format_minutes(90) == f"1{NBSP}h{NBSP}30"
    assert fmt.format_minutes(125) == f"2{NBSP}h{NBSP}05"
    with pytest.raises(ValueError, match="minutes"):
        fmt.format_minutes(-1)


def test_template_filters_wrap_amounts_in_a_nowrap_span() -> None:
    html = fmt.money_filter(123_450)
    assert isinstance(html, Markup)
    assert html == Markup(f'<span class="nowrap">1{NNBSP}234,50{NBSP}€</span>')
    assert fmt.date_filter(date(2026, 3, 4)) == Markup('<span class="nowrap">4 mars 2026</span>')


def test_nowrap_escapes_what_it_wraps() -> None:
    assert fmt.nowrap("<b>&") == Markup('<span class="nowrap">&lt;b&gt;&amp;</span>')
