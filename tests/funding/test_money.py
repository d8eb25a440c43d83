"""Money: cents inside, euros at the edges, one rounding rule (half up), exact proportions."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cep_core.domain.money import (
    MAX_INPUT_CENTS,
    MoneyError,
    cents_to_euros,
    euros_to_cents,
    format_euros,
    parse_euros,
    share,
)


@pytest.mark.parametrize(
    ("euros", "cents"),
    [
        (0, 0),
        (1000, 100_000),
        (102.23, 10_223),
        (0.005, 1),  # half up
        (0.004, 0),
        (1000.005, 100_001),  # half up, read through the decimal text "1000.005"
        (2.675, 268),  # binary 2.67499999... would round down; the text rounds up
        (0.015, 2),
        (-0.0, 0),
        (Decimal("103.20"), 10_320),
        ("99.995", 10_000),
        (1_000_000, MAX_INPUT_CENTS),
    ],
)
def test_euros_to_cents_rounds_half_up(euros: float | Decimal | str, cents: int) -> None:
    assert euros_to_cents(euros) == cents


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, -math.inf, -0.01, 1_000_000.01, "abc", Decimal("NaN"), True]
)
def test_euros_to_cents_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        euros_to_cents(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=MAX_INPUT_CENTS))
def test_round_trip_through_json_numbers_is_exact(cents: int) -> None:
    assert euros_to_cents(cents_to_euros(cents)) == cents
    text = repr(cents_to_euros(cents))
    assert len(text.split(".")[1]) <= 2


@pytest.mark.parametrize(("text", "cents"), [("0.00", 0), ("103.20", 10_320), ("15", 1_500)])
def test_parse_euros_is_exact(text: str, cents: int) -> None:
    assert parse_euros(text) == cents


@pytest.mark.parametrize("bad", ["1.234", "-1.00", "1,00", "", "1e3", 100])
def test_parse_euros_refuses_what_a_data_file_should_not_hold(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_euros(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "num", "den", "expected"),
    [
        (50_000, 25, 50, 25_000),
        (100_000, 24, 30, 80_000),
        (1, 1, 2, 1),  # 0.5 cent rounds up
        (1, 1, 3, 0),
        (333_333, 90, 100, 300_000),  # 299 999.7 -> 300 000
        (10_001, 1, 2, 5_001),  # 5 000.5 -> 5 001
    ],
)
def test_share_rounds_half_up_on_the_exact_fraction(
    cents: int, num: int, den: int, expected: int
) -> None:
    assert share(cents, num, den) == expected


def test_format_euros_in_french() -> None:
    assert format_euros(10_223) == "102,23\u00a0€"
    assert format_euros(100_000) == "1\u202f000\u00a0€"
    assert format_euros(0) == "0\u00a0€"
