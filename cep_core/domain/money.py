"""Money: integer cents inside, euros only at the edges, one rounding rule.

Every amount the kit computes is an `int` of euro cents, so sums are exact and
``funded + reste à charge == total`` holds to the cent. Euros appear only where people and
clients read or write them: JSON numbers in the API and the CLI, and ``"103.20"`` strings in
the parameter files.

**The rounding rule, stated once:** a value with more than two decimals is rounded to the
cent *half up* (``ROUND_HALF_UP``: 0.005 becomes 0.01, 0.004 becomes 0.00). It applies

- at the boundary, when a JSON number such as ``1000.005`` becomes cents (100001);
- to every proportion the rules compute (`share`: a pro-rata CPF credit, 90 % of a salary,
  the first 24 hours of a bilan), on the exact fraction, never on a float.

Amounts are never negative here, so half up and "half away from zero" agree. A JSON number
reaches us as a float (that is what JSON numbers are); it is read through its shortest
decimal text (``repr``), which is the text the client wrote for any value with up to 15
significant digits, then converted with `Decimal`: no binary error reaches the cents.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

Cents = int

ROUNDING = ROUND_HALF_UP
CENT = Decimal("0.01")
# Upper bound of any amount accepted from outside (a cost, a balance, a salary): far above
# any real training budget, low enough that a typo or an attack is refused with a clear 400.
MAX_INPUT_EUROS = 1_000_000
MAX_INPUT_CENTS: Cents = MAX_INPUT_EUROS * 100

_EUROS_TEXT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


class MoneyError(ValueError):
    """An amount that is not a finite, non-negative number of euros within the bounds."""


def euros_to_cents(value: float | int | Decimal | str) -> Cents:
    """Euros (a JSON number, a `Decimal` or a decimal text) to cents, rounded half up.

    Refuses NaN, infinities, negative amounts and amounts above `MAX_INPUT_EUROS`.
    """
    if isinstance(value, bool):
        raise MoneyError("un montant doit être un nombre, pas un booléen")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MoneyError("un montant doit être un nombre fini")
        amount = Decimal(repr(value))
    else:
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise MoneyError(f"montant illisible : « {value} »") from exc
    if not amount.is_finite():
        raise MoneyError("un montant doit être un nombre fini")
    if amount < 0:
        raise MoneyError("un montant ne peut pas être négatif")
    if amount > MAX_INPUT_EUROS:
        raise MoneyError(f"un montant ne peut pas dépasser {MAX_INPUT_EUROS} €")
    return int((amount.quantize(CENT, rounding=ROUNDING) * 100).to_integral_value())


def cents_to_euros(cents: Cents) -> float:
    """Cents to a JSON-ready number of euros with at most two decimals.

    The float is the one nearest to the exact two-decimal value, so JSON encoders print it
    with at most two decimals (10223 -> ``102.23``, 90000 -> ``900.0``).
    """
    return cents / 100


def parse_euros(text: str) -> Cents:
    """A parameter-file amount such as ``"103.20"``: exact, at most two decimals, no rounding.

    Data files are written by people and reviewed: an amount with three decimals there is a
    typo, so it is refused rather than rounded.
    """
    if not isinstance(text, str) or not _EUROS_TEXT.match(text):
        raise MoneyError(
            f'montant de paramètre invalide : « {text} » (attendu : texte comme "103.20")'
        )
    return int(Decimal(text) * 100)


def share(cents: Cents, numerator: int, denominator: int) -> Cents:
    """``cents × numerator / denominator``, rounded half up to the cent (exact arithmetic)."""
    if denominator <= 0 or numerator < 0 or cents < 0:
        raise MoneyError("proportion invalide")
    exact = Fraction(cents) * numerator / denominator
    whole, rest = divmod(exact.numerator, exact.denominator)
    return whole + (1 if 2 * rest >= exact.denominator else 0)


def format_euros(cents: Cents) -> str:
    """French display: ``1 234,56 €`` (narrow no-break space for thousands); whole euros
    lose their decimals (``500 €``)."""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    sign = "-" if cents < 0 else ""
    if rest:
        return f"{sign}{grouped},{rest:02d}\u00a0€"
    return f"{sign}{grouped}\u00a0€"
