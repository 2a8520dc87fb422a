"""Comparison groups (issue 13): the first arm of a study against the second.

Counts in, frozen dataclasses out, like binary.py: the database counts answers per arm, so the
work is the same for ten clients or a million. Numbers stay at full precision; nothing here
is infinite or NaN, so every to_contract_dict() is JSON-safe (None where not estimable).

compare_binary(first_better, first_n, second_better, second_n, *, confidence=0.95)
    -> BinaryComparison: the 2x2 table arm x at-the-better-value. Each arm's share with its
    Wilson interval (analysis.intervals.proportion_ci); Fisher's exact test, two-sided
    (scipy.stats.fisher_exact); the risk difference, first share minus second, with
    Newcombe's hybrid score interval (1998, method 10); the risk ratio, first share over
    second, with Koopman's score interval (1984), found by root finding. An arm with no
    answers: Fisher, difference and ratio are None. Nobody at the better value in the second
    arm: the ratio's estimate and upper limit are None (infinite or undefined).
compare_scale_from_counts(first, second, *, confidence=0.95) -> ScaleComparison, from
    {value: how many} per arm (whole numbers or not; a million values cost milliseconds):
    each arm's n, mean and median; the Mann-Whitney test exactly as
    scipy.stats.mannwhitneyu(x, y, method=<method>, use_continuity=True,
    alternative="two-sided") gives it, "exact" when no value is tied and n1 * n2 <=
    MW_EXACT_MAX_PRODUCT, else "asymptotic"; the difference in means (first minus second)
    with Welch's t interval (scipy.stats.ttest_ind(equal_var=False).confidence_interval);
    the two-sample Hodges-Lehmann shift (median of all first-minus-second differences) with
    its distribution-free interval. None where not computable: an empty arm (everything),
    one value in an arm (the Welch interval; the Hodges-Lehmann interval when too few).
compare_response_rates(first_responses, first_surveyed, second_responses, second_surveyed)
    -> ArmResponse: each arm's response rate and Fisher's exact test of responded x arm.
comparison_caveats(comparison, *, first_arm, second_arm, baseline=None) -> tuple[Caveat]
    for one measure's comparison, most fundamental first: arm_without_answers, small_arm
    (per arm), baseline_differs / baseline_differs_binary (when `baseline`, the same
    comparison of the arms' baselines, has p < 0.05), risk_ratio_not_estimable,
    comparison_no_mean_interval, comparison_no_hodges_lehmann_interval,
    mann_whitney_ties_asymptotic.
study_comparison_caveats(*, randomised, response, first_arm, second_arm) -> tuple[Caveat]
    for the study as a whole: not_randomised (unless allocation was random) and
    response_rates_differ (Fisher p < 0.05: attrition by arm).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from analysis.caveats import INDICATIVE_BELOW, N_, Caveat
from analysis.intervals import Interval, proportion_ci
from analysis.rounding import half_up, percent_half_up, places, significant

ALPHA = 0.05  # p below this: baseline or response rates "differ"
# The caveat codes this module emits (templates in analysis.caveats.CAVEAT_TEMPLATES).
COMPARISON_CAVEAT_CODES = frozenset({
    "not_randomised", "response_rates_differ", "arm_without_answers", "small_arm",
    "baseline_differs", "baseline_differs_binary", "risk_ratio_not_estimable",
    "comparison_no_mean_interval", "comparison_no_hodges_lehmann_interval",
    "mann_whitney_ties_asymptotic",
})
FISHER_METHOD = "two-sided"
RISK_DIFFERENCE_METHOD = "newcombe-hybrid-score"
RISK_RATIO_METHOD = "koopman-score"
WELCH_METHOD = "welch"
MW_ALTERNATIVE = "two-sided"
MW_CONTINUITY = True
# SciPy's exact Mann-Whitney distribution costs about (n1 n2)**2 / 8 operations (50 ms at
# 50 x 50, 150 ms at 100 x 100); beyond this product the normal approximation is used.
MW_EXACT_MAX_PRODUCT = 2500
HL_EXACT = "hodges-lehmann-exact"
HL_NORMAL = "hodges-lehmann-normal"
HL_EXACT_TEXT = N_(
    "Hodges-Lehmann shift: median of all n1 n2 first-minus-second differences; interval "
    "[D(c), D(n1 n2 + 1 - c)] of the sorted differences, c the largest with "
    "P(U <= c - 1) <= (1 - confidence)/2 under the exact (untied) Mann-Whitney distribution "
    "(Hollander & Wolfe; as R's wilcox.test(x, y, conf.int = TRUE))"
)
HL_NORMAL_TEXT = N_(
    "Hodges-Lehmann shift: median of all n1 n2 first-minus-second differences; interval "
    "[D(c), D(n1 n2 + 1 - c)], c = floor(n1 n2 / 2 + z(alpha/2) s + 1/2) from the normal "
    "approximation to the Mann-Whitney distribution (s with the tie correction)"
)
RISK_DIFFERENCE_TEXT = N_(
    "Newcombe (1998, Stat Med 17:873-890) method 10, hybrid score: from the Wilson intervals "
    "(l1, u1), (l2, u2) of the two shares, d - sqrt((p1 - l1)^2 + (u2 - p2)^2) to "
    "d + sqrt((u1 - p1)^2 + (p2 - l2)^2)"
)
RISK_RATIO_TEXT = N_(
    "Koopman (1984, Biometrics 40:513-517) score interval: the ratios phi whose score "
    "statistic, with both shares re-estimated under p1 = phi p2, is at most the chi-square(1) "
    "quantile at the confidence level; found by root finding"
)
WELCH_TEXT = N_(
    "Welch t interval: scipy.stats.ttest_ind(first, second, equal_var=False)"
    ".confidence_interval()"
)
# Above this many distinct differences (non-whole values), the Hodges-Lehmann shift is refused.
HL_MAX_PAIRS_OF_VALUES = 20_000_000
# Whole numbers whose spans multiply to at most this go through np.convolve.
HL_MAX_CONVOLUTION = 50_000_000


def _count(count: Any) -> int:
    if isinstance(count, bool) or int(count) != count or count < 0:
        raise ValueError("counts must be whole numbers, not negative")
    return int(count)


def _value(value: Any) -> float:
    if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
        raise ValueError(f"values must be finite numbers, not {value!r}")
    return float(value)


def _clean(x: float | None) -> float | None:
    """None for anything not finite, so the JSON output never holds inf or NaN."""
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class Estimate:
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": _clean(self.estimate),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "method": self.method,
            "confidence": self.confidence,
        }


# --- yes/no measures -------------------------------------------------------------------


@dataclass(frozen=True)
class ArmShare:
    n: int
    better: int
    interval: Interval | None  # Wilson; None when n = 0

    @property
    def share(self) -> float | None:
        return self.better / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        ci = self.interval
        return {
            "n": self.n,
            "better": self.better,
            "share": self.share,
            "ci_low": ci.low if ci else None,
            "ci_high": ci.high if ci else None,
        }


@dataclass(frozen=True)
class BinaryComparison:
    first: ArmShare
    second: ArmShare
    fisher_p: float | None  # None when an arm has no answers
    risk_difference: Estimate | None  # None when an arm has no answers
    risk_ratio: Estimate | None  # None when an arm has no answers; parts None when infinite
    confidence: float

    kind = "binary"

    @property
    def methods(self) -> dict[str, str]:
        return {
            "fisher": "scipy.stats.fisher_exact(table), two-sided",
            "risk_difference": RISK_DIFFERENCE_TEXT,
            "risk_ratio": RISK_RATIO_TEXT,
            "share_ci": "scipy.stats.binomtest(...).proportion_ci, method='wilson'",
        }

    def to_contract_dict(self, first_name: str, second_name: str) -> dict[str, Any]:
        """The binary comparison entry of the issue 13 contract (helper B adds "basis",
        "baseline" and the caveats)."""
        _distinct(first_name, second_name)
        return {
            "kind": self.kind,
            "first_arm": first_name,
            "second_arm": second_name,
            "arms": {first_name: self.first.to_dict(), second_name: self.second.to_dict()},
            "fisher": None
            if self.fisher_p is None
            else {"p": self.fisher_p, "method": FISHER_METHOD},
            "risk_difference": None if self.risk_difference is None
            else self.risk_difference.to_dict(),
            "risk_ratio": None if self.risk_ratio is None else self.risk_ratio.to_dict(),
        }


def _distinct(first_name: str, second_name: str) -> None:
    if first_name == second_name:
        raise ValueError("the two arms need different names")


def compare_binary(
    first_better: int, first_n: int, second_better: int, second_n: int,
    *, confidence: float = 0.95,
) -> BinaryComparison:
    """First arm against second on a yes/no measure: `*_better` of `*_n` answers in each arm
    were at the better value."""
    x1, n1, x2, n2 = (_count(c) for c in (first_better, first_n, second_better, second_n))
    if x1 > n1 or x2 > n2:
        raise ValueError("need better <= n in each arm")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    first = ArmShare(n1, x1, proportion_ci(x1, n1, "wilson", confidence=confidence))
    second = ArmShare(n2, x2, proportion_ci(x2, n2, "wilson", confidence=confidence))
    if not (n1 and n2):
        return BinaryComparison(first, second, None, None, None, confidence)
    fisher = float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)
    return BinaryComparison(
        first, second, min(1.0, fisher),
        newcombe_risk_difference(x1, n1, x2, n2, confidence=confidence,
                                 wilson=(first.interval, second.interval)),
        koopman_risk_ratio(x1, n1, x2, n2, confidence=confidence),
        confidence,
    )


def newcombe_risk_difference(
    x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95,
    wilson: tuple[Interval | None, Interval | None] | None = None,
) -> Estimate:
    """p1 - p2 with Newcombe's method 10 interval (both n > 0); `wilson`: the two shares'
    Wilson intervals at this confidence when already worked out."""
    p1, p2 = x1 / n1, x2 / n2
    w1, w2 = wilson or (proportion_ci(x1, n1, "wilson", confidence=confidence),
                        proportion_ci(x2, n2, "wilson", confidence=confidence))
    assert w1 is not None and w2 is not None
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Estimate(d, max(-1.0, low), min(1.0, high), RISK_DIFFERENCE_METHOD, confidence)


def koopman_score(phi: float, x1: int, n1: int, x2: int, n2: int) -> float:
    """Koopman's chi-square score statistic for the ratio p1/p2 = phi (phi >= 0).

    p2 is re-estimated by maximum likelihood under p1 = phi p2: the smaller root of
    phi N p^2 - (phi (n1 + x2) + x1 + n2) p + (x1 + x2) = 0, N = n1 + n2. The statistic is
    sum (x_i - n_i p_i)^2 / (n_i p_i (1 - p_i)), a term being 0 when its share sits on 0 or 1
    exactly where the data are (the limit), and infinite when the data are elsewhere.
    """
    c = x1 + x2
    if c == 0:
        return 0.0  # nobody at the better value: every ratio fits
    b = phi * (n1 + x2) + x1 + n2
    disc = max(0.0, b * b - 4 * phi * (n1 + n2) * c)
    p2 = 2 * c / (b + math.sqrt(disc))  # the smaller root, without cancellation
    p2 = min(1.0, p2)
    p1 = min(1.0, phi * p2)
    return _score_term(x1, n1, p1) + _score_term(x2, n2, p2)


def _score_term(x: int, n: int, p: float) -> float:
    gap = x - n * p
    spread = n * p * (1 - p)
    if spread <= 0 or spread < 1e-300:
        return 0.0 if abs(gap) <= 1e-9 * max(1, n) else math.inf
    return gap * gap / spread


def koopman_risk_ratio(
    x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95
) -> Estimate:
    """p1 / p2 with Koopman's score interval (both n > 0); None parts where infinite."""
    crit = float(stats.chi2.ppf(confidence, 1))

    def excess(phi: float) -> float:
        return koopman_score(phi, x1, n1, x2, n2) - crit

    if x1 == 0 and x2 == 0:
        return Estimate(None, 0.0, None, RISK_RATIO_METHOD, confidence)
    estimate = (x1 / n1) / (x2 / n2) if x2 else None
    # Lower limit: 0 when x1 = 0 (the score is 0 at phi = 0), else a root below the estimate.
    if x1 == 0:
        low: float | None = 0.0
    else:
        top = estimate if estimate is not None else _first(lambda p: excess(p) < 0, 1.0, 2.0)
        bottom = _first(lambda p: excess(p) > 0, top, 0.5)
        low = _root(excess, bottom, top)
    # Upper limit: infinite when x2 = 0, else a root above the estimate.
    if x2 == 0:
        high: float | None = None
    else:
        start = estimate if estimate else 0.0
        far = _first(lambda p: excess(p) > 0, max(start, 1e-12) * 2, 2.0)
        high = _root(excess, start, far)
    return Estimate(estimate, low, high, RISK_RATIO_METHOD, confidence)


