"""Signed-rank pieces: null distribution, method choice, rank-biserial, Hodges-Lehmann."""

import math
import statistics
from itertools import combinations_with_replacement, product

import pytest
from scipy import stats

from analysis.intervals import hodges_lehmann, signed_rank_critical
from analysis.signed_rank import (
    rank_biserial,
    signed_rank_null_pmf,
    signed_ranks,
    wilcoxon_test,
)


def brute_null_counts(n):
    """Count sign patterns of ranks 1..n by their W+."""
    counts = [0] * (n * (n + 1) // 2 + 1)
    for signs in product((0, 1), repeat=n):
        counts[sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s)] += 1
    return counts


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_null_pmf_matches_enumeration(n):
    pmf = signed_rank_null_pmf(n)
    assert list(pmf * 2**n) == pytest.approx(brute_null_counts(n))


def test_wikipedia_worked_example_rank_biserial():
    # Wikipedia, "Wilcoxon signed-rank test", worked example (ten pairs, one tie at zero).
    after = [125, 115, 130, 140, 140, 115, 140, 125, 140, 135]
    before = [110, 122, 125, 120, 140, 124, 123, 137, 135, 145]
    d = [a - b for a, b in zip(after, before, strict=True)]
    # d = 15 -7 5 20 0 -9 17 -12 5 -10 ; zero dropped, nine left
    # |d| sorted 5 5 7 9 10 12 15 17 20 -> ranks 1.5 1.5 3 4 5 6 7 8 9
    # positive: 15(7) 5(1.5) 20(9) 17(8) 5(1.5) -> W+ = 27 ; negative: 7(3) 9(4) 12(6) 10(5) -> 18
    # W = W+ - W- = 9, as the article gives; rank-biserial = 9 / 45 = 0.2
    ranks = signed_ranks(d)
    assert (ranks.n_nonzero, ranks.w_plus, ranks.w_minus, ranks.has_ties) == (9, 27, 18, True)
    assert rank_biserial(ranks) == pytest.approx(0.2)


def test_rank_biserial_extremes():
    assert rank_biserial(signed_ranks([1, 2, 3])) == 1
    assert rank_biserial(signed_ranks([-1, -2, 0])) == -1
    assert rank_biserial(signed_ranks([0, 0])) is None


def test_hodges_lehmann_textbook_example():
    # Hollander & Wolfe's depression-scale data (also R's wilcox.test example), d = x - y.
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    d = [a - b for a, b in zip(x, y, strict=True)]
    walsh = sorted((a + b) / 2 for a, b in combinations_with_replacement(d, 2))
    assert len(walsh) == 45
    # n = 9: counts of W+ <= t for t = 0..6 are 1 2 3 5 7 10 14 (of 512). 10/512 <= 0.025 < 14/512,
    # so c - 1 = 5, c = 6, interval [A(6), A(40)], coverage 1 - 20/512.
    counts = brute_null_counts(9)
    assert [sum(counts[: t + 1]) for t in range(7)] == [1, 2, 3, 5, 7, 10, 14]
    hl = hodges_lehmann(d)
    assert hl.estimate == pytest.approx(statistics.median(walsh))
    assert hl.estimate == pytest.approx(0.46)  # the published (pseudo)median
    assert hl.interval.low == pytest.approx(walsh[5])  # 0.01
    assert hl.interval.high == pytest.approx(walsh[39])  # 0.786
    assert hl.achieved_confidence == pytest.approx(1 - 20 / 512)


def test_hodges_lehmann_small_n_has_no_interval():
    # n = 5: even W+ = 0 has probability 1/32 > 0.025, so no 95% interval exists.
    hl = hodges_lehmann([1, 2, 3, 4, 5])
    assert hl.estimate == 3 and hl.interval is None
    assert hodges_lehmann([]) is None


def test_asymptotic_path_matches_hand_formula():
    # 20 non-zero changes with ties, beyond a limit of 19, so normal approximation.
    d = [1, 1, 1, 2, 2, 3, -1, -1, 2, 4, -3, 1, 2, 1, -2, 5, 1, 1, 3, -1]
    res = wilcoxon_test(d, max_exact_nonzero=19)
    assert res.method == "asymptotic" and res.correction and res.ties
    ranks = signed_ranks(d)
    n = 20
    ties = [sum(1 for v in d if abs(v) == m) for m in set(map(abs, d))]
    var = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in ties) / 48
    mean = n * (n + 1) / 4
    diff = ranks.w_plus - mean
    z = (diff - math.copysign(0.5, diff)) / math.sqrt(var)
    assert res.p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert stats.wilcoxon(d, **res.scipy_kwargs()).pvalue == pytest.approx(res.p)


def test_exact_tied_path_matches_scipy_permutation_for_several_samples():
    samples = [[1, 1, -2], [2, -2, 2, 3, -1, 1, 1], [3, 3, -3, 1, 2, -1, 4, -4, 1, 1]]
    for d in samples:
        res = wilcoxon_test(d)
        assert res.method == "exact" and res.ties
        assert res.scipy_kwargs()["method"].n_resamples == 2 ** len(d)
        expected = stats.wilcoxon(d, **res.scipy_kwargs()).pvalue
        assert res.p == pytest.approx(expected, abs=1e-12)


def test_permutation_limit_is_respected():
    d = [1, 1, 2, 2, 3, 3, -1, 4]
    assert wilcoxon_test(d, max_exact_nonzero=7).method == "asymptotic"
    assert wilcoxon_test(d, max_exact_nonzero=8).method == "exact"


def test_zeros_do_not_change_the_result():
    with_zeros = wilcoxon_test([0, 2, 0, -1, 2, 3])
    without = wilcoxon_test([2, -1, 2, 3])
    assert with_zeros == without


def test_no_nonzero_changes():
    res = wilcoxon_test([0, 0, 0])
    assert res.p is None and res.method is None and res.scipy_kwargs() == {}


@pytest.mark.parametrize("n", [30, 300, 1000])
def test_normal_critical_value_agrees_with_exact(n):
    exact_c, exact_cover = signed_rank_critical(n, 0.95, exact=True)
    approx_c, approx_cover = signed_rank_critical(n, 0.95, exact=False)
    assert abs(exact_c - approx_c) <= 2  # of about n**2/4 possible ranks
    assert approx_cover == pytest.approx(exact_cover, abs=0.002)


def test_large_sample_hodges_lehmann_uses_normal_critical_value():
    d = [(-1) ** k * (k % 4) for k in range(1500)]
    hl = hodges_lehmann(d)
    assert "normal approximation" in hl.interval.method
    assert hl.interval.low <= hl.estimate <= hl.interval.high
    assert hl.achieved_confidence == pytest.approx(0.95, abs=0.001)
