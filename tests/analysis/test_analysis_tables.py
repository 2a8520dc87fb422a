"""Report tables: half-up percentages, frequency tables, first-to-last change, proportion CIs."""

import math

import pytest

from analysis import change_first_to_last, frequency_table, proportion_ci
from analysis.rounding import percent_half_up, places, significant


@pytest.mark.parametrize(
    ("count", "base", "expected"),
    [
        (1, 8, 13),  # 12.5 -> 13, where round() would give 12
        (1, 200, 1),  # 0.5 -> 1
        (5, 200, 3),  # 2.5 -> 3
        (79, 82, 96),  # published wave 1: honest and open
        (73, 82, 89),  # trusted the EHP
        (76, 82, 93),  # understood circumstances
        (39, 82, 48),  # outlook on work improved
        (47, 82, 57),  # likelihood of taking up support
        (33, 82, 40),  # confidence
        (29, 82, 35),  # importance
        (0, 5, 0),
        (5, 5, 100),
    ],
)
def test_percent_half_up(count, base, expected):
    assert percent_half_up(count, base) == expected


def test_percent_half_up_is_the_exact_fraction_rounded_half_up_everywhere():
    """Brute force against exact fractions, every count of every base to 400 (and a few
    negative ones): the whole-number formula never differs."""
    from fractions import Fraction

    for base in (*range(1, 401), -7, -200):
        for count in range(-3, abs(base) + 4):
            assert percent_half_up(count, base) == math.floor(
                Fraction(100 * count, base) + Fraction(1, 2)), (count, base)


def test_percent_of_empty_base_is_none():
    assert percent_half_up(0, 0) is None


def test_display_rounding():
    assert significant(0.000012345) == 0.00001235  # kept, not shown as 0; half-up
    assert significant(None) is None
    assert places(-0.001) == 0.0 and str(places(-0.001)) == "0.0"
    assert places(float("nan")) is None


def test_frequency_table_published_outlook_item():
    # "The right work can be beneficial to my health": agree 56, neither 18, disagree 8 (base 82)
    values = ["agree"] * 56 + ["neither"] * 18 + ["disagree"] * 8 + [None] * 3
    table = frequency_table(values, ["agree", "neither", "disagree"])
    assert table.base == 82 and table.missing == 3
    assert table.counts() == {"agree": 56, "neither": 18, "disagree": 8}
    assert table.percentages() == {"agree": 68, "neither": 22, "disagree": 10}


def test_frequency_table_keeps_category_order_and_empty_categories():
    table = frequency_table([2, 2, 1], [3, 2, 1])
    assert [(r.category, r.count, r.percent) for r in table.rows] == [
        (3, 0, 0),
        (2, 2, 67),
        (1, 1, 33),
    ]


def test_frequency_table_empty_base():
    table = frequency_table([None], ["a"])
    assert table.base == 0 and table.rows[0].percent is None


def test_frequency_table_rejects_unknown_values():
    with pytest.raises(ValueError):
        frequency_table(["a", "b"], ["a"])


def test_change_first_to_last_published_table():
    # Table 3.3: improved 60%, same 33%, deteriorated 7% of 201; 132 had one appointment.
    clients = (
        [[3, 5]] * 121 + [[4, None, 4]] * 66 + [[6, 5, 4]] * 14 + [[5]] * 130 + [[None, 7]] * 2
    )
    result = change_first_to_last(clients)
    assert (result.base, result.improved, result.same, result.deteriorated) == (201, 121, 66, 14)
    assert (result.improved_percent, result.same_percent, result.deteriorated_percent) == (
        60,
        33,
        7,
    )
    assert result.single_score == 132 and result.no_score == 0


def test_change_first_to_last_uses_first_and_last_scores_only():
    result = change_first_to_last({"a": [5, 9, 5], "b": [None, 2, 8, None], "c": [None], "d": []})
    assert (result.improved, result.same, result.deteriorated) == (1, 1, 0)
    assert (result.no_score, result.single_score) == (2, 0)


def test_change_first_to_last_nobody():
    result = change_first_to_last([])
    assert result.base == 0 and result.improved_percent is None


def test_proportion_ci_methods():
    # Clopper-Pearson with k = n: lower limit (alpha/2)**(1/n)
    ci = proportion_ci(10, 10, "exact")
    assert ci.high == 1 and ci.low == pytest.approx(0.025 ** (1 / 10))
    # Wilson by its formula, k = 79 of 82
    z, n, p = 1.959964, 82, 79 / 82
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    ci = proportion_ci(79, 82)
    assert (ci.low, ci.high) == (pytest.approx(centre - half), pytest.approx(centre + half))
    assert ci.method == "wilson" and ci.confidence == 0.95


def test_proportion_ci_edge_cases():
    assert proportion_ci(0, 0) is None
    with pytest.raises(ValueError):
        proportion_ci(3, 2)
    with pytest.raises(ValueError):
        proportion_ci(1, 2, "normal")
