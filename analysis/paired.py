"""Paired change between a baseline score and a follow-up score (follow-up minus baseline)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.caveats import Caveat, english
from analysis.intervals import (
    HODGES_LEHMANN_METHOD,
    HodgesLehmann,
    Interval,
    hodges_lehmann,
    hodges_lehmann_from_counts,
    mean_t_interval,
    mean_t_interval_from_counts,
    proportion_ci,
)
from analysis.rounding import places, significant
from analysis.signed_rank import (
    ALTERNATIVE,
    MAX_EXACT_PERMUTATION,
    ZERO_METHOD,
    SignedRanks,
    WilcoxonTest,
    rank_biserial,
    signed_ranks,
    wilcoxon_test,
)

SIGN_TEST_METHOD = (
    "exact two-sided binomial test of improved against deteriorated, zero changes left out "
    "(scipy.stats.binomtest, p=0.5)"
)
RANK_BISERIAL_METHOD = (
    "matched-pairs rank-biserial correlation, Kerby's simple difference formula "
    "(W+ - W-) / (W+ + W-), zero changes left out"
)
# Baselines this close to either end of a 0-10 scale can only move one way on re-measurement.
EXTREME_LOW = 1
EXTREME_HIGH = 9


@dataclass(frozen=True)
class PairedChange:
    n: int  # pairs with both scores
    dropped: int  # pairs left out because a score was missing on either side
    improved: int
    same: int
    deteriorated: int
    mean_change: float | None
    median_change: float | None
    sign_test_p: float | None  # None when no change is non-zero
    wilcoxon: WilcoxonTest
    w_plus: float
    w_minus: float
    improved_ci: Interval | None
    deteriorated_ci: Interval | None
    mean_change_ci: Interval | None
    hodges_lehmann: HodgesLehmann | None
    rank_biserial: float | None
    extreme_baselines: int  # baselines <= EXTREME_LOW or >= EXTREME_HIGH
    confidence: float
    proportion_method: str
    reliable_change: float | None = None  # threshold in points, when given
    reliably_improved: int | None = None  # change >= threshold
    reliably_deteriorated: int | None = None  # change <= -threshold

    @property
    def methods(self) -> dict[str, str]:
        """Every method behind the numbers, by the name of the statistic."""
        return {
            "sign_test": SIGN_TEST_METHOD,
            "wilcoxon": (
                f"scipy.stats.wilcoxon on the non-zero changes, zero_method="
                f"{self.wilcoxon.zero_method!r}, method={self.wilcoxon.method}, "
                f"correction={self.wilcoxon.correction}, alternative='two-sided'"
            ),
            "share_ci": (
                f"scipy.stats.binomtest(...).proportion_ci, method={self.proportion_method!r}"
            ),
            "mean_change_ci": "Student t interval, n - 1 degrees of freedom",
            "hodges_lehmann": (
                self.hodges_lehmann.interval.method
                if self.hodges_lehmann and self.hodges_lehmann.interval
                else HODGES_LEHMANN_METHOD
            ),
            "rank_biserial": RANK_BISERIAL_METHOD,
        }

    def to_contract_dict(self, caveats: Sequence[Caveat] | None = None) -> dict[str, Any]:
        """Per-measure JSON object of contracts.md section 4, plus extra keys for issue 4.

        Contract keys keep their names; rounding happens only here (p-values to 4 significant
        figures, changes to 2 decimal places, shares to 4). With `caveats`, adds the contract's
        "caveats" (English sentences) and "caveat_codes".
        """
        w = self.wilcoxon
        out: dict[str, Any] = {
            "n": self.n,
            "improved": self.improved,
            "same": self.same,
            "deteriorated": self.deteriorated,
            "mean_change": places(self.mean_change),
            "median_change": places(self.median_change),
            "sign_test": {
                "p": significant(self.sign_test_p),
                "n": self.improved + self.deteriorated,
                "method": SIGN_TEST_METHOD,
            },
            "wilcoxon": {
                "p": significant(w.p),
                "statistic": places(w.statistic, 1),
                "zero_method": w.zero_method,
                "method": w.method,
                "correction": w.correction,
                "alternative": w.alternative,
                "n_resamples": w.n_resamples,
                "applied_to": "non-zero changes",
                "n": w.n_nonzero,
                "w_plus": places(self.w_plus, 1),
                "w_minus": places(self.w_minus, 1),
            },
            "dropped_pairs": self.dropped,
            "confidence": self.confidence,
            "improved_share": _share(self.improved, self.n, self.improved_ci),
            "deteriorated_share": _share(self.deteriorated, self.n, self.deteriorated_ci),
            "mean_change_ci": _interval(self.mean_change_ci, 2),
            "hodges_lehmann": _hodges_lehmann(self.hodges_lehmann),
            "rank_biserial": {
                "value": places(self.rank_biserial, 3),
                "method": RANK_BISERIAL_METHOD,
            },
            "reliable_change": None
            if self.reliable_change is None
            else {
                "threshold": self.reliable_change,
                "reliably_improved": self.reliably_improved,
                "reliably_deteriorated": self.reliably_deteriorated,
            },
            "extreme_baselines": self.extreme_baselines,
        }
        if caveats is not None:
            out["caveats"] = [english(c) for c in caveats]
            out["caveat_codes"] = [c.code for c in caveats]
        return out


def paired_change(
    baseline: Sequence[int | None],
    follow_up: Sequence[int | None],
    *,
    reliable_change: float | None = None,
    confidence: float = 0.95,
    proportion_method: str = "wilson",
) -> PairedChange:
    """Compare follow-up with baseline, pair by pair. Pairs with a None on either side drop out."""
    if len(baseline) != len(follow_up):
        raise ValueError("baseline and follow_up must have the same length")
    if reliable_change is not None and reliable_change <= 0:
        raise ValueError("reliable_change must be a positive number of points")
    pairs = [
        (b, f) for b, f in zip(baseline, follow_up, strict=True) if b is not None and f is not None
    ]
    base = np.array([b for b, _ in pairs], dtype=float)
    change = np.array([f - b for b, f in pairs], dtype=float)
    n = len(pairs)
    improved = int(np.count_nonzero(change > 0))
    deteriorated = int(np.count_nonzero(change < 0))
    nonzero = improved + deteriorated
    ranks = signed_ranks(change)
    reliable = (
        (None, None)
        if reliable_change is None
        else (
            int(np.count_nonzero(change >= reliable_change)),
            int(np.count_nonzero(change <= -reliable_change)),
        )
    )
    return PairedChange(
        n=n,
        dropped=len(baseline) - n,
        improved=improved,
        same=n - nonzero,
        deteriorated=deteriorated,
        mean_change=float(change.mean()) if n else None,
        median_change=float(np.median(change)) if n else None,
        sign_test_p=float(stats.binomtest(improved, nonzero, 0.5).pvalue) if nonzero else None,
        wilcoxon=wilcoxon_test(change),
        w_plus=ranks.w_plus,
        w_minus=ranks.w_minus,
        improved_ci=proportion_ci(improved, n, proportion_method, confidence=confidence),
        deteriorated_ci=proportion_ci(deteriorated, n, proportion_method, confidence=confidence),
        mean_change_ci=mean_t_interval(change, confidence=confidence),
        hodges_lehmann=hodges_lehmann(change, confidence=confidence),
        rank_biserial=rank_biserial(ranks),
        extreme_baselines=int(np.count_nonzero((base <= EXTREME_LOW) | (base >= EXTREME_HIGH))),
        confidence=confidence,
        proportion_method=proportion_method,
        reliable_change=reliable_change,
        reliably_improved=reliable[0],
        reliably_deteriorated=reliable[1],
    )


def paired_change_from_counts(
    counts: Mapping[tuple[int | None, int | None], int],
    *,
    reliable_change: float | None = None,
    confidence: float = 0.95,
    proportion_method: str = "wilson",
) -> PairedChange:
    """paired_change for whole-number scores given as {(baseline, follow_up): how many pairs}.

    The same result as paired_change on the pairs the counts stand for (a None on either
    side drops the pair), but the work grows with the number of distinct score pairs (at
    most 11 x 11 on a 0-10 scale), not with the number of clients: the database counts,
    this function never sees a row. Every statistic is worked out from the histogram of
    changes: sums for the mean and t interval, cumulative counts for the median, average
    ranks per distinct |change| for the signed-rank test, a convolution for Hodges-Lehmann.
    """
    if reliable_change is not None and reliable_change <= 0:
        raise ValueError("reliable_change must be a positive number of points")
    change_counts: dict[int, int] = {}
    total = extreme = 0
    for (b, f), count in counts.items():
        if count < 0:
            raise ValueError("counts must not be negative")
        total += count
        if b is None or f is None or not count:
            continue
        b, f = int(b), int(f)
        change_counts[f - b] = change_counts.get(f - b, 0) + count
        if b <= EXTREME_LOW or b >= EXTREME_HIGH:
            extreme += count
    n = sum(change_counts.values())
    improved = sum(c for d, c in change_counts.items() if d > 0)
    deteriorated = sum(c for d, c in change_counts.items() if d < 0)
    nonzero = improved + deteriorated
    ranks = _signed_ranks_from_counts(change_counts)
    reliable = (
        (None, None)
        if reliable_change is None
        else (
            sum(c for d, c in change_counts.items() if d >= reliable_change),
            sum(c for d, c in change_counts.items() if d <= -reliable_change),
        )
    )
    return PairedChange(
        n=n,
        dropped=total - n,
        improved=improved,
        same=n - nonzero,
        deteriorated=deteriorated,
        mean_change=mean_from_counts(change_counts),
        median_change=median_from_counts(change_counts),
        sign_test_p=float(stats.binomtest(improved, nonzero, 0.5).pvalue) if nonzero else None,
        wilcoxon=_wilcoxon_from_counts(change_counts, ranks),
        w_plus=ranks.w_plus,
        w_minus=ranks.w_minus,
        improved_ci=proportion_ci(improved, n, proportion_method, confidence=confidence),
        deteriorated_ci=proportion_ci(deteriorated, n, proportion_method, confidence=confidence),
        mean_change_ci=mean_t_interval_from_counts(change_counts, confidence=confidence),
        hodges_lehmann=hodges_lehmann_from_counts(change_counts, confidence=confidence),
        rank_biserial=rank_biserial(ranks),
        extreme_baselines=extreme,
        confidence=confidence,
        proportion_method=proportion_method,
        reliable_change=reliable_change,
        reliably_improved=reliable[0],
        reliably_deteriorated=reliable[1],
    )


def mean_from_counts(counts: Mapping[int, int]) -> float | None:
    """The mean of whole numbers given as {value: how many}; None when there are none."""
    n = sum(counts.values())
    return sum(v * c for v, c in counts.items()) / n if n else None


def median_from_counts(counts: Mapping[int, int]) -> float | None:
    """np.median of whole numbers given as {value: how many}: the middle one, or the mean of
    the middle two; None when there are none."""
    n = sum(counts.values())
    if not n:
        return None
    wanted = {(n - 1) // 2, n // 2}
    found: dict[int, int] = {}
    seen = 0
    for value in sorted(counts):
        upto = seen + counts[value]
        for position in wanted - found.keys():
            if seen <= position < upto:
                found[position] = value
        seen = upto
    return (found[(n - 1) // 2] + found[n // 2]) / 2


def _signed_ranks_from_counts(change_counts: Mapping[int, int]) -> SignedRanks:
    """signed_ranks from counts: tied |changes| share the average of the ranks they span."""
    by_size: dict[int, list[int]] = {}
    for d, c in change_counts.items():
        if d and c:
            plus_minus = by_size.setdefault(abs(d), [0, 0])
            plus_minus[0 if d > 0 else 1] += c
    below = 0
    twice_plus = twice_minus = 0  # rank sums doubled, so that they stay whole numbers
    for size in sorted(by_size):
        plus, minus = by_size[size]
        tied = plus + minus
        twice_average = 2 * below + tied + 1  # ranks below+1 .. below+tied
        twice_plus += twice_average * plus
        twice_minus += twice_average * minus
        below += tied
    return SignedRanks(
        n_nonzero=below,
        w_plus=twice_plus / 2,
        w_minus=twice_minus / 2,
        has_ties=any(sum(pm) > 1 for pm in by_size.values()),
    )


def _wilcoxon_from_counts(
    change_counts: Mapping[int, int],
    ranks: SignedRanks,
    *,
    max_exact_permutation: int = MAX_EXACT_PERMUTATION,
) -> WilcoxonTest:
    """wilcoxon_test from counts.

    Without ties, or with few non-zero changes, the changes are few enough to list and the
    exact methods of wilcoxon_test run on them. Otherwise wilcoxon_test uses SciPy's
    asymptotic method with tie and continuity corrections; its normal approximation needs
    only W+, the number of non-zero changes and the sizes of the tie groups, worked out
    here from the counts: z = (W+ - k(k+1)/4 - sign * 1/2) / se with
    se = sqrt((k(k+1)(2k+1) - sum(t**3 - t)/2) / 24), p = 2 * P(Z > |z|).
    """
    k = ranks.n_nonzero
    if k == 0 or not ranks.has_ties or k <= max_exact_permutation:
        listed = [float(d) for d, c in sorted(change_counts.items()) if d for _ in range(c)]
        return wilcoxon_test(listed, max_exact_permutation=max_exact_permutation)
    tie_sizes: dict[int, int] = {}
    for d, c in change_counts.items():
        if d:
            tie_sizes[abs(d)] = tie_sizes.get(abs(d), 0) + c
    count = float(k)
    mean = count * (count + 1.0) * 0.25
    variance = count * (count + 1.0) * (2.0 * count + 1.0)
    tie_term = float(sum(float(t) ** 3 - t for t in tie_sizes.values()))
    se = math.sqrt((variance - tie_term / 2) / 24)
    z = (ranks.w_plus - mean) / se
    z -= math.copysign(0.5, z) / se if z else 0.0
    p = min(1.0, float(2 * stats.norm.sf(abs(z))))
    return WilcoxonTest(
        k,
        min(ranks.w_plus, ranks.w_minus),
        p,
        "asymptotic",
        True,
        None,
        True,
        zero_method=ZERO_METHOD,
        alternative=ALTERNATIVE,
    )


def _share(k: int, n: int, ci: Interval | None) -> dict[str, Any]:
    return {
        "count": k,
        "share": significant(k / n) if n else None,
        "ci_low": places(ci.low, 4) if ci else None,
        "ci_high": places(ci.high, 4) if ci else None,
        "method": ci.method if ci else None,
    }


def _interval(ci: Interval | None, decimals: int) -> dict[str, Any] | None:
    if ci is None:
        return None
    return {"low": places(ci.low, decimals), "high": places(ci.high, decimals), "method": ci.method}


def _hodges_lehmann(hl: HodgesLehmann | None) -> dict[str, Any] | None:
    if hl is None:
        return None
    return {
        "estimate": places(hl.estimate),
        "ci_low": places(hl.interval.low) if hl.interval else None,
        "ci_high": places(hl.interval.high) if hl.interval else None,
        "achieved_confidence": significant(hl.achieved_confidence),
        "method": hl.interval.method if hl.interval else HODGES_LEHMANN_METHOD,
    }
