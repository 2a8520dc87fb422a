"""Attrition check against exact counts of regroupings."""

from itertools import combinations

import pytest
from scipy import stats

from analysis import attrition_check, english
from analysis.attrition import P_DEFINITION


def u_statistic(x, y):
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)


def brute_two_sided(x, y):
    """Two-sided permutation p of U over every regrouping of the pooled scores: the share of
    regroupings with U at least as far from n1 n2 / 2 as the observed U (the stated definition)."""
    pooled = list(x) + list(y)
    observed = u_statistic(x, y)
    centre = len(x) * len(y) / 2
    hits = total = 0
    for chosen in combinations(range(len(pooled)), len(x)):
        gx = [pooled[i] for i in chosen]
        gy = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        hits += abs(u_statistic(gx, gy) - centre) >= abs(observed - centre) - 1e-9
        total += 1
    return hits / total


def test_no_ties_uses_exact_mann_whitney():
    # Responders all lower: U = 0, the single most extreme of C(7, 3) = 35 regroupings per tail.
    check = attrition_check([1, 2, 3], [4, 5, 6, 7])
    assert check.method == "exact" and check.exact
    assert check.statistic == 0
    assert check.p == pytest.approx(2 / 35)
    assert check.p == pytest.approx(stats.mannwhitneyu([1, 2, 3], [4, 5, 6, 7]).pvalue)
    assert (check.median_responders, check.median_non_responders) == (2, 5.5)
    assert check.may_bias  # medians 3.5 points apart


def test_ties_use_the_exact_permutation_distribution():
    responders, others = [5, 6, 6, 7, 8, None], [4, 5, 5, 6, None, 3]
    check = attrition_check(responders, others)
    assert (check.n_responders, check.n_non_responders) == (5, 5)
    assert check.exact and check.n_resamples is None and check.seed is None
    x, y = [5, 6, 6, 7, 8], [4, 5, 5, 6, 3]
    assert check.statistic == u_statistic(x, y)
    assert check.p == pytest.approx(brute_two_sided(x, y))
    assert "C(n1 + n2, n1)" in check.method_text


def test_ties_make_the_symmetric_p_differ_from_scipys_doubled_tail():
    x, y = [1, 1, 1, 2], [1, 2, 2, 2, 3]
    check = attrition_check(x, y)
    assert check.p == pytest.approx(brute_two_sided(x, y))
    assert check.p == pytest.approx(0.174603174603175)  # tests/analysis/reference/reference.R
    scipy_p = stats.mannwhitneyu(x, y, method=stats.PermutationMethod(n_resamples=126)).pvalue
    assert scipy_p == pytest.approx(34 / 126)  # SciPy doubles the smaller tail: 0.27
    assert "not SciPy's doubled smaller tail" in P_DEFINITION


def test_larger_tied_samples_are_exact_when_cheap_and_sampled_reproducibly_otherwise():
    responders = [5, 6, 7, 7, 8, 6, 5, 9, 6, 7, 8, 6, 5, 7]
    others = [4, 5, 6, 6, 5, 7, 4, 6, 5, 5, 6, 4]
    exact = attrition_check(responders, others)
    assert exact.exact and exact.method == "exact"
    first = attrition_check(responders, others, exact_budget=0)
    second = attrition_check(responders, others, exact_budget=0)
    assert not first.exact and first.seed == 20240708 and first.n_resamples >= 50_000
    assert first.p == second.p
    assert abs(first.p - exact.p) <= 5 * first.standard_error


def test_similar_groups_do_not_flag_bias():
    check = attrition_check([4, 5, 6, 5, 7], [5, 4, 6, 6, 5])
    assert check.p > 0.05 and not check.may_bias and check.caveats() == ()


def test_median_gap_alone_flags_bias():
    # Medians 6 and 5 differ by a point although the groups overlap.
    check = attrition_check([4, 6, 8], [3, 5, 9])
    assert check.p > 0.05 and check.may_bias
    (caveat,) = check.caveats()
    assert caveat.code == "attrition_may_bias"
    assert caveat.params["responder_median"] == 6.0
    assert "medians 6.0 and 5.0" in english(caveat)


def test_empty_group():
    check = attrition_check([5, 6], [None])
    assert check.p is None and check.method is None and not check.may_bias
    assert check.median_responders == 5.5 and check.median_non_responders is None
    assert [c.code for c in check.caveats()] == ["attrition_no_non_responders"]


def test_counts_give_numpys_medians_scipys_u_and_the_same_check_as_listed_scores():
    """attrition_check_counts takes {score: number} as the database groups them; its medians
    and U are checked against numpy and SciPy on the scores listed one by one."""
    import numpy as np

    from analysis import attrition_check_counts

    rng = np.random.default_rng(7)
    for trial in range(60):
        x = rng.integers(0, 11, int(rng.integers(1, 40))).tolist()
        y = (rng.integers(0, 11, int(rng.integers(1, 60))) / (2 if trial % 3 == 0 else 1)).tolist()
        counted = attrition_check_counts(
            {v: x.count(v) for v in set(x)} | {None: 3}, {v: y.count(v) for v in set(y)})
        assert counted.median_responders == float(np.median(x))
        assert counted.median_non_responders == float(np.median(y))
        assert counted.statistic == stats.mannwhitneyu(x, y).statistic
        assert counted == attrition_check([*x, None], y)


def test_counts_with_an_empty_group_are_not_tested():
    from analysis import attrition_check_counts

    check = attrition_check_counts({4: 2, None: 5}, {3: 0})
    assert (check.n_responders, check.n_non_responders, check.p) == (2, 0, None)
    assert check.median_responders == 4 and check.median_non_responders is None
    assert check.untested == "attrition_no_non_responders"
