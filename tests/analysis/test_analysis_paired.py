"""paired_change checked against figures worked out by hand or by brute-force enumeration."""

import json
import math
from fractions import Fraction
from itertools import product

import pytest
from scipy import stats

from analysis import paired_change

# Six pairs with a tie among the absolute changes and two zero changes.
#   baseline   5  3  7  4  6  2
#   follow-up  7  3  6  6  6  5
#   change    +2  0 -1 +2  0 +3
# Zeros dropped (Wilcoxon's rule) -> +2 -1 +2 +3; |d| = 2 1 2 3
#   ranks of |d|: 1 -> 1; the two 2s share ranks 2 and 3 -> 2.5 each; 3 -> 4
#   signed ranks: +2.5 -1 +2.5 +4  =>  W+ = 9, W- = 1, total 10 = 4*5/2
SIX_BASE = [5, 3, 7, 4, 6, 2]
SIX_FOLLOW = [7, 3, 6, 6, 6, 5]


@pytest.fixture(scope="module")
def six():
    return paired_change(SIX_BASE, SIX_FOLLOW)


def test_six_pair_counts_and_centre(six):
    assert (six.n, six.improved, six.same, six.deteriorated, six.dropped) == (6, 3, 2, 1, 0)
    assert six.mean_change == pytest.approx(1.0)  # (2 + 0 - 1 + 2 + 0 + 3) / 6
    assert six.median_change == pytest.approx(1.0)  # sorted -1 0 0 2 2 3: (0 + 2) / 2


def test_six_pair_sign_test(six):
    # 3 up out of 4 non-zero: P(X <= 1) + P(X >= 3) = (1 + 4 + 4 + 1) / 16
    assert six.sign_test_p == pytest.approx(10 / 16)


def test_six_pair_wilcoxon_exact_permutation(six):
    # Sums of every subset of ranks {1, 2.5, 2.5, 4} (2**4 = 16 sign patterns):
    #   0 1 2.5 2.5 4 3.5 3.5 5 5 6.5 6.5 6 7.5 7.5 9 10
    # Observed W+ = 9: P(W+ >= 9) = 2/16, P(W+ <= 9) = 15/16, two-sided p = 2 * 2/16.
    w = six.wilcoxon
    assert (six.w_plus, six.w_minus) == (9, 1)
    assert w.statistic == 1  # SciPy reports min(W+, W-) for a two-sided test
    assert w.p == pytest.approx(0.25)
    assert w.ties and w.n_nonzero == 4
    assert w.zero_method == "wilcox"
    assert w.method == "exact"  # exact all the same: mid-ranks over all 16 sign patterns


def test_six_pair_effect_size_and_hodges_lehmann(six):
    assert six.rank_biserial == pytest.approx((9 - 1) / 10)
    # 21 Walsh averages (d_i + d_j)/2, i <= j, of -1 0 0 2 2 3, sorted:
    #  -1 -.5 -.5 0 0 0 .5 .5 1 1 1 1 1 1.5 1.5 2 2 2 2.5 2.5 3 ; the 11th is 1.
    # n = 6: P(W+ <= 0) = 1/64 <= 0.025 < P(W+ <= 1) = 2/64, so c = 1: [A(1), A(21)].
    hl = six.hodges_lehmann
    assert hl.estimate == 1
    assert (hl.interval.low, hl.interval.high) == (-1, 3)
    assert hl.achieved_confidence == pytest.approx(1 - 2 / 64)


def test_six_pair_mean_interval(six):
    # sd**2 = (1 + 1 + 4 + 1 + 1 + 4) / 5 = 2.4; se = sqrt(2.4 / 6); t(5, 0.975) = 2.5706 (tables)
    half = 2.570582 * math.sqrt(2.4 / 6)
    assert six.mean_change_ci.low == pytest.approx(1 - half, abs=1e-5)
    assert six.mean_change_ci.high == pytest.approx(1 + half, abs=1e-5)


