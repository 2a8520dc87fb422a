"""Wilcoxon signed-rank machinery: signed ranks, the test itself, and the null distribution.

Zeros are always dropped before ranking (Wilcoxon's own rule, SciPy's zero_method="wilcox"),
and tied absolute changes get average ranks, as in SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.caveats import N_

ZERO_METHOD = "wilcox"
ALTERNATIVE = "two-sided"
# Largest number of non-zero changes for which the exact null distribution is worked out.
# The convolution over doubled (mid-)ranks costs about k**3 / 2 additions: about 40 ms at
# k = 400 on a laptop; beyond it the normal approximation (tie and continuity corrections)
# is accurate to well under 1% of p and instant.
MAX_EXACT_NONZERO = 400
# Kept for callers of the old name (sign patterns are no longer listed one by one).
MAX_EXACT_PERMUTATION = MAX_EXACT_NONZERO
EXACT_NULL = N_(
    "exact null distribution of W+ over all 2**k equally likely sign patterns, tied changes "
    "sharing their average (mid-)rank, worked out by convolution over the doubled ranks; "
    "the same p as scipy.stats.wilcoxon(method=PermutationMethod(n_resamples=2**k))"
)
ASYMPTOTIC_NULL = N_(
    "normal approximation to the null distribution of W+, tie-corrected variance and "
    "continuity correction (scipy.stats.wilcoxon method='asymptotic', correction=True)"
)


@dataclass(frozen=True)
class SignedRanks:
    """Ranks of the non-zero absolute changes, summed by sign."""

    n_nonzero: int
    w_plus: float  # sum of ranks of positive changes
    w_minus: float  # sum of ranks of negative changes
    has_ties: bool  # some non-zero absolute changes are equal


def nonzero(changes: Sequence[float]) -> np.ndarray:
    values = np.asarray(changes, dtype=float)
    return values[values != 0]


def signed_ranks(changes: Sequence[float]) -> SignedRanks:
    d = nonzero(changes)
    if d.size == 0:
        return SignedRanks(0, 0.0, 0.0, False)
    ranks = stats.rankdata(np.abs(d))  # average ranks for ties
    has_ties = np.unique(np.abs(d)).size < d.size
    return SignedRanks(
        n_nonzero=int(d.size),
        w_plus=float(ranks[d > 0].sum()),
        w_minus=float(ranks[d < 0].sum()),
        has_ties=bool(has_ties),
    )


def rank_biserial(ranks: SignedRanks) -> float | None:
    """Matched-pairs rank-biserial correlation by Kerby's simple difference formula.

    (W+ - W-) / (W+ + W-), zeros dropped: the share of the rank total favouring improvement
    minus the share favouring deterioration. +1 means every non-zero change was an increase.
    """
    total = ranks.w_plus + ranks.w_minus
    if total == 0:
        return None
    return (ranks.w_plus - ranks.w_minus) / total


def signed_rank_null_pmf(n: int) -> np.ndarray:
    """P(W+ = t) for t = 0 .. n(n+1)/2 when ranks 1..n each carry a + or - sign with chance 1/2.

    Built by multiplying the generating functions (1 + x**i)/2; exact for untied ranks.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    pmf = np.ones(1)
    for i in range(1, n + 1):
        grown = np.zeros(pmf.size + i)
        grown[: pmf.size] += pmf
        grown[i:] += pmf
        pmf = grown / 2
    return pmf


def signed_rank_lower_tail(doubled_ranks: Sequence[tuple[int, int]], w2: int) -> float:
    """P(2 W+ <= w2) when every rank carries a + or a - with chance 1/2, independently.

    `doubled_ranks` lists (twice the rank, how many ranks have it): twice a mid-rank is a
    whole number, so sums stay exact integers. Only sums up to w2 are kept (every rank adds
    a non-negative amount), and each rank's generating function (1 + x**r2)/2 is
    multiplied in: O(k * w2).
    """
    if w2 < 0:
        return 0.0
    pmf = np.zeros(w2 + 1)
    pmf[0] = 1.0
    for r2, times in doubled_ranks:
        for _ in range(times):
            if r2 <= w2:
                pmf[r2:] += pmf[: w2 + 1 - r2]  # NumPy buffers the overlapping operands
            pmf *= 0.5
    return float(pmf.sum())


