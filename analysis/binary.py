"""Yes/no measures: paired change before and after (McNemar, Newcombe), and outcomes asked at
follow-up only (binary or scale).

Counts in, frozen dataclasses out, like paired.paired_change_from_counts: the database counts
(baseline, follow-up) cells, so the work is the same for ten clients or a million. Answers are
1 (yes), 0 (no) or None (not answered); `better` names the better answer (1 or 0). Numbers stay
at full precision: rounding is for display (analysis/rounding.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

from analysis.caveats import N_, Caveat, english
from analysis.intervals import Interval, mean_t_interval_from_counts, proportion_ci
from analysis.paired import STUDENT_T_TEXT, mean_from_counts, median_from_counts, share_dict

MCNEMAR_METHOD = "exact"  # the contract's name for the test's method
MCNEMAR_TEXT = N_(
    "exact McNemar test: two-sided binomial test of improved against deteriorated (the pairs "
    "whose answer changed), scipy.stats.binomtest(improved, improved + deteriorated, p=0.5)"
)
NEWCOMBE_METHOD = "newcombe-10"
NEWCOMBE_TEXT = N_(
    "Newcombe (1998, Stat Med 17:2635-2650) method 10: Wilson score intervals for the shares "
    "at the better answer before and after, combined by square-and-add with the "
    "continuity-corrected correlation phi (0 when a margin of the 2x2 table is empty or "
    "0 <= ad - bc <= n/2)"
)
SHARE_METHOD = "wilson"  # SciPy's name; Newcombe's method 10 is built from these intervals
ANSWERS = (0, 1)


def _answer(value: Any) -> int | None:
    if value is None:
        return None
    if value not in ANSWERS:
        raise ValueError(f"binary answers are 1 (yes), 0 (no) or None, not {value!r}")
    return int(value)


def _better(better: Any) -> int:
    if better not in ANSWERS:
        raise ValueError("better must be 1 (yes is better) or 0 (no is better)")
    return int(better)


def _count(count: Any) -> int:
    if isinstance(count, bool) or int(count) != count or count < 0:
        raise ValueError("counts must be whole numbers, not negative")
    return int(count)


@dataclass(frozen=True)
class PairedDifference:
    """Share at the better answer after minus before, with its interval."""

    estimate: float
    interval: Interval
    phi: float  # the (continuity-corrected) correlation the interval used


def newcombe_paired_difference(
    both: int, before_only: int, after_only: int, neither: int, *, confidence: float = 0.95
) -> PairedDifference | None:
    """Newcombe's method 10 for the paired difference p_after - p_before.

    The 2x2 table counts pairs at the better answer: `both` times, `before_only` (better
    before, not after), `after_only`, `neither`. With Wilson intervals (l1, u1) for
    p1 = (both + before_only)/n and (l2, u2) for p2 = (both + after_only)/n, and
    A = both*neither - before_only*after_only, phi is (A - n/2)/sqrt(product of the four
    margins) when A > n/2, 0 when 0 <= A <= n/2 or any margin is 0, and A/sqrt(...) when A < 0.
    Then, with D = p2 - p1,
        low  = D - sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)
        high = D + sqrt((u2 - p2)^2 - 2 phi (u2 - p2)(p1 - l1) + (p1 - l1)^2).
    None when there are no pairs.
    """
    cells = [_count(c) for c in (both, before_only, after_only, neither)]
    a, b, c, d = cells
    n = a + b + c + d
    if n == 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    ci1 = proportion_ci(a + b, n, SHARE_METHOD, confidence=confidence)
    ci2 = proportion_ci(a + c, n, SHARE_METHOD, confidence=confidence)
    assert ci1 is not None and ci2 is not None  # n > 0
    phi = _corrected_phi(a, b, c, d)
    below_2, above_1 = p2 - ci2.low, ci1.high - p1
    above_2, below_1 = ci2.high - p2, p1 - ci1.low
    # Each sum of squares is at least (x - y)^2 >= 0 as |phi| <= 1; max() absorbs rounding.
    low_half = math.sqrt(max(0.0, below_2**2 - 2 * phi * below_2 * above_1 + above_1**2))
    high_half = math.sqrt(max(0.0, above_2**2 - 2 * phi * above_2 * below_1 + below_1**2))
    estimate = (c - b) / n
    return PairedDifference(
        estimate=estimate,
        interval=Interval(estimate - low_half, estimate + high_half, confidence, NEWCOMBE_METHOD),
        phi=phi,
    )


def _corrected_phi(a: int, b: int, c: int, d: int) -> float:
    """Newcombe's continuity-corrected phi for the table [[a, b], [c, d]] (exact integers)."""
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        return 0.0
    cross = a * d - b * c
    half_n = (a + b + c + d) / 2
    if cross > half_n:
        return (cross - half_n) / math.sqrt(margins)
    if cross >= 0:
        return 0.0
    return cross / math.sqrt(margins)


