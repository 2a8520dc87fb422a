"""Comparison groups (issue 13): the first arm against the second, checked against published
worked examples, brute-force enumeration, SciPy on the listed values, and an independent
base-R computation (reference/reference.R, its output kept in reference.out)."""

import json
import math
import shutil
import string
import subprocess
from collections import Counter
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis import CAVEAT_TEMPLATES, english
from analysis.arms import (
    COMPARISON_CAVEAT_CODES,
    HL_EXACT,
    HL_NORMAL,
    compare_binary,
    compare_response_rates,
    compare_scale_from_counts,
    comparison_caveats,
    koopman_score,
    mann_whitney_null_cdf,
    study_comparison_caveats,
)
from analysis.caveats import Plural, template

REFERENCE = Path(__file__).parent / "reference"
R_SCRIPT = REFERENCE / "reference.R"
R_OUTPUT = REFERENCE / "reference.out"
# As in reference.R: (first_better, first_n, second_better, second_n).
BINARY_TABLES = {
    "newcombe": (56, 70, 48, 80),
    "working_links": (79, 330, 44, 330),
    "koopman": (36, 40, 16, 80),
    "small": (3, 10, 1, 12),
    "zero_first": (0, 10, 4, 12),
    "zero_second": (5, 8, 0, 9),
    "all_better": (10, 10, 12, 12),
    "first_full": (20, 20, 5, 10),
    "sparse": (7, 34, 1, 34),
    "large": (2500, 5000, 2400, 5000),
}
TWO_SAMPLES = {
    "hollander_wolfe": (
        [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
        [1.15, 0.88, 0.90, 0.74, 1.21],
    ),
    "residues": ([7 * i % 101 for i in range(1, 31)], [7 * i % 101 for i in range(31, 71)]),
    "shifted": ([12, 15, 3, 22, 8, 19, 25, 30], [1, 4, 9, 2, 14, 6, 11]),
}
TIED = ([3, 5, 5, 6, 7, 7, 7, 9, 10, 4, 6, 6], [2, 4, 4, 5, 5, 6, 3, 3, 7])


def read_reference(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" = ")
        values[name] = float(value)
    return values


R = read_reference(R_OUTPUT.read_text(encoding="utf-8"))


def scale(x, y, **kwargs):
    return compare_scale_from_counts(Counter(x), Counter(y), **kwargs)


# --- Fisher --------------------------------------------------------------------------------


def brute_fisher(x1: int, n1: int, x2: int, n2: int) -> Fraction:
    """Two-sided p: every table with the same margins no more probable than the one seen."""
    k, total = x1 + x2, n1 + n2

    def prob(a: int) -> Fraction:
        return Fraction(math.comb(n1, a) * math.comb(n2, k - a), math.comb(total, k))

    seen = prob(x1)
    tables = range(max(0, k - n2), min(k, n1) + 1)
    return sum((prob(a) for a in tables if prob(a) <= seen * (1 + Fraction(1, 10**7))),
               Fraction(0))


def test_fisher_matches_hypergeometric_enumeration():
    tables = [(x1, n1, x2, n2) for n1 in (1, 2, 7) for n2 in (1, 3, 6)
              for x1 in range(n1 + 1) for x2 in range(n2 + 1)]
    tables += [(79, 330, 44, 330), (0, 40, 0, 25), (40, 40, 25, 25), (0, 30, 30, 30)]
    for table in tables:
        p = compare_binary(*table).fisher_p
        assert p == pytest.approx(float(brute_fisher(*table)), rel=1e-9, abs=1e-15), table


# --- risk difference and ratio ----------------------------------------------------------------


def test_risk_difference_reproduces_newcombes_worked_example():
    # Newcombe (1998) 56/70 against 48/80: method 10 gives 0.0524 to 0.3339.
    rd = compare_binary(56, 70, 48, 80).risk_difference
    assert rd.method == "newcombe-hybrid-score"
    assert (round(rd.ci_low, 4), round(rd.ci_high, 4)) == (0.0524, 0.3339)


def test_risk_ratio_reproduces_koopmans_example():
    # Koopman (1984): 36/40 against 16/80, ratio 4.5, 95% score interval 2.94 to 7.15.
    rr = compare_binary(36, 40, 16, 80).risk_ratio
    assert rr.estimate == 4.5 and rr.method == "koopman-score"
    assert (round(rr.ci_low, 2), round(rr.ci_high, 2)) == (2.94, 7.15)


@pytest.mark.parametrize("name", sorted(BINARY_TABLES))
def test_binary_comparison_matches_r(name):
    x1, n1, x2, n2 = BINARY_TABLES[name]
    out = compare_binary(x1, n1, x2, n2).to_contract_dict("a", "b")
    json.dumps(out, allow_nan=False)  # never inf or NaN
    rd, rr = out["risk_difference"], out["risk_ratio"]
    assert rd["estimate"] == pytest.approx(R[f"arms.newcombe({name}).estimate"], abs=1e-12)
    assert rd["ci_low"] == pytest.approx(R[f"arms.newcombe({name}).low"], abs=1e-9)
    assert rd["ci_high"] == pytest.approx(R[f"arms.newcombe({name}).high"], abs=1e-9)
    assert out["fisher"]["p"] == pytest.approx(R[f"arms.fisher({name})"], rel=1e-6)
    for part, key in (("low", "ci_low"), ("high", "ci_high")):
        r_name = f"arms.koopman({name}).{part}"
        if r_name in R:  # R's optimize() finds the constrained estimate to about 1e-9
            assert rr[key] == pytest.approx(R[r_name], rel=1e-7, abs=1e-9), part
        else:
            assert rr[key] is None  # infinite upper limit
    if x2:
        assert rr["estimate"] == pytest.approx((x1 / n1) / (x2 / n2))
    else:
        assert rr["estimate"] is None


def test_working_links_job_entries():
    out = compare_binary(79, 330, 44, 330).to_contract_dict("integrated", "comparison")
    assert list(out) == ["kind", "first_arm", "second_arm", "arms", "fisher",
                         "risk_difference", "risk_ratio"]
    assert out["arms"]["integrated"] == {
        "n": 330, "better": 79, "share": 79 / 330,
        "ci_low": pytest.approx(stats.binomtest(79, 330).proportion_ci(method="wilson").low),
        "ci_high": pytest.approx(stats.binomtest(79, 330).proportion_ci(method="wilson").high),
    }
    rr = out["risk_ratio"]
    assert round(rr["estimate"], 1) == 1.8  # "almost twice as likely"
    assert (round(rr["ci_low"], 3), round(rr["ci_high"], 3)) == (1.288, 2.513)
    assert rr["confidence"] == 0.95 and set(rr) == set(out["risk_difference"])
    assert out["fisher"] == {"p": pytest.approx(0.000636840673492515, rel=1e-9),
                             "method": "two-sided"}


@pytest.mark.parametrize("table", [(3, 10, 1, 12), (0, 10, 4, 12), (5, 8, 0, 9), (20, 20, 5, 10),
                                   (79, 330, 44, 330), (1, 1, 1, 2)])
def test_koopman_limits_sit_where_the_score_statistic_reaches_the_critical_value(table):
    rr = compare_binary(*table, confidence=0.9).risk_ratio
    crit = stats.chi2.ppf(0.9, 1)
    for limit in (rr.ci_low, rr.ci_high):
        if limit:  # 0 and None are the open ends
            assert koopman_score(limit, *table) == pytest.approx(crit, rel=1e-8)
    inside = [v for v in (rr.ci_low, rr.ci_high) if v]
    assert all(koopman_score(v * 0.999, *table) < crit or v == rr.ci_low for v in inside)


def test_risk_ratio_when_everyone_is_at_the_better_value_has_a_closed_form():
    # Then only one arm's term is non-zero: phi from n1/(n1 + chi2) to (n2 + chi2)/n2.
    chi2 = stats.chi2.ppf(0.95, 1)
    rr = compare_binary(10, 10, 12, 12).risk_ratio
    assert rr.estimate == 1.0
    assert rr.ci_low == pytest.approx(10 / (10 + chi2), rel=1e-10)
    assert rr.ci_high == pytest.approx((12 + chi2) / 12, rel=1e-10)


@pytest.mark.parametrize("table", [(0, 5, 0, 7), (0, 0, 3, 4), (4, 4, 0, 0), (0, 0, 0, 0),
                                   (5, 8, 0, 9), (0, 9, 5, 8), (1, 1, 0, 1)])
def test_zero_cells_and_empty_arms_stay_json_safe(table):
    result = compare_binary(*table)
    out = result.to_contract_dict("a", "b")
    json.dumps(out, allow_nan=False)
    if 0 in (table[1], table[3]):
        assert out["fisher"] is None and out["risk_difference"] is None
        assert out["risk_ratio"] is None
        empty = "a" if table[1] == 0 else "b"
        assert out["arms"][empty]["share"] is None and out["arms"][empty]["ci_low"] is None
    elif table[2] == 0:
        assert out["risk_ratio"]["estimate"] is None and out["risk_ratio"]["ci_high"] is None


def test_bad_binary_input_is_refused():
    for bad in [(5, 4, 1, 3), (-1, 4, 1, 3), (1.5, 4, 1, 3), (True, 4, 1, 3)]:
        with pytest.raises(ValueError):
            compare_binary(*bad)
    with pytest.raises(ValueError):
        compare_binary(1, 2, 1, 2).to_contract_dict("same", "same")


# --- Mann-Whitney ----------------------------------------------------------------------------


def test_mann_whitney_equals_scipy_on_the_listed_values():
    rng = np.random.default_rng(13)
    methods = set()
    for trial in range(150):
        n1, n2 = (int(v) for v in rng.integers(1, 45, 2))
        if trial % 3 == 0:  # untied: exact where affordable
            pool = rng.permutation(300)[: n1 + n2] * 0.5
            x, y = pool[:n1].tolist(), pool[n1:].tolist()
        else:
            x = rng.integers(0, 11, n1).tolist()
            y = rng.integers(0, 4 + trial % 8, n2).tolist()
        mw = scale(x, y).mann_whitney
        methods.add(mw.method)
        ref = stats.mannwhitneyu(x, y, method=mw.method, use_continuity=True,
                                 alternative="two-sided")
        assert mw.p == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-12), (x, y)
        assert mw.statistic == ref.statistic
        tied = len(set(x) | set(y)) < n1 + n2
        assert mw.method == ("asymptotic" if tied or n1 * n2 > 2500 else "exact")
    assert methods == {"exact", "asymptotic"}