def _first(condition: Any, start: float, factor: float) -> float:
    """start * factor**k for the first k >= 0 meeting the condition (a bracket end)."""
    value = start
    for _ in range(2000):
        if condition(value):
            return value
        value *= factor
    raise ArithmeticError("no bracket for the score interval")  # pragma: no cover


def _root(f: Any, a: float, b: float) -> float:
    """The root of f between a and b, searched on the log scale when both are positive."""
    if a > 0:
        t = optimize.brentq(lambda s: f(math.exp(s)), math.log(a), math.log(b),
                            xtol=1e-14, rtol=1e-15, maxiter=500)
        return math.exp(t)
    return optimize.brentq(f, a, b, xtol=1e-300, rtol=1e-15, maxiter=500)


# --- scales ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleArm:
    n: int
    mean: float | None
    median: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "median": self.median}


@dataclass(frozen=True)
class MannWhitney:
    statistic: float  # U of the first sample, as SciPy returns it
    p: float
    method: str  # SciPy's name: "exact" or "asymptotic"
    ties: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "statistic": self.statistic,
            "method": self.method,
            "use_continuity": MW_CONTINUITY,
            "alternative": MW_ALTERNATIVE,
        }


@dataclass(frozen=True)
class HodgesLehmannShift:
    estimate: float
    ci_low: float | None  # None when too few values to reach the confidence asked for
    ci_high: float | None
    method: str  # HL_EXACT or HL_NORMAL
    achieved_confidence: float | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "method": self.method,
            "achieved_confidence": self.achieved_confidence,
        }


