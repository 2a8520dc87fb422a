"""Rounding for people: exact half-up percentages and half-up display rounding.

Machine outputs (JSON, CSV) carry full precision; only what people read is rounded, once,
halves away from zero ("half-up" as official statistics use it), from the exact value.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Exact = int | float | Fraction | Decimal


def percent_half_up(count: int, base: int) -> int | None:
    """Whole per cent of `count` out of `base`, halves rounded up, as official statistics do.

    Exact, in whole numbers: floor(100 count / base + 1/2) = (200 count + base) // (2 base),
    Python's // being the exact floor (binary floats would turn 12.5 into 12.4999... and
    round it down; Fractions gave the same answers a dozen times slower, and reports take
    thousands). None when the base is 0 (a percentage of nothing is not zero).
    """
    if base == 0:
        return None
    return (200 * count + base) // (2 * base)


def _decimal(value: Exact) -> Decimal | None:
    """The value as a decimal. A float is read as its shortest repr (0.145 as 0.145, not as
    the binary 0.14499999...): a ratio of whole numbers computed in one division, or a
    decimal figure read from a file, is then its exact value."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Fraction):
        return None  # handled by half_up
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    return Decimal(value)


def half_up(value: Exact | None, decimals: int) -> Decimal | None:
    """`value` rounded once to `decimals` places, halves away from zero; None for None/nan.

    A Fraction (e.g. Fraction(count, base)) is rounded exactly; -0 comes back as 0.
    """
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-decimals)
    if isinstance(value, Fraction):
        scaled = abs(value) * 10**decimals
        whole = math.floor(scaled + Fraction(1, 2))
        result = Decimal(whole if value >= 0 else -whole).scaleb(-decimals).quantize(quantum)
    else:
        exact = _decimal(value)
        if exact is None:
            return None
        result = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    return result if result != 0 else abs(result)


def significant(value: Exact | None, digits: int = 4) -> float | None:
    """Round half-up to `digits` significant figures, so a tiny p-value is not shown as 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if value == 0:
        return 0.0
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    decimals = digits - 1 - exact.adjusted()
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return float(rounded)


def places(value: Exact | None, decimals: int = 2) -> float | None:
    """Round half-up to fixed decimal places for display; None and non-finite give None."""
    rounded = half_up(value, decimals)
    # Never -0.0 for a change that rounds to nothing.
    return None if rounded is None else float(rounded) + 0.0


P_DECIMALS = 3


def p_text(value: Exact | None, decimals: int = P_DECIMALS) -> str | None:
    """A p-value as people read it (pages, spreadsheets): rounded once, half-up, to
    `decimals` places, except that one below the smallest such figure (0.001) reads
    "<0.001": "0.000" would claim the impossible. None for None or non-finite values. The
    same text in English and Welsh (both write a decimal point); machine outputs keep the
    full-precision value."""
    smallest = Decimal(1).scaleb(-decimals)
    rounded = half_up(value, decimals)
    if rounded is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(
        value, Fraction) else _decimal(value)
    if exact is not None and exact < smallest:
        return f"<{smallest}"
    return f"{rounded:.{decimals}f}"
