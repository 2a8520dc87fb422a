"""The histogram routes of analysis/ give the same numbers as the exact per-pair ones."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.intervals import (
    hodges_lehmann,
    hodges_lehmann_from_counts,
    hodges_lehmann_pairwise,
    mean_t_interval,
    mean_t_interval_from_counts,
)
from analysis.paired import median_from_counts, paired_change, paired_change_from_counts

score = st.one_of(st.none(), st.integers(0, 10))
pairs = st.lists(st.tuples(score, score), max_size=60)
changes = st.lists(st.integers(-10, 10), min_size=1, max_size=80)


def same(a, b):
    """Every field equal; interval ends from sums of floats may differ in the last bit."""
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if name == "mean_change_ci" and x is not None:
            assert (y.low, y.high) == pytest.approx((x.low, x.high), rel=1e-12, abs=1e-12)
            assert (x.confidence, x.method) == (y.confidence, y.method)
        else:
            assert x == y, name


@settings(max_examples=150, deadline=None)
@given(pairs, st.sampled_from([None, 1, 2]))
def test_paired_change_from_counts_equals_paired_change(data, threshold):
    baseline = [b for b, _ in data]
    follow = [f for _, f in data]
    same(paired_change(baseline, follow, reliable_change=threshold),
         paired_change_from_counts(Counter(data), reliable_change=threshold))


@settings(max_examples=150, deadline=None)
@given(changes, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_hodges_lehmann_by_convolution_equals_listing_walsh_averages(d, confidence):
    exact = hodges_lehmann_pairwise(d, confidence=confidence)
    assert hodges_lehmann_from_counts(Counter(d), confidence=confidence) == exact
    assert hodges_lehmann(d, confidence=confidence) == exact


def test_hodges_lehmann_beyond_the_exact_table_size():
    rng = np.random.default_rng(7)
    d = rng.integers(-4, 6, size=1500)  # normal-approximation critical value
    assert hodges_lehmann_from_counts(Counter(d.tolist())) == hodges_lehmann_pairwise(d)


def test_non_integer_changes_still_take_the_pairwise_route():
    d = [0.5, -1.25, 2.0, 3.5]
    assert hodges_lehmann(d) == hodges_lehmann_pairwise(d)


@settings(max_examples=100, deadline=None)
@given(changes)
def test_mean_interval_and_median_from_counts(d):
    exact = mean_t_interval(d)
    fast = mean_t_interval_from_counts(Counter(d))
    if exact is None:
        assert fast is None
    else:
        assert (fast.low, fast.high) == pytest.approx((exact.low, exact.high), rel=1e-12,
                                                      abs=1e-12)
    assert median_from_counts(Counter(d)) == float(np.median(d))


def test_asymptotic_wilcoxon_from_counts_matches_scipy():
    rng = np.random.default_rng(11)
    base = rng.integers(0, 11, size=4000)
    follow = np.clip(base + rng.integers(-3, 4, size=4000), 0, 10)
    result = paired_change_from_counts(Counter(zip(base.tolist(), follow.tolist(), strict=True)))
    d = (follow - base).astype(float)
    d = d[d != 0]
    expected = stats.wilcoxon(d, zero_method="wilcox", method="asymptotic", correction=True)
    assert result.wilcoxon.method == "asymptotic"
    assert result.wilcoxon.p == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert result.wilcoxon.statistic == float(expected.statistic)


def test_a_million_pairs_take_no_time_and_no_rows():
    counts = {(b, f): 8264 for b in range(11) for f in range(11)}  # 999,944 pairs
    result = paired_change_from_counts(counts)
    assert result.n == sum(counts.values())
    assert result.hodges_lehmann.estimate == 0.0
    assert result.wilcoxon.method == "asymptotic"
