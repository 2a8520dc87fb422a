"""Wilcoxon signed-rank machinery: signed ranks, the test itself, and the null distribution.

Zeros are always dropped before ranking (Wilcoxon's own rule, SciPy's zero_method="wilcox"),
and tied absolute changes get average ranks, as in SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

ZERO_METHOD = "wilcox"
ALTERNATIVE = "two-sided"
# Largest number of non-zero changes for which every sign pattern (2**k of them) is enumerated.
# 2**15 patterns take about a quarter of a second; beyond that the normal approximation with
# tie and continuity corrections is accurate enough and instant.
MAX_EXACT_PERMUTATION = 15


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


@dataclass(frozen=True)
class WilcoxonTest:
    """A two-sided Wilcoxon signed-rank test and the exact SciPy options that reproduce it.

    `p` equals scipy.stats.wilcoxon(nonzero_changes, **scipy_kwargs()).pvalue, where
    nonzero_changes are the follow-up minus baseline changes with zeros removed. Zeros are
    removed before the call so that the permutation count is 2**n_nonzero (zeros would be
    dropped by zero_method="wilcox" anyway, so the statistic is unchanged).
    """

    n_nonzero: int
    statistic: float | None  # SciPy's two-sided statistic: min(W+, W-)
    p: float | None
    method: str | None  # SciPy vocabulary: "exact", "asymptotic" or "PermutationMethod(...)"
    correction: bool
    n_resamples: int | None  # only for the permutation method
    ties: bool
    zero_method: str = ZERO_METHOD
    alternative: str = ALTERNATIVE

    def scipy_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for scipy.stats.wilcoxon that give the same p-value."""
        if self.method is None:
            return {}
        method: Any = self.method
        if self.n_resamples is not None:
            method = stats.PermutationMethod(n_resamples=self.n_resamples)
        return {
            "zero_method": self.zero_method,
            "correction": self.correction,
            "alternative": self.alternative,
            "method": method,
        }


def wilcoxon_test(
    changes: Sequence[float], *, max_exact_permutation: int = MAX_EXACT_PERMUTATION
) -> WilcoxonTest:
    """Two-sided signed-rank test with the most exact honest method for the data.

    - No ties among the non-zero |changes|: method="exact". SciPy's exact null distribution
      assumes ranks 1..k, which holds once zeros are dropped and nothing is tied.
    - Ties, k <= max_exact_permutation: the exact permutation test over all 2**k sign patterns,
      i.e. method=PermutationMethod(n_resamples=2**k). SciPy's method="exact" would round the
      tied statistic onto the untied distribution, which is only approximately right.
    - Ties, larger k: method="asymptotic" with the tie-corrected variance and correction=True.
    """
    d = nonzero(changes)
    ranks = signed_ranks(d)
    k = ranks.n_nonzero
    if k == 0:
        return WilcoxonTest(0, None, None, None, False, None, False)
    statistic = min(ranks.w_plus, ranks.w_minus)
    if not ranks.has_ties:
        res = stats.wilcoxon(d, zero_method=ZERO_METHOD, method="exact", alternative=ALTERNATIVE)
        return WilcoxonTest(k, statistic, float(res.pvalue), "exact", False, None, False)
    if k <= max_exact_permutation:
        n_resamples = 2**k
        return WilcoxonTest(
            k,
            statistic,
            _permutation_p(d),
            f"PermutationMethod(n_resamples={n_resamples})",
            False,
            n_resamples,
            True,
        )
    res = stats.wilcoxon(
        d, zero_method=ZERO_METHOD, method="asymptotic", correction=True, alternative=ALTERNATIVE
    )
    return WilcoxonTest(k, statistic, float(res.pvalue), "asymptotic", True, None, True)


def _permutation_p(d: np.ndarray) -> float:
    """Exact sign-flip permutation p-value of W+, all 2**k patterns.

    This is what scipy.stats.wilcoxon(d, method=PermutationMethod(n_resamples=2**k)) computes,
    but SciPy evaluates its statistic one pattern at a time there (about 2.5 s for k = 13).
    Here the same scipy.stats.permutation_test gets a vectorised W+, so it takes milliseconds.
    Flipping signs leaves |d|, and so the ranks, unchanged.
    """
    ranks = stats.rankdata(np.abs(d))

    def w_plus(x: np.ndarray, axis: int) -> np.ndarray:
        return np.sum(ranks * (x > 0), axis=axis)

    res = stats.permutation_test(
        (d,),
        w_plus,
        permutation_type="samples",
        vectorized=True,
        n_resamples=2**d.size,
        alternative=ALTERNATIVE,
        batch=2**14,
    )
    return float(res.pvalue)