@pytest.mark.parametrize("name", sorted(TWO_SAMPLES))
def test_untied_comparison_matches_r_wilcox_test_and_t_test(name):
    x, y = TWO_SAMPLES[name]
    out = scale(x, y).to_contract_dict("first", "second")
    mw, hl, md = out["mann_whitney"], out["hodges_lehmann"], out["mean_difference"]
    assert mw["method"] == "exact" and mw["use_continuity"] is True
    assert mw["alternative"] == "two-sided"
    assert mw["p"] == pytest.approx(R[f"arms.wilcox({name}).p"], rel=1e-9)
    assert mw["statistic"] == R[f"arms.wilcox({name}).W"]  # R's W is U of the first sample
    assert hl["method"] == HL_EXACT
    assert hl["estimate"] == pytest.approx(R[f"arms.wilcox({name}).estimate"], abs=1e-12)
    assert hl["ci_low"] == pytest.approx(R[f"arms.wilcox({name}).low"], abs=1e-12)
    assert hl["ci_high"] == pytest.approx(R[f"arms.wilcox({name}).high"], abs=1e-12)
    assert hl["achieved_confidence"] == pytest.approx(R[f"arms.wilcox({name}).achieved"])
    assert md["method"] == "welch" and md["estimate"] == pytest.approx(np.mean(x) - np.mean(y))
    assert md["ci_low"] == pytest.approx(R[f"arms.welch({name}).low"], rel=1e-9)
    assert md["ci_high"] == pytest.approx(R[f"arms.welch({name}).high"], rel=1e-9)


