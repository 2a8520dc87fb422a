"""Confidence intervals: proportions, a mean, and the Hodges-Lehmann median change."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.signed_rank import signed_rank_null_pmf

PROPORTION_METHODS = ("wilson", "wilsoncc", "exact")  # SciPy names; "exact" is Clopper-Pearson
HODGES_LEHMANN_METHOD = (
    "Hodges-Lehmann estimate (median of Walsh averages) with the distribution-free interval "
    "from the exact signed-rank distribution (Hollander & Wolfe)"
)
HODGES_LEHMANN_NORMAL_METHOD = (
    "Hodges-Lehmann estimate (median of Walsh averages) with the distribution-free interval, "
    "critical value from the normal approximation to the signed-rank distribution"
)
# The exact signed-rank distribution costs O(n**3); past this n the normal approximation is
# accurate to the nearest Walsh average and instant.
HL_EXACT_MAX_N = 1000
T_INTERVAL_METHOD = "t interval: mean +/- t(n-1) * sd / sqrt(n)"


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    confidence: float  # the level asked for
    method: str


@dataclass(frozen=True)
class HodgesLehmann:
    estimate: float
    interval: Interval | None  # None when n is too small to reach the confidence asked for
    achieved_confidence: float | None  # exact coverage when changes are untied


def proportion_ci(
    k: int, n: int, method: str = "wilson", *, confidence: float = 0.95
) -> Interval | None:
    """Interval for the share k/n by scipy.stats.binomtest(k, n).proportion_ci.

    method is SciPy's name: "wilson", "wilsoncc" or "exact" (Clopper-Pearson). None when n=0.
    """
    if method not in PROPORTION_METHODS:
        raise ValueError(f"method must be one of {PROPORTION_METHODS}")
    if not 0 <= k <= n:
        raise ValueError("need 0 <= k <= n")
    if n == 0:
        return None
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method=method)
    return Interval(float(ci.low), float(ci.high), confidence, method)


def mean_t_interval(values: Sequence[float], *, confidence: float = 0.95) -> Interval | None:
    """Student t interval for a mean; None for fewer than two values.

    Written out rather than via scipy.stats.t.interval so that a zero standard deviation
    (every change equal) gives the zero-width interval the formula implies instead of NaN.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return None
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    mean = float(x.mean())
    return Interval(mean - half, mean + half, confidence, T_INTERVAL_METHOD)


def hodges_lehmann(changes: Sequence[float], *, confidence: float = 0.95) -> HodgesLehmann | None:
    """Median of the Walsh averages (d_i + d_j)/2, i <= j, with its distribution-free interval.

    Interval: with M = n(n+1)/2 sorted Walsh averages A(1..M) and c the largest integer with
    P(W+ <= c - 1) <= (1 - confidence)/2 under the untied signed-rank distribution for n, the
    interval is [A(c), A(M + 1 - c)] and its coverage is 1 - 2 P(W+ <= c - 1). All n changes are
    used, zeros included. Ties (common with 0-10 scores) make the coverage approximate.
    Above HL_EXACT_MAX_N changes, c comes from the normal approximation to that distribution.
    None when there are no changes.
    """
    d = np.asarray(changes, dtype=float)
    n = d.size
    if n == 0:
        return None
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = float(np.median(walsh))
    c, achieved = signed_rank_critical(n, confidence, exact=n <= HL_EXACT_MAX_N)
    if c == 0:
        return HodgesLehmann(estimate, None, None)
    method = HODGES_LEHMANN_METHOD if n <= HL_EXACT_MAX_N else HODGES_LEHMANN_NORMAL_METHOD
    interval = Interval(float(walsh[c - 1]), float(walsh[walsh.size - c]), confidence, method)
    return HodgesLehmann(estimate, interval, achieved)


def signed_rank_critical(n: int, confidence: float, *, exact: bool = True) -> tuple[int, float]:
    """Largest c with P(W+ <= c - 1) <= (1 - confidence)/2, and the coverage 1 - 2 P(W+ <= c - 1).

    c = 0 means no interval reaches the confidence asked for.
    """
    alpha_half = (1 - confidence) / 2
    if exact:
        cdf = np.cumsum(signed_rank_null_pmf(n))
        # Tolerance so that a tail probability equal to alpha/2 in exact arithmetic still counts.
        c = int(np.count_nonzero(cdf <= alpha_half + 1e-12))
        return c, float(1 - 2 * cdf[c - 1]) if c else math.nan
    # Normal approximation with continuity correction: P(W+ <= t) ~ Phi((t + 0.5 - mean) / sd).
    mean = n * (n + 1) / 4
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    c = max(0, math.floor(mean + stats.norm.ppf(alpha_half) * sd + 0.5))
    return c, float(1 - 2 * stats.norm.cdf((c - 0.5 - mean) / sd)) if c else math.nan
