"""Paired change between a baseline score and a follow-up score (follow-up minus baseline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.caveats import N_, Caveat, english
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
from analysis.scales import EXTREME_HIGH, EXTREME_LOW  # also importable from here, as before
from analysis.signed_rank import (
    MAX_EXACT_NONZERO,
    SignedRanks,
    WilcoxonTest,
    rank_biserial,
    signed_ranks,
    wilcoxon_from_tie_groups,
    wilcoxon_test,
)

SIGN_TEST_METHOD = N_(
    "exact two-sided binomial test of improved against deteriorated, zero changes left out "
    "(scipy.stats.binomtest, p=0.5)"
)
# Method texts are marked for translation (N_): pages translate them (surveys.reports.methods);
# the JSON and CSV keep them in English.
WILCOXON_TEXT = N_(
    "two-sided Wilcoxon signed-rank test on the non-zero changes (SciPy's "
    "zero_method={zero_method}), method {method}: {null_distribution}"
)
WILCOXON_NOT_CALCULATED = N_(
    "two-sided Wilcoxon signed-rank test on the non-zero changes (SciPy's "
    "zero_method={zero_method}), not calculated (the caveats say why)"
)
STUDENT_T_TEXT = N_("Student t interval, n - 1 degrees of freedom")
RANK_BISERIAL_METHOD = N_(
    "matched-pairs rank-biserial correlation, Kerby's simple difference formula "
    "(W+ - W-) / (W+ + W-), zero changes left out"
)


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
                WILCOXON_TEXT.format(zero_method=repr(self.wilcoxon.zero_method),
                                     method=self.wilcoxon.method,
                                     null_distribution=self.wilcoxon.null_distribution or "-")
                if self.wilcoxon.method else
                WILCOXON_NOT_CALCULATED.format(zero_method=repr(self.wilcoxon.zero_method))
            ),
            "share_ci": (
                f"scipy.stats.binomtest(...).proportion_ci, method={self.proportion_method!r}"
            ),
            "mean_change_ci": STUDENT_T_TEXT,
            "hodges_lehmann": (
                self.hodges_lehmann.interval.method
                if self.hodges_lehmann and self.hodges_lehmann.interval
                else HODGES_LEHMANN_METHOD
            ),
            "rank_biserial": RANK_BISERIAL_METHOD,
        }

    def to_contract_dict(self, caveats: Sequence[Caveat] | None = None) -> dict[str, Any]:
        """Per-measure JSON object of contracts.md section 4, plus extra keys for issue 4.

        Contract keys keep their names. Numbers are at full precision (contracts.md section 6:
        machine-readable outputs are not rounded; pages and spreadsheets round them once).
        With `caveats`, adds the contract's "caveats" (English sentences) and "caveat_codes".
        """
        w = self.wilcoxon
        out: dict[str, Any] = {
            "n": self.n,
            "improved": self.improved,
            "same": self.same,
            "deteriorated": self.deteriorated,
            "mean_change": self.mean_change,
            "median_change": self.median_change,
            "sign_test": {
                "p": self.sign_test_p,
                "n": self.improved + self.deteriorated,
                "method": SIGN_TEST_METHOD,
            },
            "wilcoxon": {
                "p": w.p,
                "statistic": w.statistic,
                "zero_method": w.zero_method,
                "method": w.method,
                "correction": w.correction,
                "alternative": w.alternative,
                "n_resamples": w.n_resamples,
                "applied_to": "non-zero changes",
                "n": w.n_nonzero,
                "w_plus": self.w_plus,
                "w_minus": self.w_minus,
                "exact": w.exact,
                "null_distribution": w.null_distribution,
            },
            "dropped_pairs": self.dropped,
            "confidence": self.confidence,
            "improved_share": share_dict(self.improved, self.n, self.improved_ci),
            "deteriorated_share": share_dict(self.deteriorated, self.n, self.deteriorated_ci),
            "mean_change_ci": _interval(self.mean_change_ci),
            "hodges_lehmann": _hodges_lehmann(self.hodges_lehmann),
            "rank_biserial": {
                "value": self.rank_biserial,
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
    max_exact_nonzero: int = MAX_EXACT_NONZERO,
) -> WilcoxonTest:
    """wilcoxon_test from counts: the (positive, negative) counts per distinct |change| are
    all the test needs, exact or asymptotic, whatever the number of clients."""
    by_size: dict[int, list[int]] = {}
    for d, c in change_counts.items():
        if d and c:
            by_size.setdefault(abs(d), [0, 0])[0 if d > 0 else 1] += c
    groups = [(by_size[size][0], by_size[size][1]) for size in sorted(by_size)]
    return wilcoxon_from_tie_groups(groups, max_exact_nonzero=max_exact_nonzero)


def share_dict(k: int, n: int, ci: Interval | None) -> dict[str, Any]:
    """A count out of n as the reports give it: the share and its interval."""
    return {
        "count": k,
        "share": k / n if n else None,
        "ci_low": ci.low if ci else None,
        "ci_high": ci.high if ci else None,
        "method": ci.method if ci else None,
    }


def _interval(ci: Interval | None) -> dict[str, Any] | None:
    if ci is None:
        return None
    return {"low": ci.low, "high": ci.high, "method": ci.method}


def _hodges_lehmann(hl: HodgesLehmann | None) -> dict[str, Any] | None:
    if hl is None:
        return None
    return {
        "estimate": hl.estimate,
        "ci_low": hl.interval.low if hl.interval else None,
        "ci_high": hl.interval.high if hl.interval else None,
        "achieved_confidence": hl.achieved_confidence,
        "method": hl.interval.method if hl.interval else HODGES_LEHMANN_METHOD,
    }