def test_tied_comparison_matches_r_normal_approximation_and_t_test():
    result = scale(*TIED)
    assert result.mann_whitney.method == "asymptotic" and result.mann_whitney.ties
    assert result.mann_whitney.p == pytest.approx(R["arms.wilcox(tied).p"], rel=1e-9)
    md = result.mean_difference
    assert (md.ci_low, md.ci_high) == pytest.approx(
        (R["arms.welch(tied).low"], R["arms.welch(tied).high"]), rel=1e-9)


def test_mann_whitney_null_distribution_matches_enumeration():
    for n1, n2 in [(1, 1), (2, 3), (4, 6), (5, 5), (3, 8)]:
        counts = Counter()
        for chosen in combinations(range(n1 + n2), n1):  # positions of the first sample
            counts[sum(r - i for i, r in enumerate(chosen))] += 1  # second-sample values below
        total = math.comb(n1 + n2, n1)
        expected = np.cumsum([counts[u] / total for u in range(n1 * n2 + 1)])
        assert mann_whitney_null_cdf(n1, n2) == pytest.approx(expected, abs=1e-14)


# --- Hodges-Lehmann and Welch ------------------------------------------------------------------


def brute_hodges_lehmann(x, y, confidence=0.95):
    """Every pairwise difference listed and sorted; critical value from the normal
    approximation to U with the tie-corrected variance, worked out here from scratch."""
    d = sorted(a - b for a in x for b in y)
    n1, n2 = len(x), len(y)
    n = n1 + n2
    ties = Counter(list(x) + list(y)).values()
    var = n1 * n2 / 12 * ((n + 1) - sum(t**3 - t for t in ties) / (n * (n - 1)))
    z = stats.norm.ppf((1 - confidence) / 2)
    c = math.floor(n1 * n2 / 2 + z * math.sqrt(var) + 0.5)
    estimate = float(np.median(d))
    if c <= 0:
        return estimate, None, None
    return estimate, d[c - 1], d[len(d) - c]