def test_six_pair_wilson_interval(six):
    z = 1.959964
    n, p = 6, 3 / 6
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert six.improved_ci.low == pytest.approx(centre - half, abs=1e-6)
    assert six.improved_ci.high == pytest.approx(centre + half, abs=1e-6)
    assert six.improved_ci.method == "wilson"


# Shaped like the published wave-2 work ability figures: 28 pairs, 5 higher, 15 same, 8 lower.
UP = [1, 1, 2, 1, 3]
DOWN = [-1, -1, -2, -1, -3, -2, -1, -4]
BASE_28 = [5] * 28
FOLLOW_28 = [5 + c for c in UP + DOWN] + [5] * 15


@pytest.fixture(scope="module")
def published():
    return paired_change(BASE_28, FOLLOW_28)


def test_published_shape_counts(published):
    assert (published.n, published.improved, published.same, published.deteriorated) == (
        28,
        5,
        15,
        8,
    )
    assert published.mean_change == pytest.approx((8 - 15) / 28)
    assert published.median_change == 0


def test_published_shape_sign_test_matches_binomial_sum(published):
    # Two-sided: 2 * P(X <= 5), X ~ Bin(13, 1/2)
    tail = sum(math.comb(13, i) for i in range(6))
    assert tail == 2380
    assert published.sign_test_p == pytest.approx(2 * tail / 2**13)  # 0.581


def test_published_shape_wilcoxon_by_enumeration(published):
    # |d|: seven 1s (ranks 1-7, mean 4), three 2s (8-10, mean 9), two 3s (11-12, 11.5), one 4 (13)
    # W+ = 3*4 + 9 + 11.5 = 32.5 ; W- = 4*4 + 2*9 + 11.5 + 13 = 58.5 ; total 91 = 13*14/2
    assert (published.w_plus, published.w_minus) == (32.5, 58.5)
    ranks = [4] * 7 + [9] * 3 + [11.5] * 2 + [13]
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s)
        for signs in product((0, 1), repeat=13)
    ]
    low = sum(s <= 32.5 for s in sums)
    high = sum(s >= 32.5 for s in sums)
    expected = min(1.0, 2 * min(low, high) / 2**13)
    w = published.wilcoxon
    assert w.p == pytest.approx(expected, abs=1e-12)
    assert w.method == "exact"
    assert published.rank_biserial == pytest.approx(-26 / 91)


def test_published_shape_p_recomputes_with_scipy_wilcoxon(published):
    changes = [f - b for b, f in zip(BASE_28, FOLLOW_28, strict=True) if f != b]
    res = stats.wilcoxon(changes, **published.wilcoxon.scipy_kwargs())
    assert res.pvalue == pytest.approx(published.wilcoxon.p, abs=1e-12)
    assert res.statistic == published.wilcoxon.statistic


def test_contract_dict_keys_at_full_precision(published):
    out = published.to_contract_dict()
    for key in ("n", "improved", "same", "deteriorated", "mean_change", "median_change"):
        assert key in out
    assert out["mean_change"] == -0.25
    assert out["sign_test"]["p"] == 4760 / 8192  # unrounded (contracts.md section 6)
    assert out["improved_share"]["share"] == 5 / 28
    assert out["improved_share"]["ci_low"] == published.improved_ci.low
    assert {"p", "statistic", "zero_method", "method"} <= set(out["wilcoxon"])
    assert out["wilcoxon"]["zero_method"] == "wilcox"
    assert out["wilcoxon"]["method"] == "exact" and out["wilcoxon"]["exact"] is True
    assert "caveats" not in out
    json.dumps(out)  # plain JSON types only


def test_untied_changes_use_scipy_exact():
    # Hollander & Wolfe / R's wilcox.test example: d = x - y for nine patients.
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    result = paired_change(y, x)
    # |d| ranks 1..9 untied; positive changes carry ranks 1,4,5,6,7,8,9 -> W+ = 40, W- = 5.
    # Subsets of {1..9} with sum <= 5: {} {1} {2} {3} {1,2} {4} {1,3} {5} {1,4} {2,3} = 10,
    # so the two-sided exact p is 2 * 10 / 512.
    assert (result.w_plus, result.w_minus) == (pytest.approx(40), pytest.approx(5))
    assert result.wilcoxon.method == "exact" and not result.wilcoxon.ties
    assert result.wilcoxon.p == pytest.approx(20 / 512)
    assert result.wilcoxon.scipy_kwargs()["method"] == "exact"


