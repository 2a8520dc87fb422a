"""Edge cases of issue 11 (independent statistics audit), against values computed in base R
by tests/analysis/reference/reference.R (output in reference.out beside it) and against
brute-force enumeration in Python here. R is not needed to run these tests."""

from decimal import Decimal
from fractions import Fraction
from itertools import combinations, product

import numpy as np
import pytest
from scipy import stats

from analysis import attrition_check, english, paired_caveats, paired_change, wilcoxon_test
from analysis.rounding import half_up, places, significant

D15 = [1, 1, 1, 2, 2, 2, 3, 3, -1, 4, 4, 5, 1, 2, 3]
D16 = [*D15, 2]  # one more pair in the same direction
# From reference.R:
R_SIGNED_RANK = {"d15": 0.0003662109375, "d16": 0.00018310546875, "six": 0.25}
R_UNTIED_EXACT = 0.000482559204101562  # wilcox.test(untied, exact = TRUE)
UNTIED = [3, -1, 4, 15, 9, -2, 6, 5, 35, 8, 97, 93, 23, 84, -62, 64, 33, 27, 95, 28]
R_MANN_WHITNEY = {
    ((5, 6, 6, 7, 8), (4, 5, 5, 6, 3)): 0.0793650793650794,
    ((5,), (5, 5, 6)): 1.0,
    ((2,), (5, 5, 6, 6, 7)): 0.333333333333333,
    ((1, 2, 2, 3), (2, 3, 3, 4, 4, 4, 5)): 0.0606060606060606,
    ((1, 2, 3), (4, 5, 6, 7)): 0.0571428571428571,  # wilcox.test, exact (no ties)
}
R_BINOM_5_OF_13 = 0.5810546875
R_T_1_3 = (-10.7062047361747, 14.7062047361747)


def brute_signed_rank(d):
    """Two-sided p over all 2**k sign patterns, mid-ranks for ties (vectorised)."""
    d = np.array([v for v in d if v], dtype=float)
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    signs = np.array(list(product((0, 1), repeat=d.size)), dtype=float)
    null = signs @ ranks
    centre = d.size * (d.size + 1) / 4
    return float(np.mean(np.abs(null - centre) >= abs(observed - centre) - 1e-9))


def brute_mann_whitney(x, y):
    pool = list(x) + list(y)
    ranks = stats.rankdata(pool)
    n1, n2 = len(x), len(y)
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    us = [sum(ranks[i] for i in s) - n1 * (n1 + 1) / 2 for s in combinations(range(len(pool)), n1)]
    return float(np.mean([abs(v - n1 * n2 / 2) >= abs(u - n1 * n2 / 2) - 1e-9 for v in us]))


def test_wilcoxon_past_15_changes_is_exact_and_monotone():
    p15, p16 = wilcoxon_test(D15), wilcoxon_test(D16)
    assert p16.method == "exact" and p16.ties and p16.n_nonzero == 16
    assert p15.p == pytest.approx(R_SIGNED_RANK["d15"], rel=1e-9)
    assert p16.p == pytest.approx(R_SIGNED_RANK["d16"], rel=1e-9)
    assert p16.p == pytest.approx(brute_signed_rank(D16), rel=1e-9)
    assert p16.p < p15.p  # one more pair in the same direction: more evidence, smaller p


def test_wilcoxon_exact_from_counts_matches_listing():
    base = [5] * len(D16)
    follow = [5 + d for d in D16]
    result = paired_change(base, follow)
    assert result.wilcoxon.p == pytest.approx(R_SIGNED_RANK["d16"], rel=1e-9)
    contract = result.to_contract_dict()["wilcoxon"]
    assert contract["method"] == "exact" and contract["zero_method"] == "wilcox"
    assert contract["exact"] is True and "mid-" in contract["null_distribution"]


def test_wilcoxon_untied_matches_r_and_scipy_exact():
    res = wilcoxon_test(UNTIED)
    assert res.method == "exact" and not res.ties
    assert res.p == pytest.approx(R_UNTIED_EXACT, rel=1e-9)
    assert stats.wilcoxon(UNTIED, method="exact").pvalue == pytest.approx(res.p, rel=1e-9)


def test_wilcoxon_six_pairs_with_ties_matches_r():
    assert wilcoxon_test([2, 0, -1, 2, 0, 3]).p == pytest.approx(R_SIGNED_RANK["six"])


def test_wilcoxon_goes_asymptotic_only_past_the_limit():
    d = [(-1) ** i * (1 + i % 5) for i in range(401)] + [1] * 40
    res = wilcoxon_test(d)
    assert res.method == "asymptotic" and res.correction
    assert stats.wilcoxon(d, **res.scipy_kwargs()).pvalue == pytest.approx(res.p)
    small = wilcoxon_test(d[:400], max_exact_nonzero=400)
    assert small.method == "exact"