def test_hodges_lehmann_with_ties_matches_all_pairwise_differences():
    rng = np.random.default_rng(7)
    for trial in range(150):
        n1, n2 = (int(v) for v in rng.integers(1, 60, 2))
        x = rng.integers(0, 11, n1).tolist()
        y = (rng.integers(-3, 8, n2) + trial % 3).tolist()
        hl = scale(x, y).hodges_lehmann
        if len(set(x) | set(y)) == n1 + n2:
            continue  # untied: the exact route, checked against R
        assert hl.method == HL_NORMAL
        assert (hl.estimate, hl.ci_low, hl.ci_high) == brute_hodges_lehmann(x, y), (x, y)


def test_hodges_lehmann_exact_matches_pairwise_differences_with_the_enumerated_cdf():
    x, y = [3, 7, 12, 15, 20, 22, 31], [1, 4, 5, 9, 10, 13, 16, 2]
    hl = scale(x, y, confidence=0.9).hodges_lehmann
    d = sorted(a - b for a in x for b in y)
    cdf = mann_whitney_null_cdf(len(x), len(y))
    c = int(np.count_nonzero(cdf <= 0.05 + 1e-12))
    assert hl.method == HL_EXACT and hl.estimate == np.median(d)
    assert (hl.ci_low, hl.ci_high) == (d[c - 1], d[len(d) - c])
    assert hl.achieved_confidence == pytest.approx(1 - 2 * cdf[c - 1])


def test_too_few_values_give_no_interval_but_an_estimate():
    result = scale([1, 2, 3], [4, 5, 6, 7])  # R warns: requested conf.level not achievable
    assert result.hodges_lehmann.estimate == -3.5 and result.hodges_lehmann.ci_low is None
    one = scale([5], [3, 4, 8]).to_contract_dict("a", "b")
    assert one["mean_difference"]["estimate"] == 0 and one["mean_difference"]["ci_low"] is None
    empty = scale([], [3, 4]).to_contract_dict("a", "b")
    assert empty["mann_whitney"] is None and empty["hodges_lehmann"] is None
    assert empty["mean_difference"] is None and empty["arms"]["a"] == {
        "n": 0, "mean": None, "median": None}
    json.dumps(empty, allow_nan=False)