@dataclass(frozen=True)
class WilcoxonTest:
    """A two-sided Wilcoxon signed-rank test and how to reproduce it.

    `p` is exact (`method` "exact": the exact null distribution, mid-ranks for tied changes)
    for up to MAX_EXACT_NONZERO non-zero changes, and SciPy's asymptotic p beyond that.
    Without ties the exact p equals scipy.stats.wilcoxon(method="exact"); with ties SciPy's
    "exact" assumes untied ranks, and scipy_kwargs() gives the permutation method over all
    2**k sign patterns instead, which computes the same exact p (slowly).
    """

    n_nonzero: int
    statistic: float | None  # SciPy's two-sided statistic: min(W+, W-)
    p: float | None
    method: str | None  # "exact" or "asymptotic"
    correction: bool
    n_resamples: int | None  # always None: nothing is sampled
    ties: bool
    zero_method: str = ZERO_METHOD
    alternative: str = ALTERNATIVE
    null_distribution: str | None = None

    @property
    def exact(self) -> bool:
        return self.method == "exact"

    def scipy_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for scipy.stats.wilcoxon that give the same p-value."""
        if self.method is None:
            return {}
        method: Any = self.method
        if self.exact and self.ties:
            method = stats.PermutationMethod(n_resamples=2**self.n_nonzero)
        return {
            "zero_method": self.zero_method,
            "correction": self.correction,
            "alternative": self.alternative,
            "method": method,
        }


def tie_groups(changes: Sequence[float]) -> list[tuple[int, int]]:
    """(positive, negative) counts per distinct non-zero |change|, smallest first."""
    d = nonzero(changes)
    sizes, inverse = np.unique(np.abs(d), return_inverse=True)
    plus = np.bincount(inverse[d > 0], minlength=sizes.size)
    minus = np.bincount(inverse[d < 0], minlength=sizes.size)
    return list(zip(plus.tolist(), minus.tolist(), strict=True))


def wilcoxon_test(
    changes: Sequence[float], *, max_exact_nonzero: int = MAX_EXACT_NONZERO
) -> WilcoxonTest:
    """Two-sided signed-rank test of the changes; zeros dropped (zero_method="wilcox")."""
    return wilcoxon_from_tie_groups(tie_groups(changes), max_exact_nonzero=max_exact_nonzero)


def wilcoxon_from_tie_groups(
    groups: Sequence[tuple[int, int]], *, max_exact_nonzero: int = MAX_EXACT_NONZERO
) -> WilcoxonTest:
    """The test from (positive, negative) counts per distinct |change|, smallest |change| first.

    - Up to max_exact_nonzero non-zero changes: the exact p from the null distribution of W+
      (signed_rank_lower_tail), ties included. The null is symmetric about k(k+1)/4, so the
      two-sided p is min(1, 2 P(W+ <= min(W+, W-))), as SciPy defines it.
    - Beyond: method="asymptotic" with the tie-corrected variance and correction=True:
      z = (W+ - k(k+1)/4 - sign * 1/2) / se, se = sqrt((k(k+1)(2k+1) - sum(t**3 - t)/2) / 24).
    """
    below = twice_plus = twice_minus = 0
    doubled: list[tuple[int, int]] = []
    tied_sizes: list[int] = []
    for plus, minus in groups:
        tied = plus + minus
        if not tied:
            continue
        twice_average = 2 * below + tied + 1  # ranks below+1 .. below+tied
        doubled.append((twice_average, tied))
        tied_sizes.append(tied)
        twice_plus += twice_average * plus
        twice_minus += twice_average * minus
        below += tied
    k = below
    has_ties = any(t > 1 for t in tied_sizes)
    if k == 0:
        return WilcoxonTest(0, None, None, None, False, None, False)
    statistic = min(twice_plus, twice_minus) / 2
    if k <= max_exact_nonzero:
        p = min(1.0, 2 * signed_rank_lower_tail(doubled, min(twice_plus, twice_minus)))
        return WilcoxonTest(k, statistic, p, "exact", False, None, has_ties,
                            null_distribution=EXACT_NULL)
    count = float(k)
    mean = count * (count + 1.0) * 0.25
    tie_term = float(sum(float(t) ** 3 - t for t in tied_sizes))
    se = math.sqrt((count * (count + 1.0) * (2.0 * count + 1.0) - tie_term / 2) / 24)
    diff = twice_plus / 2 - mean
    diff -= math.copysign(0.5, diff) if diff else 0.0
    p = min(1.0, float(2 * stats.norm.sf(abs(diff) / se)))
    return WilcoxonTest(k, statistic, p, "asymptotic", True, None, has_ties,
                        null_distribution=ASYMPTOTIC_NULL)