@dataclass(frozen=True)
class PairedBinary:
    """A yes/no measure answered at baseline and at follow-up, pair by pair."""

    better: int  # 1: yes is better; 0: no is better
    dropped: int  # linked responses with no answer on one side (or both)
    both_better: int  # table cells: at the better answer before and after
    before_only: int  # better before, not after: deteriorated
    after_only: int  # better after, not before: improved
    neither: int
    mcnemar_p: float | None  # None when no answer changed
    difference: PairedDifference | None  # None when n = 0
    before_ci: Interval | None
    after_ci: Interval | None
    improved_ci: Interval | None
    deteriorated_ci: Interval | None
    baseline_answered: int  # every linked response with a baseline answer, paired or not
    baseline_better: int
    follow_up_answered: int  # every linked response answered at follow-up, paired or not
    follow_up_better: int
    confidence: float

    @property
    def n(self) -> int:
        return self.both_better + self.before_only + self.after_only + self.neither

    @property
    def improved(self) -> int:
        return self.after_only

    @property
    def deteriorated(self) -> int:
        return self.before_only

    @property
    def same(self) -> int:
        return self.both_better + self.neither

    @property
    def discordant(self) -> int:
        return self.improved + self.deteriorated

    @property
    def before_better(self) -> int:
        return self.both_better + self.before_only

    @property
    def after_better(self) -> int:
        return self.both_better + self.after_only

    @property
    def methods(self) -> dict[str, str]:
        return {
            "mcnemar": MCNEMAR_TEXT,
            "difference": NEWCOMBE_TEXT,
            "share_ci": f"scipy.stats.binomtest(...).proportion_ci, method={SHARE_METHOD!r}",
        }

    def to_contract_dict(self, caveats: Sequence[Caveat] | None = None) -> dict[str, Any]:
        """Per-measure JSON object of contracts.md section 6 for a binary measure with a
        baseline. "table" names its four cells; "mcnemar" is None when no answer changed;
        "difference" (after minus before, share at the better answer) is None when n = 0.
        Scale-only keys are present and None, so renderers of either kind never miss a key."""
        diff = self.difference
        out: dict[str, Any] = {
            "kind": "binary",
            "baseline": True,
            "better": "yes" if self.better else "no",
            "n": self.n,
            "improved": self.improved,
            "same": self.same,
            "deteriorated": self.deteriorated,
            "before_better": self.before_better,
            "after_better": self.after_better,
            "better_count": self.after_better,  # as for outcomes: at the better answer, after
            "table": {
                "before_better_after_better": self.both_better,
                "before_better_after_worse": self.before_only,
                "before_worse_after_better": self.after_only,
                "before_worse_after_worse": self.neither,
            },
            "mcnemar": None
            if self.mcnemar_p is None
            else {
                "p": self.mcnemar_p,
                "method": MCNEMAR_METHOD,
                "n": self.discordant,
                "test": MCNEMAR_TEXT,
            },
            "difference": None
            if diff is None
            else {
                "estimate": diff.estimate,
                "ci_low": diff.interval.low,
                "ci_high": diff.interval.high,
                "method": NEWCOMBE_METHOD,
                "confidence": self.confidence,
                "phi": diff.phi,
                "of": "share at the better answer, after minus before",
            },
            "before_share": share_dict(self.before_better, self.n, self.before_ci),
            "after_share": share_dict(self.after_better, self.n, self.after_ci),
            "improved_share": share_dict(self.improved, self.n, self.improved_ci),
            "deteriorated_share": share_dict(self.deteriorated, self.n, self.deteriorated_ci),
            "baseline_all": _all(self.baseline_better, self.baseline_answered, self.confidence),
            "follow_up_all": _all(
                self.follow_up_better, self.follow_up_answered, self.confidence
            ),
            "dropped_pairs": self.dropped,
            "confidence": self.confidence,
            **dict.fromkeys(SCALE_KEYS),
        }
        return _with_caveats(out, caveats)