def test_welch_equals_scipy_ttest_interval():
    rng = np.random.default_rng(11)
    for _ in range(100):
        x = rng.integers(0, 11, int(rng.integers(2, 40))).tolist()
        y = rng.integers(2, 9, int(rng.integers(2, 40))).tolist()
        md = scale(x, y, confidence=0.9).mean_difference
        ref = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.9)
        assert (md.ci_low, md.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-10)


def test_bad_scale_input_is_refused():
    for bad in [{None: 3}, {1: -1}, {1: 0.5}, {float("nan"): 1}]:
        with pytest.raises(ValueError):
            compare_scale_from_counts(bad, {1: 1})


def test_half_a_million_per_arm_from_counts():
    first = {v: 45_000 + 4_000 * v + (v % 3) * 997 for v in range(-10, 11)}
    second = {v: 42_000 + 3_000 * v + 9_000 * (v < 0) for v in range(-10, 11)}
    x = np.repeat(list(first), list(first.values()))
    y = np.repeat(list(second), list(second.values()))
    assert x.size > 500_000 and y.size > 500_000
    result = compare_scale_from_counts(first, second)
    ref = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True,
                             alternative="two-sided")
    assert result.mann_whitney.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert result.mann_whitney.statistic == ref.statistic
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval()
    assert (result.mean_difference.ci_low, result.mean_difference.ci_high) == pytest.approx(
        (ci.low, ci.high), rel=1e-9)
    assert (result.first.median, result.second.median) == (np.median(x), np.median(y))
    # Shifting the first arm by a half takes the other route (distinct pairs of values, not a
    # convolution); the shift and its interval move by exactly the half.
    shifted = compare_scale_from_counts({v + 0.5: c for v, c in first.items()}, second)
    hl, moved = result.hodges_lehmann, shifted.hodges_lehmann
    assert (moved.estimate, moved.ci_low, moved.ci_high) == (
        hl.estimate + 0.5, hl.ci_low + 0.5, hl.ci_high + 0.5)
    # A random sample of the differences has its median close to the estimate.
    rng = np.random.default_rng(1)
    sample = rng.choice(x, 200_000) - rng.choice(y, 200_000)
    assert abs(np.median(sample) - hl.estimate) <= 1
    big = compare_binary(250_000, 500_000, 249_000, 500_000)
    assert big.risk_ratio.ci_low < 1.004016 < big.risk_ratio.ci_high


# --- response rates and caveats ------------------------------------------------------------------


def test_response_rates_by_arm():
    response = compare_response_rates(60, 100, 40, 100)
    out = response.to_contract_dict("integrated", "comparison")
    assert out["arms"]["comparison"] == {"surveyed": 100, "responses": 40, "rate": 0.4}
    assert out["fisher"]["p"] == pytest.approx(float(brute_fisher(60, 100, 40, 100)), rel=1e-9)
    (_, caveat) = study_comparison_caveats(randomised=False, response=response,
                                           first_arm="integrated", second_arm="comparison")
    assert english(caveat) == (
        "Response rates differed between the arms (60% in integrated, 40% in comparison; "
        "Fisher's exact test p = 0.0071), so those who answered may not represent their arm "
        "equally (attrition by arm) and the comparison may be biased.")
    with pytest.raises(ValueError):
        compare_response_rates(5, 4, 1, 2)


def codes(caveats):
    return [c.code for c in caveats]


def test_study_caveats_say_selection_unless_randomised():
    even = compare_response_rates(50, 100, 48, 100)
    caveats = study_comparison_caveats(randomised=False, response=even, first_arm="integrated",
                                       second_arm="comparison")
    assert codes(caveats) == ["not_randomised"]
    assert "selection" in english(caveats[0]) and "integrated and comparison" in english(
        caveats[0])
    assert study_comparison_caveats(randomised=True, response=even, first_arm="a",
                                    second_arm="b") == ()