def test_none_pairs_dropped_and_counted():
    result = paired_change([5, None, 4, 7, None], [6, 3, None, 7, None])
    assert (result.n, result.dropped, result.improved, result.same) == (2, 3, 1, 1)


def test_all_zero_changes_give_null_tests():
    result = paired_change([4, 5, 6], [4, 5, 6])
    assert (result.n, result.same) == (3, 3)
    assert result.sign_test_p is None
    assert result.wilcoxon.p is None and result.wilcoxon.statistic is None
    assert result.rank_biserial is None
    out = result.to_contract_dict()
    assert out["sign_test"]["p"] is None and out["wilcoxon"]["p"] is None
    assert out["wilcoxon"]["zero_method"] == "wilcox"


def test_single_pair():
    result = paired_change([4], [6])
    assert (result.n, result.improved, result.mean_change, result.median_change) == (1, 1, 2, 2)
    assert result.sign_test_p == pytest.approx(1.0)  # P(X >= 1) + P(X <= 0) for Bin(1, 1/2)
    assert result.wilcoxon.p == pytest.approx(1.0) and result.wilcoxon.method == "exact"
    assert result.mean_change_ci is None  # no spread from one pair
    assert result.hodges_lehmann.estimate == 2 and result.hodges_lehmann.interval is None
    assert result.rank_biserial == 1


def test_no_pairs():
    result = paired_change([None, 3], [2, None])
    assert (result.n, result.dropped) == (0, 2)
    assert result.mean_change is None and result.median_change is None
    assert result.improved_ci is None and result.hodges_lehmann is None
    out = result.to_contract_dict()
    assert out["mean_change"] is None and out["improved_share"]["share"] is None
    json.dumps(out)


def test_reliable_change_counts():
    # changes: +3 +2 -2 -3 +1 0 with a threshold of 2 points
    result = paired_change([1, 1, 5, 5, 4, 4], [4, 3, 3, 2, 5, 4], reliable_change=2)
    assert (result.reliably_improved, result.reliably_deteriorated) == (2, 2)
    assert result.to_contract_dict()["reliable_change"]["threshold"] == 2


def test_reliable_change_must_be_positive():
    with pytest.raises(ValueError):
        paired_change([1], [2], reliable_change=0)


def test_lengths_must_match():
    with pytest.raises(ValueError):
        paired_change([1, 2], [1])


def test_clopper_pearson_zero_successes():
    # k = 0: upper limit 1 - (alpha/2)**(1/n), lower limit 0
    result = paired_change([5] * 10, [5] * 10, proportion_method="exact")
    assert result.improved_ci.low == 0
    assert result.improved_ci.high == pytest.approx(1 - 0.025 ** (1 / 10))


def test_extreme_baselines_counted():
    result = paired_change([0, 1, 2, 8, 9, 10], [1, 1, 2, 8, 9, 9])
    assert result.extreme_baselines == 4


def test_methods_name_every_statistic(published):
    assert set(published.methods) >= {
        "sign_test",
        "wilcoxon",
        "share_ci",
        "mean_change_ci",
        "hodges_lehmann",
        "rank_biserial",
    }
    assert "method exact" in published.methods["wilcoxon"]
    assert "mid-" in published.methods["wilcoxon"]


def test_exact_arithmetic_of_sign_test_for_several_splits():
    for up, down in [(0, 4), (1, 6), (7, 7), (2, 11)]:
        k, n = min(up, down), up + down
        tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)
        expected = min(Fraction(1), 2 * tail)
        result = paired_change([5] * n, [6] * up + [4] * down)
        assert result.sign_test_p == pytest.approx(float(expected))