@dataclass(frozen=True)
class ScaleComparison:
    first: ScaleArm
    second: ScaleArm
    mann_whitney: MannWhitney | None  # None when an arm is empty
    mean_difference: Estimate | None  # None when an arm is empty; no interval below 2 each
    hodges_lehmann: HodgesLehmannShift | None  # None when an arm is empty
    confidence: float

    kind = "scale"

    @property
    def methods(self) -> dict[str, str]:
        hl = self.hodges_lehmann
        return {
            "mann_whitney": "scipy.stats.mannwhitneyu(first, second, method=..., "
            "use_continuity=True, alternative='two-sided')",
            "mean_difference": WELCH_TEXT,
            "hodges_lehmann": HL_NORMAL_TEXT if hl and hl.method == HL_NORMAL else HL_EXACT_TEXT,
        }

    def to_contract_dict(self, first_name: str, second_name: str) -> dict[str, Any]:
        """The scale comparison entry of the issue 13 contract (helper B adds "basis",
        "baseline" and the caveats)."""
        _distinct(first_name, second_name)
        mw, md, hl = self.mann_whitney, self.mean_difference, self.hodges_lehmann
        return {
            "kind": self.kind,
            "first_arm": first_name,
            "second_arm": second_name,
            "arms": {first_name: self.first.to_dict(), second_name: self.second.to_dict()},
            "mann_whitney": None if mw is None else mw.to_dict(),
            "mean_difference": None if md is None else md.to_dict(),
            "hodges_lehmann": None if hl is None else hl.to_dict(),
        }


