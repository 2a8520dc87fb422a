"""Rounding for publication: exact half-up percentages and display rounding."""

from __future__ import annotations

import math
from fractions import Fraction


def percent_half_up(count: int, base: int) -> int | None:
    """Whole per cent of `count` out of `base`, halves rounded up, as official statistics do.

    Works in exact fractions: binary floats would turn 12.5 into 12.4999... and round it down.
    None when the base is 0 (a percentage of nothing is not zero).
    """
    if base == 0:
        return None
    return math.floor(Fraction(100 * count, base) + Fraction(1, 2))


def significant(value: float | None, digits: int = 4) -> float | None:
    """Round to `digits` significant figures, so a tiny p-value is not shown as 0."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def places(value: float | None, decimals: int = 2) -> float | None:
    """Round to fixed decimal places for display; None and non-finite values give None."""
    if value is None or not math.isfinite(value):
        return None
    rounded = round(float(value), decimals)
    # Avoid printing -0.0 for a change that rounds to nothing.
    return 0.0 if rounded == 0 else rounded