@pytest.mark.parametrize(("groups", "expected"), list(R_MANN_WHITNEY.items()))
def test_attrition_p_matches_r_and_enumeration(groups, expected):
    x, y = groups
    check = attrition_check(list(x), list(y))
    assert check.exact and check.method == "exact"
    assert check.p == pytest.approx(expected, rel=1e-9)
    assert check.p == pytest.approx(brute_mann_whitney(x, y), rel=1e-9)


def test_attrition_group_of_one_with_ties_does_not_crash():
    # SciPy's permutation Mann-Whitney raised ValueError here and took the report down.
    check = attrition_check([5, None], [5, 5, 6])
    assert check.p == pytest.approx(1.0) and check.statistic == 1.0
    assert not check.may_bias and check.caveats() == ()


def test_attrition_empty_group_says_the_check_could_not_be_made():
    check = attrition_check([None], [4, 5])
    assert check.p is None and check.untested == "attrition_no_responders"
    (caveat,) = check.caveats()
    assert "could not be checked" in english(caveat)
    (caveat,) = attrition_check([4, 5], []).caveats()
    assert caveat.code == "attrition_no_non_responders"


def test_attrition_monte_carlo_cannot_flip_the_flag():
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 11, 40).tolist(), rng.integers(1, 11, 300).tolist()
    check = attrition_check(x, y)
    assert not check.exact and check.method == "Monte Carlo"
    assert check.n_resamples >= 50_000 and check.standard_error is not None
    assert abs(check.p - 0.05) >= 4 * check.standard_error or check.n_resamples >= 2_000_000
    assert "standard error" in check.method_text
    exact = attrition_check(x, y, exact_budget=10**10)
    assert abs(check.p - exact.p) <= 5 * check.standard_error


def test_sign_test_and_t_interval_match_r():
    result = paired_change([5] * 13, [6] * 5 + [4] * 8)
    assert result.sign_test_p == pytest.approx(R_BINOM_5_OF_13)
    two = paired_change([0, 0], [1, 3])
    assert (two.mean_change_ci.low, two.mean_change_ci.high) == pytest.approx(R_T_1_3)


def codes(caveats):
    return [c.code for c in caveats]


def test_one_pair_caveats_are_grammatical_and_say_why_figures_are_missing():
    result = paired_change([4], [6])
    assert result.mean_change_ci is None and result.hodges_lehmann.interval is None
    caveats = paired_caveats(result, linked=1, responses=5)
    text = " ".join(english(c) for c in caveats)
    assert "Based on 1 matched pair: indicative only" in text
    assert "4 of the 5 responses could not be matched to an earlier score and are not" in text
    assert "no_mean_interval" in codes(caveats)
    assert "With 1 matched pair no 95% interval" in text
    one_unlinked = paired_caveats(paired_change([4, 5], [6, 6]), linked=4, responses=5)
    assert "1 of the 5 responses could not be matched to an earlier score and is not included" \
        in " ".join(english(c) for c in one_unlinked)


@pytest.mark.parametrize("n", [2, 5])
def test_hodges_lehmann_interval_missing_up_to_five_pairs_is_explained(n):
    result = paired_change([3] * n, [4 + i for i in range(n)])
    assert result.hodges_lehmann.interval is None
    caveat = next(c for c in paired_caveats(result, linked=n, responses=n)
                  if c.code == "no_hodges_lehmann_interval")
    assert english(caveat).startswith(f"With {n} matched pairs no 95% interval")
    six = paired_change([3] * 6, [4 + i for i in range(6)])
    assert "no_hodges_lehmann_interval" not in codes(paired_caveats(six, linked=6, responses=6))


def test_no_nonzero_change_explains_every_missing_statistic():
    result = paired_change([3, 4, 5], [3, 4, 5])
    assert result.rank_biserial is None and result.sign_test_p is None
    (caveat,) = [c for c in paired_caveats(result, linked=3, responses=3)
                 if c.code == "no_nonzero_changes"]
    assert "rank-biserial" in english(caveat)
    one_same = paired_caveats(paired_change([3, 4], [3, 6]), linked=2, responses=2)
    assert "1 of the 2 matched respondents gave the same score both times; as is usual, this " \
        "respondent is left out" in " ".join(english(c) for c in one_same)


def test_half_up_rounds_once_from_the_exact_value():
    # 413 of 2000 is 20.65 per cent: half-up gives 20.7 (binary floats gave 20.6).
    assert half_up(Fraction(100 * 413, 2000), 1) == Decimal("20.7")
    assert places(100 * 413 / 2000, 1) == 20.7
    assert f"{100 * 413 / 2000:.1f}" == "20.6"  # the old, half-even-on-binary display
    # Double rounding: 0.206449 -> 0.2064 (4 places) is fine, but 0.20645 -> 0.2065 -> 20.6
    assert places(100 * 0.20645, 1) == 20.6  # rounded once from the full value
    assert places(-0.125) == -0.13 and places(0.145) == 0.15  # means on exact .xx5
    assert significant(0.0625, 2) == 0.063 and significant(0.000012345) == 0.00001235
    assert places(-0.001) == 0.0 and str(places(-0.001)) == "0.0"
