"""Disclosure control, checked by an independent attacker that solves the table's equations."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    SUPPRESSED,
    recoverable,
    rule_sentence,
    suppress,
    suppress_frequencies,
)

C = SUPPRESSED


def full_grid(result):
    """Rows of cells with their row total, then the column totals and grand total."""
    grid = [[*row, total] for row, total in zip(result.cells, result.row_totals, strict=True)]
    grid.append([*result.column_totals, result.grand_total])
    return grid


def equations(n_rows, n_cols):
    """Each line as a list of ((i, j), coefficient): cells minus total equal zero."""
    lines = []
    for i in range(n_rows + 1):  # row n_rows is the line of column totals
        lines.append([((i, j), 1) for j in range(n_cols)] + [((i, n_cols), -1)])
    for j in range(n_cols + 1):  # column n_cols is the line of row totals
        lines.append([((i, j), 1) for i in range(n_rows)] + [((n_rows, j), -1)])
    return lines


def attacker_recovers(grid):
    """Positions of suppressed entries whose value follows from the shown ones (exact RREF).

    Unknown x_k is determined iff some combination of equations isolates it, i.e. in reduced
    row echelon form x_k is a pivot whose row has no free unknowns in it.
    """
    n_rows, n_cols = len(grid) - 1, len(grid[0]) - 1
    unknowns = sorted((i, j) for i, r in enumerate(grid) for j, v in enumerate(r) if v == C)
    index = {p: k for k, p in enumerate(unknowns)}
    matrix = []
    for line in equations(n_rows, n_cols):
        row = [Fraction(0)] * len(unknowns)
        for pos, coeff in line:
            if pos in index:
                row[index[pos]] += coeff
        if any(row):
            matrix.append(row)
    pivots = []
    r = 0
    for col in range(len(unknowns)):
        pivot = next((k for k in range(r, len(matrix)) if matrix[k][col] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][col]
        matrix[r] = [v / lead for v in matrix[r]]
        for k in range(len(matrix)):
            if k != r and matrix[k][col] != 0:
                factor = matrix[k][col]
                matrix[k] = [a - factor * b for a, b in zip(matrix[k], matrix[r], strict=True)]
        pivots.append(col)
        r += 1
    free = [c for c in range(len(unknowns)) if c not in pivots]
    found = set()
    for row_no, col in enumerate(pivots):
        if all(matrix[row_no][f] == 0 for f in free):
            found.add(unknowns[col])
    return found


def single_unknown_lines(grid):
    """The subtraction attack: a line with exactly one suppressed entry gives it away."""
    n_rows, n_cols = len(grid) - 1, len(grid[0]) - 1
    bad = []
    for line in equations(n_rows, n_cols):
        hidden = [pos for pos, _ in line if grid[pos[0]][pos[1]] == C]
        if len(hidden) == 1:
            bad.append(hidden[0])
    return bad


def test_primary_and_secondary_form_a_rectangle():
    result = suppress([[3, 10], [12, 15]])
    # 3 is small; 10 (the smaller neighbour) protects it along the row, 12 down the column,
    # and 15 closes the rectangle. Every total stays visible.
    assert result.cells == ((C, C), (C, C))
    assert result.row_totals == (13, 27)
    assert result.column_totals == (15, 25)
    assert result.grand_total == 40
    assert (result.primary, result.secondary) == (1, 3)
    assert attacker_recovers(full_grid(result)) == set()


def test_secondary_closes_the_cheapest_rectangle():
    table = [[2, 40, 9, 30], [20, 50, 60, 70], [25, 8, 55, 65]]
    result = suppress(table)
    # 2 is small. Its smallest row partner 9 and column partner 20 leave 9 alone in column 2 and
    # 20 alone in row 1; hiding 55 instead of 60 would still let 9 be worked out (via row 2),
    # so 60 closes the rectangle. Everything else, and every total, stays visible.
    assert result.cells == ((C, 40, C, 30), (C, 50, C, 70), (25, 8, 55, 65))
    assert result.row_totals == (81, 200, 153) and result.grand_total == 434
    assert (result.primary, result.secondary) == (1, 3)
    grid = full_grid(result)
    assert not single_unknown_lines(grid)
    assert attacker_recovers(grid) == set()


def test_no_suppression_needed():
    result = suppress([[10, 20], [30, 40]])
    assert result.cells == ((10, 20), (30, 40))
    assert (result.primary, result.secondary) == (0, 0)


def test_zero_is_not_suppressed_unless_asked():
    shown = suppress([[0, 20], [30, 40]])
    assert shown.cells[0][0] == 0 and shown.secondary == 0
    hidden = suppress([[0, 20], [30, 40]], suppress_zero=True)
    assert hidden.cells[0][0] == C and hidden.primary == 1
    assert attacker_recovers(full_grid(hidden)) == set()
    assert hidden.rule.startswith("Counts from 0 to 7")


def test_threshold_is_configurable():
    assert suppress([[3, 10], [12, 15]], threshold=2).cells == ((3, 10), (12, 15))
    result = suppress([[3, 10], [12, 15]], threshold=10)
    assert (result.primary, result.secondary) == (2, 2)  # 3 and 10; no total is <= 10
    assert result.rule == (
        "Counts from 1 to 10 are suppressed and shown as [c]; further cells are suppressed so "
        "that suppressed values cannot be worked out from totals."
    )


def test_small_totals_are_suppressed_too():
    result = suppress([[2, 3], [40, 50]])
    assert result.row_totals[0] == C  # 5
    assert attacker_recovers(full_grid(result)) == set()


def test_rule_sentence_default():
    assert rule_sentence(7) == (
        "Counts from 1 to 7 are suppressed and shown as [c]; further cells are suppressed so "
        "that suppressed values cannot be worked out from totals."
    )


def test_two_per_line_is_not_enough_and_recoverable_knows():
    # Two suppressed rectangles joined by one suppressed cell (a bridge). Every line holds
    # two or more suppressed entries, yet the bridge cell follows from adding equations.
    n = 4
    hidden_cells = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    flat = {i * n + j for i, j in hidden_cells}
    lines = [([i * n + j for j in range(n)], n * n + i) for i in range(n)]
    lines += [([i * n + j for i in range(n)], n * n + n + j) for j in range(n)]
    lines.append(([n * n + i for i in range(n)], n * n + 2 * n))
    lines.append(([n * n + n + j for j in range(n)], n * n + 2 * n))
    assert recoverable(flat, lines) == {1 * n + 2}
    grid = [[C if (i, j) in hidden_cells else 50 for j in range(n)] + [200] for i in range(n)]
    grid.append([200] * n + [800])
    assert not single_unknown_lines(grid)
    assert attacker_recovers(grid) == {(1, 2)}


def test_frequencies_one_way():
    result = suppress_frequencies([3, 20, 30])
    assert result.cells == (C, C, 30) and result.total == 53
    assert (result.primary, result.secondary) == (1, 1)


def test_frequencies_prefer_nonzero_partner_and_keep_total():
    result = suppress_frequencies([4, 0, 12, 90])
    assert result.cells == (C, 0, C, 90) and result.total == 106


def test_frequencies_small_total():
    result = suppress_frequencies([2, 0])
    assert result.cells == (C, 0) and result.total == C


def test_frequencies_nothing_small():
    result = suppress_frequencies([0, 8, 9])
    assert result.cells == (0, 8, 9) and result.total == 17


def test_bad_input():
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[-1, 2]])
    with pytest.raises(ValueError):
        suppress_frequencies([1], threshold=0)


tables = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 40), min_size=cols, max_size=cols),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(tables, st.integers(1, 10), st.booleans())
def test_no_suppressed_value_can_be_worked_out(table, threshold, suppress_zero):
    result = suppress(table, threshold, suppress_zero=suppress_zero)
    grid = full_grid(result)
    lowest = 0 if suppress_zero else 1
    truth = [[*r, sum(r)] for r in table]
    truth.append([sum(col) for col in zip(*truth, strict=True)])
    for i, row in enumerate(grid):
        for j, shown in enumerate(row):
            value = truth[i][j]
            if lowest <= value <= threshold:
                assert shown == C  # primary
            elif shown != C:
                assert shown == value  # what is shown is true
    # Only zero entries can ever be pinned (when everything around them is zero too).
    for i, j in attacker_recovers(grid):
        assert truth[i][j] == 0 and suppress_zero
    assert all(truth[i][j] == 0 for i, j in single_unknown_lines(grid))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.integers(1, 10))
def test_frequencies_never_leave_one_suppressed(counts, threshold):
    result = suppress_frequencies(counts, threshold)
    hidden = [v for v in [*result.cells, result.total] if v == C]
    assert len(hidden) != 1
    for shown, value in zip(result.cells, counts, strict=True):
        assert shown in (C, value)
