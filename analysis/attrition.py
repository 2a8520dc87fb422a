"""Attrition check: did follow-up responders start from different scores than non-responders?

If they did, the matched pairs may not stand for everyone who took part.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.caveats import N_, Caveat
from analysis.rounding import places, significant

ALTERNATIVE = "two-sided"
# Fixed so that the same data always give the same p-value when regroupings are sampled.
SEED = 20240708
ALPHA = 0.05
MEDIAN_GAP = 1  # points on the 0-10 scale
# The exact distribution is worked out when it costs at most this many additions (about
# 30 ms); otherwise regroupings are sampled.
EXACT_BUDGET = 20_000_000
BATCH = 50_000  # regroupings sampled at a time
# NumPy's "count" sampler costs about one step per score drawn, "marginals" one
# hypergeometric draw per distinct value: measured here, "count" wins only while fewer
# than about COUNT_STEPS_PER_VALUE scores are drawn per distinct value (with 11 values and
# 4,000 drawn, "count" took 9 s per batch against 0.24 s).
COUNT_STEPS_PER_VALUE = 5
MAX_RESAMPLES = 2_000_000
# Sampling stops once the estimate is this many standard errors away from alpha, so that
# Monte Carlo error cannot flip the flag (or at MAX_RESAMPLES, with the error stated).
SEPARATION = 4.0
P_DEFINITION = N_(
    "two-sided p = P(|U - n1 n2 / 2| >= |u - n1 n2 / 2|) under random regrouping of the "
    "pooled scores (tied scores share their average rank): the chance of a U at least as far "
    "from its expected value as the one observed, in either direction. This is not SciPy's "
    "doubled smaller tail, which differs when ties make the distribution of U asymmetric."
)
EXACT_METHOD = N_("exact: the permutation distribution of U over all C(n1 + n2, n1) regroupings")
MONTE_CARLO_METHOD = N_(
    "Monte Carlo: {n_resamples} random regroupings (numpy default_rng({seed}), "
    "multivariate_hypergeometric), drawn {batch} at a time until p is at least {sep} standard "
    "errors from {alpha}; standard error of p {se}"
)


@dataclass(frozen=True)
class AttritionCheck:
    n_responders: int
    n_non_responders: int
    median_responders: float | None
    median_non_responders: float | None
    statistic: float | None  # Mann-Whitney U of the responders (SciPy's statistic)
    p: float | None  # two-sided as P_DEFINITION; None when either group is empty
    method: str | None  # "exact" or "Monte Carlo"; None when not tested
    exact: bool  # True when p is exact, False when regroupings were sampled
    n_resamples: int | None
    seed: int | None
    may_bias: bool
    standard_error: float | None = None  # of a Monte Carlo p
    untested: str | None = None  # caveat code saying why no test could be made

    @property
    def method_text(self) -> str:
        """The method in words, for people and machine outputs alike."""
        if self.method is None:
            return ""
        if self.exact:
            return EXACT_METHOD
        return MONTE_CARLO_METHOD.format(
            n_resamples=self.n_resamples, seed=self.seed, batch=BATCH, sep=SEPARATION,
            alpha=ALPHA, se=significant(self.standard_error, 2),
        )

    def caveats(self) -> tuple[Caveat, ...]:
        if self.untested:
            return (Caveat(self.untested),)
        if not self.may_bias:
            return ()
        return (
            Caveat(
                "attrition_may_bias",
                {
                    "responder_median": places(self.median_responders, 1),
                    "non_responder_median": places(self.median_non_responders, 1),
                    "p": significant(self.p, 2),
                },
            ),
        )


def attrition_check(
    responders: Sequence[int | None],
    non_responders: Sequence[int | None],
    *,
    alpha: float = ALPHA,
    median_gap: float = MEDIAN_GAP,
    seed: int = SEED,
    exact_budget: int = EXACT_BUDGET,
) -> AttritionCheck:
    """Compare end-of-intervention scores of follow-up responders and non-responders.

    Test: the Mann-Whitney U of the responders (SciPy's statistic, mid-ranks for ties) with a
    two-sided p as defined in P_DEFINITION, from the exact permutation distribution of U
    (any group sizes, ties included) when that costs at most `exact_budget` additions, else
    from random regroupings, sampled until Monte Carlo error cannot flip the p < alpha flag.
    Flags possible bias when p < alpha or the medians differ by median_gap points or more.
    Either group empty: no test, and a caveat saying the check could not be made.
    """
    return attrition_check_counts(
        Counter(v for v in responders if v is not None),
        Counter(v for v in non_responders if v is not None),
        alpha=alpha, median_gap=median_gap, seed=seed, exact_budget=exact_budget)


def attrition_check_counts(
    responders: Mapping[float, int],
    non_responders: Mapping[float, int],
    *,
    alpha: float = ALPHA,
    median_gap: float = MEDIAN_GAP,
    seed: int = SEED,
    exact_budget: int = EXACT_BUDGET,
) -> AttritionCheck:
    """attrition_check on how many of each group had each score ({score: number}; a None
    score is not counted): what a database's GROUP BY gives, so that a million clients'
    scores need never be listed one by one. The same result as attrition_check."""
    counted_x = {v: n for v, n in responders.items() if v is not None and n}
    counted_y = {v: n for v, n in non_responders.items() if v is not None and n}
    values = np.array(sorted({*counted_x, *counted_y}), dtype=float)
    in_x = np.array([counted_x.get(v, 0) for v in values.tolist()], dtype=np.int64)
    in_y = np.array([counted_y.get(v, 0) for v in values.tolist()], dtype=np.int64)
    n_x, n_y = int(in_x.sum()), int(in_y.sum())
    med_x, med_y = _median(values, in_x), _median(values, in_y)
    if n_x == 0 or n_y == 0:
        untested = "attrition_no_responders" if n_x == 0 else "attrition_no_non_responders"
        return AttritionCheck(n_x, n_y, med_x, med_y, None, None, None, False,
                              None, None, False, untested=untested)
    p, exact, n_resamples, se = mann_whitney_p(in_x, in_y, alpha=alpha, seed=seed,
                                               exact_budget=exact_budget)
    y_below = np.concatenate([[0], np.cumsum(in_y)[:-1]])
    u = float(np.sum(in_x * (2 * y_below + in_y))) / 2
    assert med_x is not None and med_y is not None
    return AttritionCheck(
        n_responders=n_x,
        n_non_responders=n_y,
        median_responders=med_x,
        median_non_responders=med_y,
        statistic=u,
        p=p,
        method="exact" if exact else "Monte Carlo",
        exact=exact,
        n_resamples=n_resamples,
        seed=None if exact else seed,
        may_bias=p < alpha or abs(med_x - med_y) >= median_gap,
        standard_error=se,
    )


def _median(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The median of `counts[i]` copies of each `values[i]` (sorted), as numpy.median gives
    it: the middle score, or the mean of the middle two."""
    n = int(counts.sum())
    if n == 0:
        return None
    ends = np.cumsum(counts)  # the scores up to each value, in order
    low = values[int(np.searchsorted(ends, (n - 1) // 2, side="right"))]
    high = values[int(np.searchsorted(ends, n // 2, side="right"))]
    return float((low + high) / 2)


def mann_whitney_p(
    in_x: np.ndarray, in_y: np.ndarray, *, alpha: float = ALPHA, seed: int = SEED,
    exact_budget: int = EXACT_BUDGET,
) -> tuple[float, bool, int | None, float | None]:
    """(p, exact, n_resamples, standard error) for counts per distinct value, lowest first.

    Regrouping draws n1 of the N pooled scores for the first group; the rank sum of that
    group, in doubled mid-ranks (whole numbers), is sum_g j_g r2_g when j_g of the t_g scores
    of value g are drawn, so only the counts j_g matter and U = R - n1(n1 + 1)/2. The
    smaller group is the one drawn (|U - n1 n2/2| is the same for either group).
    """
    n1, n2 = int(in_x.sum()), int(in_y.sum())
    sizes = in_x + in_y
    r2 = 2 * np.concatenate([[0], np.cumsum(sizes)[:-1]]) + sizes + 1
    y_below = np.concatenate([[0], np.cumsum(in_y)[:-1]])
    observed = abs(int(np.sum(in_x * (2 * y_below + in_y))) - n1 * n2)  # |2U - n1 n2|
    m = min(n1, n2)
    top = m * (2 * (n1 + n2) - m + 1)  # largest doubled rank sum of m scores
    cost = int(np.sum(np.minimum(sizes, m) + 1)) * (m + 1) * (top + 1)
    if cost <= exact_budget:
        dist = _rank_sum_distribution(sizes, r2, m, top)
        u2 = np.arange(top + 1) - m * (m + 1)
        extreme = np.abs(u2 - n1 * n2) >= observed
        return min(1.0, float(dist[extreme].sum())), True, None, None
    rng = np.random.default_rng(seed)
    hits = drawn = 0
    while True:
        sampler = "count" if m < COUNT_STEPS_PER_VALUE * len(sizes) else "marginals"
        draws = rng.multivariate_hypergeometric(sizes, m, size=BATCH, method=sampler)
        u2 = draws @ r2 - m * (m + 1)
        hits += int(np.count_nonzero(np.abs(u2 - n1 * n2) >= observed))
        drawn += BATCH
        p = hits / drawn
        se = math.sqrt(max(p * (1 - p), 1 / drawn) / drawn)
        if abs(p - alpha) >= SEPARATION * se or drawn >= MAX_RESAMPLES:
            return p, False, drawn, se


def _rank_sum_distribution(sizes: np.ndarray, r2: np.ndarray, m: int, top: int) -> np.ndarray:
    """P(doubled rank sum of m scores drawn at random = s), s = 0..top.

    Dynamic programming over the distinct values: state (drawn so far c, rank sum s). The
    number drawn from a value with t scores, given c drawn from the values before it, is
    hypergeometric over what remains, so every weight is a probability (no overflow).
    """
    dist = np.zeros((m + 1, top + 1))
    dist[0, 0] = 1.0
    remaining = int(sizes.sum())
    c = np.arange(m + 1)
    for t, rank2 in zip(sizes.tolist(), r2.tolist(), strict=True):
        grown = np.zeros_like(dist)
        for j in range(min(t, m) + 1):
            weight = stats.hypergeom.pmf(j, remaining, t, m - c[: m + 1 - j])
            shift = j * rank2
            if shift > top:
                break
            grown[j:, shift:] += weight[:, None] * dist[: m + 1 - j, : top + 1 - shift]
        dist = grown
        remaining -= t
    return dist[m]
