"""Paired change between a baseline score and a follow-up score (follow-up minus baseline)."""

from __future__ import annotations

from collections.abc import Sequence
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
    mean_t_interval,
    proportion_ci,
)
from analysis.rounding import places, significant
from analysis.signed_rank import WilcoxonTest, rank_biserial, signed_ranks, wilcoxon_test

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
