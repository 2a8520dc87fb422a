"""Properties of paired_change that must hold for any data."""

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import paired_change

score = st.one_of(st.none(), st.integers(0, 10))
pairs = st.lists(st.tuples(score, score), max_size=14)


def split(data):
    return [b for b, _ in data], [f for _, f in data]


@settings(max_examples=80, deadline=None)
@given(pairs)
def test_counts_add_up(data):
    result = paired_change(*split(data))
    assert result.improved + result.same + result.deteriorated == result.n
    assert result.n + result.dropped == len(data)
    assert result.wilcoxon.n_nonzero == result.improved + result.deteriorated


@settings(max_examples=80, deadline=None)
@given(pairs)
def test_intervals_contain_their_estimates_and_p_values_are_probabilities(data):
    result = paired_change(*split(data))
    if result.n:
        assert result.improved_ci.low <= result.improved / result.n <= result.improved_ci.high
        share = result.deteriorated / result.n
        assert result.deteriorated_ci.low <= share <= result.deteriorated_ci.high
        hl = result.hodges_lehmann
        if hl.interval is not None:
            assert hl.interval.low <= hl.estimate <= hl.interval.high
    if result.mean_change_ci is not None:
        ci = result.mean_change_ci
        assert ci.low - 1e-9 <= result.mean_change <= ci.high + 1e-9
    for p in (result.sign_test_p, result.wilcoxon.p):
        assert p is None or 0 <= p <= 1
    if result.rank_biserial is not None:
        assert -1 <= result.rank_biserial <= 1


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_swapping_the_occasions_mirrors_everything(data):
    base, follow = split(data)
    forward, backward = paired_change(base, follow), paired_change(follow, base)
    assert (forward.improved, forward.deteriorated) == (backward.deteriorated, backward.improved)
    assert forward.sign_test_p == backward.sign_test_p
    if forward.wilcoxon.p is not None:
        assert forward.wilcoxon.p == pytest.approx(backward.wilcoxon.p)
        assert forward.rank_biserial == pytest.approx(-backward.rank_biserial)
    if forward.mean_change is not None:
        assert forward.mean_change == pytest.approx(-backward.mean_change)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=9))
def test_wilcoxon_p_matches_enumeration_when_tied(changes):
    result = paired_change([5] * len(changes), [5 + c for c in changes])
    nonzero = [c for c in changes if c]
    if not nonzero or not result.wilcoxon.ties:
        return
    # Average ranks of |d| by hand, then every sign pattern.
    magnitudes = sorted(abs(c) for c in nonzero)
    rank = {
        m: (magnitudes.index(m) + 1 + len(magnitudes) - magnitudes[::-1].index(m)) / 2
        for m in magnitudes
    }
    ranks = [rank[abs(c)] for c in nonzero]
    observed = sum(r for r, c in zip(ranks, nonzero, strict=True) if c > 0)
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s)
        for signs in product((0, 1), repeat=len(ranks))
    ]
    low = sum(s <= observed + 1e-9 for s in sums)
    high = sum(s >= observed - 1e-9 for s in sums)
    assert result.wilcoxon.p == pytest.approx(min(1.0, 2 * min(low, high) / len(sums)))