def test_comparison_caveats_from_the_numbers():
    small = comparison_caveats(compare_binary(5, 12, 0, 1), first_arm="a", second_arm="b")
    assert codes(small) == ["small_arm", "small_arm", "risk_ratio_not_estimable"]
    assert english(small[1]) == (
        "Only 1 answer in b: the comparison is indicative only; treat with caution.")
    assert english(small[0]).startswith("Only 12 answers in a")
    assert "Nobody in b gave the better answer" in english(small[2])
    empty = comparison_caveats(compare_binary(0, 0, 30, 40), first_arm="a", second_arm="b")
    assert codes(empty) == ["arm_without_answers"]
    tied = comparison_caveats(scale(*TIED), first_arm="a", second_arm="b")
    assert codes(tied) == ["small_arm", "small_arm", "mann_whitney_ties_asymptotic"]
    few = comparison_caveats(scale([1, 2, 3], [4]), first_arm="a", second_arm="b")
    assert "comparison_no_mean_interval" in codes(few)
    no_hl = next(c for c in few if c.code == "comparison_no_hodges_lehmann_interval")
    assert english(no_hl).startswith("With 3 answers in a and 1 in b no 95% interval")
    big = {v: 40 for v in range(11)}
    assert comparison_caveats(scale(list(range(40)), [v + 0.5 for v in range(40)]),
                              first_arm="a", second_arm="b") == ()
    assert codes(comparison_caveats(compare_scale_from_counts(big, big), first_arm="a",
                                    second_arm="b")) == ["mann_whitney_ties_asymptotic"]


def test_baseline_difference_is_reported_with_its_test():
    outcome = compare_binary(20, 40, 15, 40)
    base = compare_binary(30, 40, 12, 40)
    (caveat,) = comparison_caveats(outcome, first_arm="a", second_arm="b", baseline=base)
    assert english(caveat) == (
        "The arms already differed at the start (75% at the better answer in a, 30% in b; "
        f"Fisher's exact test p = {float(f'{base.fisher_p:.2g}')}), so part of any difference "
        "between them may come from where they started, not from the programme.")
    change = compare_scale_from_counts({1: 40, 2: 40}, {1: 40, 2: 40})
    base_scale = compare_scale_from_counts({5: 30, 6: 50}, {2: 40, 3: 40})
    caveats = comparison_caveats(change, first_arm="a", second_arm="b", baseline=base_scale)
    assert codes(caveats) == ["baseline_differs", "mann_whitney_ties_asymptotic"]
    caveat = caveats[0]
    assert english(caveat).startswith("The arms already differed at the start (mean 5.6 in a, "
                                      "2.5 in b; Mann-Whitney p = ")
    same = compare_binary(20, 40, 19, 40)
    assert comparison_caveats(outcome, first_arm="a", second_arm="b", baseline=same) == ()


def test_every_comparison_caveat_is_emitted_and_fills_its_template():
    assert isinstance(CAVEAT_TEMPLATES["small_arm"], Plural)
    scenarios = [
        comparison_caveats(compare_binary(5, 12, 0, 1), first_arm="a", second_arm="b",
                           baseline=compare_binary(12, 12, 0, 12)),
        comparison_caveats(compare_binary(0, 0, 3, 5), first_arm="a", second_arm="b"),
        comparison_caveats(scale([1, 1, 2], [4]), first_arm="a", second_arm="b",
                           baseline=scale([1] * 20, [9] * 20)),
        study_comparison_caveats(randomised=False, response=compare_response_rates(9, 10, 2, 10),
                                 first_arm="a", second_arm="b"),
    ]
    seen = set()
    for caveat in (c for caveats in scenarios for c in caveats):
        found = CAVEAT_TEMPLATES[caveat.code]
        forms = [found.singular, found.plural] if isinstance(found, Plural) else [found]
        names = {n for form in forms for _, n, _, _ in string.Formatter().parse(form) if n}
        assert names <= set(caveat.params), caveat.code
        assert "{" not in english(caveat) and template(caveat) in forms
        seen.add(caveat.code)
    assert seen == COMPARISON_CAVEAT_CODES


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_captured_r_output_is_what_the_r_script_prints():
    fresh = read_reference(subprocess.run(
        ["Rscript", str(R_SCRIPT)], capture_output=True, text=True, check=True, timeout=300
    ).stdout)
    assert fresh.keys() == R.keys()
    for name, value in R.items():
        assert fresh[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
