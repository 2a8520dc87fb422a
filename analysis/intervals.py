"""Confidence intervals: proportions, a mean, and the Hodges-Lehmann median change."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.caveats import N_
from analysis.signed_rank import signed_rank_null_pmf

PROPORTION_METHODS = ("wilson", "wilsoncc", "exact")  # SciPy names; "exact" is Clopper-Pearson
HODGES_LEHMANN_METHOD = N_(
    "Hodges-Lehmann estimate (median of Walsh averages) with the distribution-free interval "
    "from the exact signed-rank distribution (Hollander & Wolfe)"
)
HODGES_LEHMANN_NORMAL_METHOD = N_(
    "Hodges-Lehmann estimate (median of Walsh averages) with the distribution-free interval, "
    "critical value from the normal approximation to the signed-rank distribution"
)
# The exact signed-rank distribution costs O(n**3); past this n the normal approximation is
# accurate to the nearest Walsh average and instant.
HL_EXACT_MAX_N = 1000
# Whole-number changes spanning at most this many values take the histogram route.
HL_COUNTS_MAX_SPAN = 100_000
T_INTERVAL_METHOD = N_("t interval: mean +/- t(n-1) * sd / sqrt(n)")


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
    None when there are no changes. Whole-number changes (differences of scores) take the
    exact histogram route of hodges_lehmann_from_counts, so a million pairs cost milliseconds.
    """
    d = np.asarray(changes, dtype=float)
    if d.size and np.all(np.isfinite(d)) and np.all(d == np.round(d)):
        whole = d.astype(np.int64)
        if int(whole.max()) - int(whole.min()) <= HL_COUNTS_MAX_SPAN:
            values, counts = np.unique(whole, return_counts=True)
            return hodges_lehmann_from_counts(
                dict(zip(values.tolist(), counts.tolist(), strict=True)), confidence=confidence
            )
    return hodges_lehmann_pairwise(d, confidence=confidence)


def hodges_lehmann_pairwise(
    changes: Sequence[float], *, confidence: float = 0.95
) -> HodgesLehmann | None:
    """hodges_lehmann by listing and sorting all n(n+1)/2 Walsh averages: O(n**2 log n).

    The reference implementation, for changes that are not whole numbers.
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


def hodges_lehmann_from_counts(
    counts: Mapping[int, int], *, confidence: float = 0.95
) -> HodgesLehmann | None:
    """hodges_lehmann for whole-number changes given as {change: how many pairs}.

    Exactly the same result as listing the Walsh averages, in O(k**2) for k distinct
    changes instead of O(n**2): every Walsh average is (a + b)/2 for two changes a, b, so
    how many Walsh averages equal s/2 is a convolution of the counts with themselves.
    Over ordered pairs of clients the convolution counts each i != j twice and each i = j
    once, so the pairs i <= j number (conv[s] + diag[s]) / 2, diag[s] = count of s/2.
    The j-th smallest Walsh average is then read off the cumulative counts.
    """
    items = sorted((int(v), int(c)) for v, c in counts.items() if c)
    if any(c < 0 for _, c in items):
        raise ValueError("counts must not be negative")
    n = sum(c for _, c in items)
    if n == 0:
        return None
    low = items[0][0]
    hist = np.zeros(items[-1][0] - low + 1, dtype=np.int64)
    for value, count in items:
        hist[value - low] = count
    # Exact in int64 while n(n+1)/2 < 2**63, i.e. for up to about 4e9 pairs.
    pairs = np.convolve(hist, hist)
    pairs[::2] += hist
    pairs //= 2
    cumulative = np.cumsum(pairs)  # walsh sums s = 2 * low + index

    def walsh(position: int) -> float:
        """The Walsh average at 0-based `position` in sorted order."""
        index = int(np.searchsorted(cumulative, position, side="right"))
        return (2 * low + index) / 2

    total = int(cumulative[-1])  # n(n+1)/2
    middle = total // 2
    estimate = walsh(middle) if total % 2 else (walsh(middle - 1) + walsh(middle)) / 2
    c, achieved = signed_rank_critical(n, confidence, exact=n <= HL_EXACT_MAX_N)
    if c == 0:
        return HodgesLehmann(float(estimate), None, None)
    method = HODGES_LEHMANN_METHOD if n <= HL_EXACT_MAX_N else HODGES_LEHMANN_NORMAL_METHOD
    interval = Interval(walsh(c - 1), walsh(total - c), confidence, method)
    return HodgesLehmann(float(estimate), interval, achieved)


def mean_t_interval_from_counts(
    counts: Mapping[int, int], *, confidence: float = 0.95
) -> Interval | None:
    """mean_t_interval for whole numbers given as {value: how many}, from exact sums."""
    n = sum(counts.values())
    if n < 2:
        return None
    total = sum(v * c for v, c in counts.items())
    squares = sum(v * v * c for v, c in counts.items())
    # Sample variance as an exact fraction of integers, rounded once.
    variance = (n * squares - total * total) / (n * (n - 1))
    sd = math.sqrt(variance)
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n))
    mean = total / n
    return Interval(mean - half, mean + half, confidence, T_INTERVAL_METHOD)


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
