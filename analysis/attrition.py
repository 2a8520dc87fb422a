"""Attrition check: did follow-up responders start from different scores than non-responders?

If they did, the matched pairs may not stand for everyone who took part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.caveats import Caveat
from analysis.rounding import places, significant

ALTERNATIVE = "two-sided"
N_RESAMPLES = 9999
# Fixed so that the same data always give the same p-value when permutations are sampled.
SEED = 20240708
ALPHA = 0.05
MEDIAN_GAP = 1  # points on the 0-10 scale


@dataclass(frozen=True)
class AttritionCheck:
    n_responders: int
    n_non_responders: int
    median_responders: float | None
    median_non_responders: float | None
    statistic: float | None  # Mann-Whitney U of the responders (SciPy's statistic)
    p: float | None  # two-sided; None when either group is empty
    method: str | None  # SciPy vocabulary for scipy.stats.mannwhitneyu's `method`
    exact: bool  # True when p is exact, False when permutations were sampled
    n_resamples: int | None
    seed: int | None
    may_bias: bool

    def caveats(self) -> tuple[Caveat, ...]:
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
) -> AttritionCheck:
    """Compare end-of-intervention scores of follow-up responders and non-responders.

    Test: two-sided Mann-Whitney U (scipy.stats.mannwhitneyu, responders first).
    - No tied values: method="exact".
    - Ties: method=PermutationMethod, the permutation test of U. All C(n1 + n2, n1)
      regroupings are enumerated when there are at most N_RESAMPLES of them (exact);
      otherwise N_RESAMPLES are sampled with rng=seed so the result is reproducible.
    Flags possible bias when p < alpha or the medians differ by median_gap points or more.
    """
    x = np.array([v for v in responders if v is not None], dtype=float)
    y = np.array([v for v in non_responders if v is not None], dtype=float)
    if x.size == 0 or y.size == 0:
        med_x = float(np.median(x)) if x.size else None
        med_y = float(np.median(y)) if y.size else None
        return AttritionCheck(
            int(x.size), int(y.size), med_x, med_y, None, None, None, True, None, None, False
        )
    med_x, med_y = float(np.median(x)), float(np.median(y))
    pooled = np.concatenate([x, y])
    if np.unique(pooled).size == pooled.size:
        res = stats.mannwhitneyu(x, y, alternative=ALTERNATIVE, method="exact")
        method, exact, n_resamples, used_seed = "exact", True, None, None
    else:
        regroupings = math.comb(x.size + y.size, x.size)
        exact = regroupings <= N_RESAMPLES
        n_resamples = regroupings if exact else N_RESAMPLES
        used_seed = None if exact else seed
        perm = stats.PermutationMethod(n_resamples=n_resamples, rng=used_seed)
        res = stats.mannwhitneyu(x, y, alternative=ALTERNATIVE, method=perm)
        method = f"PermutationMethod(n_resamples={n_resamples}"
        method += ")" if exact else f", rng={seed})"
    p = float(res.pvalue)
    may_bias = p < alpha or abs(med_x - med_y) >= median_gap
    return AttritionCheck(
        n_responders=int(x.size),
        n_non_responders=int(y.size),
        median_responders=med_x,
        median_non_responders=med_y,
        statistic=float(res.statistic),
        p=p,
        method=method,
        exact=exact,
        n_resamples=n_resamples,
        seed=used_seed,
        may_bias=may_bias,
    )