def _histogram(counts: Mapping[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (ascending, as floats) and their counts (int64), zero counts dropped."""
    merged: dict[float, int] = {}
    for value, count in counts.items():
        v, c = _value(value), _count(count)
        if c:
            merged[v] = merged.get(v, 0) + c
    values = np.array(sorted(merged), dtype=float)
    return values, np.array([merged[v] for v in values.tolist()], dtype=np.int64)


def _arm(values: np.ndarray, counts: np.ndarray) -> ScaleArm:
    n = int(counts.sum())
    if n == 0:
        return ScaleArm(0, None, None)
    mean = float(np.dot(values, counts) / n)
    cumulative = np.cumsum(counts)

    def at(position: int) -> float:  # 0-based position in sorted order
        return float(values[int(np.searchsorted(cumulative, position, side="right"))])

    median = (at((n - 1) // 2) + at(n // 2)) / 2
    return ScaleArm(n, mean, median)


def compare_scale_from_counts(
    first: Mapping[Any, Any], second: Mapping[Any, Any], *, confidence: float = 0.95
) -> ScaleComparison:
    """First arm against second on a scale (or on changes), from {value: how many} each."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    v1, c1 = _histogram(first)
    v2, c2 = _histogram(second)
    arm1, arm2 = _arm(v1, c1), _arm(v2, c2)
    if not (arm1.n and arm2.n):
        return ScaleComparison(arm1, arm2, None, None, None, confidence)
    mw = _mann_whitney(v1, c1, v2, c2)
    return ScaleComparison(
        arm1, arm2, mw,
        _welch(v1, c1, arm1, v2, c2, arm2, confidence),
        _hodges_lehmann_shift(v1, c1, v2, c2, mw.ties, confidence),
        confidence,
    )


def _pooled(v1: np.ndarray, c1: np.ndarray, v2: np.ndarray, c2: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled distinct values with each arm's count at each (zeros where absent)."""
    values = np.union1d(v1, v2)
    in1 = np.zeros(values.size, dtype=np.int64)
    in2 = np.zeros(values.size, dtype=np.int64)
    in1[np.searchsorted(values, v1)] = c1
    in2[np.searchsorted(values, v2)] = c2
    return values, in1, in2


def _tie_sd(n1: int, n2: int, ties: np.ndarray) -> float:
    """SciPy's tie-corrected standard deviation of U (_get_mwu_z)."""
    n = n1 + n2
    t = ties.astype(float)
    tie_term = float(np.sum(t**3 - t))
    return math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))


def _mann_whitney(v1: np.ndarray, c1: np.ndarray, v2: np.ndarray, c2: np.ndarray
                  ) -> MannWhitney:
    n1, n2 = int(c1.sum()), int(c2.sum())
    values, in1, in2 = _pooled(v1, c1, v2, c2)
    sizes = in1 + in2
    ties = bool(np.any(sizes > 1))
    if not ties and n1 * n2 <= MW_EXACT_MAX_PRODUCT:
        # Untied, so every count is 1: the lists are short. SciPy itself, so p is SciPy's.
        res = stats.mannwhitneyu(np.repeat(v1, c1), np.repeat(v2, c2), method="exact",
                                 use_continuity=MW_CONTINUITY, alternative=MW_ALTERNATIVE)
        return MannWhitney(float(res.statistic), float(res.pvalue), "exact", False)
    below2 = np.concatenate([[0], np.cumsum(in2)[:-1]])
    u1 = int(np.sum(in1 * (2 * below2 + in2))) / 2  # mid-ranks: exact in halves
    u = max(u1, n1 * n2 - u1)
    s = _tie_sd(n1, n2, sizes)
    # SciPy: z = (U - mu - 0.5) / s, p = 2 * ndtr(-z); every value equal gives s = 0, p = 1.
    p = 1.0 if s == 0 else min(1.0, 2 * float(special.ndtr(-(u - n1 * n2 / 2 - 0.5) / s)))
    return MannWhitney(u1, max(0.0, p), "asymptotic", ties)


def _welch(v1: np.ndarray, c1: np.ndarray, arm1: ScaleArm, v2: np.ndarray, c2: np.ndarray,
           arm2: ScaleArm, confidence: float) -> Estimate:
    assert arm1.mean is not None and arm2.mean is not None
    estimate = arm1.mean - arm2.mean
    if arm1.n < 2 or arm2.n < 2:
        return Estimate(estimate, None, None, WELCH_METHOD, confidence)
    var1 = float(np.dot(c1, (v1 - arm1.mean) ** 2)) / (arm1.n - 1)
    var2 = float(np.dot(c2, (v2 - arm2.mean) ** 2)) / (arm2.n - 1)
    a, b = var1 / arm1.n, var2 / arm2.n
    se = math.sqrt(a + b)
    if se == 0:  # every answer the same within each arm: the interval has no width
        return Estimate(estimate, estimate, estimate, WELCH_METHOD, confidence)
    df = (a + b) ** 2 / (a * a / (arm1.n - 1) + b * b / (arm2.n - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
    return Estimate(estimate, estimate - half, estimate + half, WELCH_METHOD, confidence)


def mann_whitney_null_cdf(n1: int, n2: int) -> np.ndarray:
    """P(U <= u), u = 0 .. n1 n2, for untied samples of n1 and n2 under the null.

    The largest of the a + b values belongs to the first sample with chance a/(a + b) and
    then exceeds all b of the second: p_{a,b}(u) = a/(a+b) p_{a-1,b}(u - b)
    + b/(a+b) p_{a,b-1}(u). Probabilities throughout (no overflow); O((n1 n2)**2 / 4).
    """
    row = [np.ones(1) for _ in range(n2 + 1)]  # a = 0: U = 0 surely
    for a in range(1, n1 + 1):
        new = [np.ones(1)]
        for b in range(1, n2 + 1):
            pmf = np.zeros(a * b + 1)
            pmf[b: b + row[b].size] += a / (a + b) * row[b]
            pmf[: new[b - 1].size] += b / (a + b) * new[b - 1]
            new.append(pmf)
        row = new
    return np.cumsum(row[n2])


def _differences(v1: np.ndarray, c1: np.ndarray, v2: np.ndarray, c2: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct first-minus-second differences (ascending) and how many pairs give each.

    Whole numbers: a convolution of the two histograms (n1 n2 pairs never listed). Other
    values: the k1 k2 distinct pairs of values, weighted by c1 c2.
    """
    whole = bool(np.all(v1 == np.round(v1)) and np.all(v2 == np.round(v2)))
    span1, span2 = int(v1[-1] - v1[0]) + 1 if whole else 0, int(v2[-1] - v2[0]) + 1 if whole else 0
    if whole and span1 * span2 <= HL_MAX_CONVOLUTION:
        h1 = np.zeros(span1, dtype=np.int64)
        h2 = np.zeros(span2, dtype=np.int64)
        h1[(v1 - v1[0]).astype(np.int64)] = c1
        h2[(v2 - v2[0]).astype(np.int64)] = c2
        pairs = np.convolve(h1, h2[::-1])  # index i: difference v1[0] - v2[-1] + i
        return float(v1[0] - v2[-1]) + np.arange(pairs.size, dtype=float), pairs
    if v1.size * v2.size > HL_MAX_PAIRS_OF_VALUES:
        raise ValueError("too many distinct values for the Hodges-Lehmann shift")
    d = np.subtract.outer(v1, v2).ravel()
    w = np.multiply.outer(c1, c2).ravel()
    order = np.argsort(d, kind="stable")
    return d[order], w[order]


def _hodges_lehmann_shift(v1: np.ndarray, c1: np.ndarray, v2: np.ndarray, c2: np.ndarray,
                          ties: bool, confidence: float) -> HodgesLehmannShift:
    n1, n2 = int(c1.sum()), int(c2.sum())
    values, weights = _differences(v1, c1, v2, c2)
    cumulative = np.cumsum(weights)
    total = n1 * n2

    def ordered(k: int) -> float:  # D(k), 1-based, of the sorted n1 n2 differences
        return float(values[int(np.searchsorted(cumulative, k, side="left"))])

    estimate = ordered((total + 1) // 2) if total % 2 else (
        ordered(total // 2) + ordered(total // 2 + 1)) / 2
    alpha_half = (1 - confidence) / 2
    exact = not ties and total <= MW_EXACT_MAX_PRODUCT
    if exact:
        cdf = mann_whitney_null_cdf(min(n1, n2), max(n1, n2))
        # Tolerance so that a tail equal to alpha/2 in exact arithmetic still counts.
        c = int(np.count_nonzero(cdf <= alpha_half + 1e-12))
        achieved = float(1 - 2 * cdf[c - 1]) if c else None
    else:
        _, in1, in2 = _pooled(v1, c1, v2, c2)
        sd = _tie_sd(n1, n2, in1 + in2)
        if sd == 0:  # every value the same: every difference is 0, no spread to cover
            c, achieved = 0, None
        else:
            mu = total / 2
            c = max(0, math.floor(mu + float(stats.norm.ppf(alpha_half)) * sd + 0.5))
            achieved = float(1 - 2 * stats.norm.cdf((c - 0.5 - mu) / sd)) if c else None
    method = HL_EXACT if exact else HL_NORMAL
    if c == 0:
        return HodgesLehmannShift(estimate, None, None, method, None, confidence)
    return HodgesLehmannShift(estimate, ordered(c), ordered(total + 1 - c), method, achieved,
                              confidence)


# --- response by arm and caveats ----------------------------------------------------------


@dataclass(frozen=True)
class ArmResponse:
    first_responses: int
    first_surveyed: int
    second_responses: int
    second_surveyed: int
    fisher_p: float | None  # None when an arm surveyed nobody

    def rates(self) -> tuple[float | None, float | None]:
        return (
            self.first_responses / self.first_surveyed if self.first_surveyed else None,
            self.second_responses / self.second_surveyed if self.second_surveyed else None,
        )

    def to_contract_dict(self, first_name: str, second_name: str) -> dict[str, Any]:
        """The "arm_response" object of the issue 13 contract."""
        _distinct(first_name, second_name)
        r1, r2 = self.rates()
        return {
            "arms": {
                first_name: {"surveyed": self.first_surveyed,
                             "responses": self.first_responses, "rate": r1},
                second_name: {"surveyed": self.second_surveyed,
                              "responses": self.second_responses, "rate": r2},
            },
            "fisher": None if self.fisher_p is None
            else {"p": self.fisher_p, "method": FISHER_METHOD},
        }


def compare_response_rates(
    first_responses: int, first_surveyed: int, second_responses: int, second_surveyed: int
) -> ArmResponse:
    """Response rate per arm (people who answered the follow-up of those surveyed) and
    Fisher's exact test of answered x arm."""
    r1, s1, r2, s2 = (_count(c) for c in (first_responses, first_surveyed, second_responses,
                                          second_surveyed))
    if r1 > s1 or r2 > s2:
        raise ValueError("need responses <= surveyed in each arm")
    p = None
    if s1 and s2:
        p = min(1.0, float(stats.fisher_exact([[r1, s1 - r1], [r2, s2 - r2]]).pvalue))
    return ArmResponse(r1, s1, r2, s2, p)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def comparison_caveats(
    comparison: BinaryComparison | ScaleComparison,
    *,
    first_arm: str,
    second_arm: str,
    baseline: BinaryComparison | ScaleComparison | None = None,
    indicative_below: int = INDICATIVE_BELOW,
    alpha: float = ALPHA,
) -> tuple[Caveat, ...]:
    """Caveats for one measure's comparison of the arms, most fundamental first.

    `baseline` is the same comparison made on the arms' baselines (the pairs analysed), for
    a measure with a baseline; a difference there (p < alpha) is reported with both arms'
    means (scale, Mann-Whitney p) or shares (yes/no, Fisher p).
    """
    out: list[Caveat] = []
    arms = ((first_arm, comparison.first.n), (second_arm, comparison.second.n))
    out += [Caveat("arm_without_answers", {"arm": arm}) for arm, n in arms if n == 0]
    out += [Caveat("small_arm", {"arm": arm, "n": n}) for arm, n in arms
            if 0 < n < indicative_below]
    if baseline is not None:
        out += _baseline_caveats(baseline, first_arm, second_arm, alpha)
    if isinstance(comparison, BinaryComparison):
        rr = comparison.risk_ratio
        if rr is not None and rr.estimate is None:
            out.append(Caveat("risk_ratio_not_estimable", {"arm": second_arm}))
        return tuple(out)
    md, hl, mw = comparison.mean_difference, comparison.hodges_lehmann, comparison.mann_whitney
    if md is not None and md.ci_low is None:
        out.append(Caveat("comparison_no_mean_interval"))
    if hl is not None and hl.ci_low is None:
        level = _number(float(half_up(100 * comparison.confidence, 1) or 0))
        out.append(Caveat("comparison_no_hodges_lehmann_interval", {
            "first_arm": first_arm, "first_n": comparison.first.n,
            "second_arm": second_arm, "second_n": comparison.second.n, "level": level,
        }))
    if mw is not None and mw.method == "asymptotic" and mw.ties:
        out.append(Caveat("mann_whitney_ties_asymptotic"))
    return tuple(out)


def _baseline_caveats(baseline: BinaryComparison | ScaleComparison, first_arm: str,
                      second_arm: str, alpha: float) -> list[Caveat]:
    if isinstance(baseline, BinaryComparison):
        if baseline.fisher_p is None or baseline.fisher_p >= alpha:
            return []
        return [Caveat("baseline_differs_binary", {
            "first_arm": first_arm,
            "first_percent": percent_half_up(baseline.first.better, baseline.first.n),
            "second_arm": second_arm,
            "second_percent": percent_half_up(baseline.second.better, baseline.second.n),
            "p": significant(baseline.fisher_p, 2),
        })]
    mw = baseline.mann_whitney
    if mw is None or mw.p >= alpha:
        return []
    return [Caveat("baseline_differs", {
        "first_arm": first_arm, "first_mean": places(baseline.first.mean, 1),
        "second_arm": second_arm, "second_mean": places(baseline.second.mean, 1),
        "p": significant(mw.p, 2),
    })]


def study_comparison_caveats(
    *,
    randomised: bool,
    response: ArmResponse | None,
    first_arm: str,
    second_arm: str,
    alpha: float = ALPHA,
) -> tuple[Caveat, ...]:
    """Caveats for the comparison as a whole: selection unless the arms were allocated at
    random, and response rates that differ by arm (Fisher p < alpha)."""
    out: list[Caveat] = []
    if not randomised:
        out.append(Caveat("not_randomised", {"first_arm": first_arm, "second_arm": second_arm}))
    if response is not None and response.fisher_p is not None and response.fisher_p < alpha:
        out.append(Caveat("response_rates_differ", {
            "first_arm": first_arm,
            "first_rate": percent_half_up(response.first_responses, response.first_surveyed),
            "second_arm": second_arm,
            "second_rate": percent_half_up(response.second_responses, response.second_surveyed),
            "p": significant(response.fisher_p, 2),
        }))
    return tuple(out)