# Keys of a scale measure's entry (section 4 and its additions) that a binary one has as None.
SCALE_KEYS = (
    "mean_change", "median_change", "sign_test", "wilcoxon", "mean_change_ci",
    "hodges_lehmann", "rank_biserial", "reliable_change", "extreme_baselines",
)
# Keys that only a measure with a baseline has: None for outcomes asked at follow-up only.
PAIRED_KEYS = (
    "improved", "same", "deteriorated", "before_better", "after_better", "table", "mcnemar",
    "difference", "before_share", "after_share", "improved_share", "deteriorated_share",
    "baseline_all", "follow_up_all", "dropped_pairs",
)


def paired_binary_from_counts(
    counts: Mapping[tuple[int | None, int | None], int],
    better: int,
    *,
    confidence: float = 0.95,
) -> PairedBinary:
    """Paired yes/no change from {(baseline, follow_up): how many linked responses}.

    Answers are 1, 0 or None; a None on either side leaves the pair out of the paired
    statistics (counted in `dropped`), but still counts in baseline_all / follow_up_all.
    """
    better = _better(better)
    table = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    dropped = base_n = base_better = follow_n = follow_better = 0
    for (b, f), count in counts.items():
        b, f, count = _answer(b), _answer(f), _count(count)
        if b is not None:
            base_n += count
            base_better += count if b == better else 0
        if f is not None:
            follow_n += count
            follow_better += count if f == better else 0
        if b is None or f is None:
            dropped += count
        else:
            table[(b == better, f == better)] += count
    both, before_only = table[(True, True)], table[(True, False)]
    after_only, neither = table[(False, True)], table[(False, False)]
    n = both + before_only + after_only + neither
    discordant = before_only + after_only

    def ci(k: int) -> Interval | None:
        return proportion_ci(k, n, SHARE_METHOD, confidence=confidence)

    return PairedBinary(
        better=better,
        dropped=dropped,
        both_better=both,
        before_only=before_only,
        after_only=after_only,
        neither=neither,
        mcnemar_p=float(stats.binomtest(after_only, discordant, 0.5).pvalue)
        if discordant
        else None,
        difference=newcombe_paired_difference(
            both, before_only, after_only, neither, confidence=confidence
        ),
        before_ci=ci(both + before_only),
        after_ci=ci(both + after_only),
        improved_ci=ci(after_only),
        deteriorated_ci=ci(before_only),
        baseline_answered=base_n,
        baseline_better=base_better,
        follow_up_answered=follow_n,
        follow_up_better=follow_better,
        confidence=confidence,
    )


@dataclass(frozen=True)
class OutcomeBinary:
    """A yes/no question asked at follow-up only: where people were then, not a change."""

    better: int
    n: int  # answered
    unanswered: int
    better_count: int
    share_ci: Interval | None
    confidence: float

    @property
    def methods(self) -> dict[str, str]:
        return {"share_ci": f"scipy.stats.binomtest(...).proportion_ci, method={SHARE_METHOD!r}"}

    def to_contract_dict(self, caveats: Sequence[Caveat] | None = None) -> dict[str, Any]:
        """Contract section 6 entry of an outcome (baseline: false) yes/no measure."""
        out: dict[str, Any] = {
            "kind": "binary",
            "baseline": False,
            "better": "yes" if self.better else "no",
            "n": self.n,
            "unanswered": self.unanswered,
            "better_count": self.better_count,
            "share": share_dict(self.better_count, self.n, self.share_ci),
            "confidence": self.confidence,
            **dict.fromkeys(PAIRED_KEYS),
            **dict.fromkeys(SCALE_KEYS),
        }
        return _with_caveats(out, caveats)


def outcome_binary_from_counts(
    counts: Mapping[int | None, int], better: int, *, confidence: float = 0.95
) -> OutcomeBinary:
    """A follow-up-only yes/no question from {answer: how many}; None = not answered."""
    better = _better(better)
    answered = at_better = unanswered = 0
    for answer, count in counts.items():
        answer, count = _answer(answer), _count(count)
        if answer is None:
            unanswered += count
            continue
        answered += count
        at_better += count if answer == better else 0
    return OutcomeBinary(
        better=better,
        n=answered,
        unanswered=unanswered,
        better_count=at_better,
        share_ci=proportion_ci(at_better, answered, SHARE_METHOD, confidence=confidence),
        confidence=confidence,
    )


@dataclass(frozen=True)
class OutcomeScale:
    """A whole-number scale asked at follow-up only. There is no "better" answer to count,
    only a better direction, so better_count is None."""

    better_high: bool
    n: int
    unanswered: int
    mean: float | None
    median: float | None
    sd: float | None  # sample standard deviation (n - 1); None below two answers
    mean_ci: Interval | None  # Student t; None below two answers
    confidence: float

    @property
    def methods(self) -> dict[str, str]:
        return {"mean_ci": STUDENT_T_TEXT}

    def to_contract_dict(self, caveats: Sequence[Caveat] | None = None) -> dict[str, Any]:
        """Contract section 6 entry of an outcome (baseline: false) scale measure."""
        ci = self.mean_ci
        out: dict[str, Any] = {
            "kind": "scale",
            "baseline": False,
            "better": "higher" if self.better_high else "lower",
            "n": self.n,
            "unanswered": self.unanswered,
            "better_count": None,
            "mean": self.mean,
            "median": self.median,
            "sd": self.sd,
            "mean_ci": None
            if ci is None
            else {"low": ci.low, "high": ci.high, "method": ci.method},
            "confidence": self.confidence,
            **dict.fromkeys(PAIRED_KEYS),
            **dict.fromkeys(SCALE_KEYS),
        }
        return _with_caveats(out, caveats)


def outcome_scale_from_counts(
    counts: Mapping[int | None, int], better_high: bool = True, *, confidence: float = 0.95
) -> OutcomeScale:
    """A follow-up-only scale question from {score: how many}; None = not answered."""
    values: dict[int, int] = {}
    unanswered = 0
    for score, count in counts.items():
        count = _count(count)
        if score is None:
            unanswered += count
            continue
        if isinstance(score, bool) or int(score) != score:
            raise ValueError(f"scale answers are whole numbers or None, not {score!r}")
        values[int(score)] = values.get(int(score), 0) + count
    n = sum(values.values())
    ci = mean_t_interval_from_counts(values, confidence=confidence)
    sd = None
    if n >= 2:
        total = sum(v * c for v, c in values.items())
        squares = sum(v * v * c for v, c in values.items())
        sd = math.sqrt((n * squares - total * total) / (n * (n - 1)))  # exact integers first
    return OutcomeScale(
        better_high=bool(better_high),
        n=n,
        unanswered=unanswered,
        mean=mean_from_counts(values),
        median=median_from_counts(values),
        sd=sd,
        mean_ci=ci,
        confidence=confidence,
    )


def _all(k: int, n: int, confidence: float) -> dict[str, Any]:
    """Share at the better answer among everyone answered at one point, paired or not."""
    ci = proportion_ci(k, n, SHARE_METHOD, confidence=confidence)
    return {"n": n, **share_dict(k, n, ci)}


def _with_caveats(out: dict[str, Any], caveats: Sequence[Caveat] | None) -> dict[str, Any]:
    if caveats is not None:
        out["caveats"] = [english(c) for c in caveats]
        out["caveat_codes"] = [c.code for c in caveats]
    return out
