"""Statistical disclosure control for published counts: primary and secondary suppression.

A table with its totals is a set of additive equations (each row of cells sums to its row total,
and so on). A suppressed value is safe when those equations, with every shown value known, do
not pin it down. That is checked exactly with linear algebra rather than with the rule of thumb
"two suppressed cells per line", which misses some patterns (a suppressed cell that is the only
link between two blocks of suppressed cells can still be worked out).

Not assessed: bounds. Knowing counts are non-negative can narrow a suppressed value to a range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SUPPRESSED = "[c]"
Shown = int | str  # a count, or SUPPRESSED


def rule_sentence(threshold: int, *, suppress_zero: bool = False) -> str:
    lowest = 0 if suppress_zero else 1
    return (
        f"Counts from {lowest} to {threshold} are suppressed and shown as {SUPPRESSED}; further "
        "cells are suppressed so that suppressed values cannot be worked out from totals."
    )


@dataclass(frozen=True)
class SuppressedTable:
    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]
    column_totals: tuple[Shown, ...]
    grand_total: Shown
    primary: int  # values suppressed for being small (cells and totals)
    secondary: int  # values suppressed to protect them
    rule: str


@dataclass(frozen=True)
class SuppressedFrequencies:
    cells: tuple[Shown, ...]
    total: Shown
    primary: int
    secondary: int
    rule: str


def suppress(
    table: Sequence[Sequence[int]], threshold: int = 7, *, suppress_zero: bool = False
) -> SuppressedTable:
    """Suppress a rows x columns table of counts; totals are computed here from the cells.

    Primary: every count from 1 to `threshold` (cells and totals alike, as a small total is as
    disclosive as a small cell). Zero is not suppressed by default, because a published zero
    says nobody is in the cell, which identifies no one; pass suppress_zero=True to hide zeros
    too. Secondary: while some suppressed value can be worked out from the shown values and
    totals, suppress the smallest shown value on one of its lines that stops this, preferring
    non-zero cells to zero cells (a zero partner reveals that the other value equals the line's
    remainder at most) and cells to totals (totals are what readers use most).
    """
    rows = [list(r) for r in table]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if any(len(r) != n_cols for r in rows):
        raise ValueError("every row must have the same number of columns")
    _check_counts([v for r in rows for v in r], threshold)

    row_totals = [sum(r) for r in rows]
    col_totals = [sum(r[j] for r in rows) for j in range(n_cols)]
    grand = sum(row_totals)

    # Flatten: cells, then row totals, then column totals, then the grand total.
    def cell(i: int, j: int) -> int:
        return i * n_cols + j

    def row_total(i: int) -> int:
        return n_rows * n_cols + i

    def col_total(j: int) -> int:
        return n_rows * n_cols + n_rows + j

    grand_index = n_rows * n_cols + n_rows + n_cols
    values = [v for r in rows for v in r] + row_totals + col_totals + [grand]
    is_total = [False] * (n_rows * n_cols) + [True] * (n_rows + n_cols + 1)
    # Each line: (members, total) meaning sum(members) == total.
    lines = [([cell(i, j) for j in range(n_cols)], row_total(i)) for i in range(n_rows)]
    lines += [([cell(i, j) for i in range(n_rows)], col_total(j)) for j in range(n_cols)]
    lines.append(([row_total(i) for i in range(n_rows)], grand_index))
    lines.append(([col_total(j) for j in range(n_cols)], grand_index))

    primary = _primary(values, threshold, suppress_zero)
    hidden = _protect(values, is_total, lines, primary)
    shown = [SUPPRESSED if k in hidden else v for k, v in enumerate(values)]
    return SuppressedTable(
        cells=tuple(tuple(shown[cell(i, j)] for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(shown[row_total(i)] for i in range(n_rows)),
        column_totals=tuple(shown[col_total(j)] for j in range(n_cols)),
        grand_total=shown[grand_index],
        primary=len(primary),
        secondary=len(hidden) - len(primary),
        rule=rule_sentence(threshold, suppress_zero=suppress_zero),
    )


def suppress_frequencies(
    counts: Sequence[int], threshold: int = 7, *, suppress_zero: bool = False
) -> SuppressedFrequencies:
    """The same rules for a one-way frequency table with its total (computed here)."""
    values = list(counts)
    _check_counts(values, threshold)
    total_index = len(values)
    values.append(sum(counts))
    is_total = [False] * total_index + [True]
    lines = [(list(range(total_index)), total_index)]
    primary = _primary(values, threshold, suppress_zero)
    hidden = _protect(values, is_total, lines, primary)
    shown = [SUPPRESSED if k in hidden else v for k, v in enumerate(values)]
    return SuppressedFrequencies(
        cells=tuple(shown[:total_index]),
        total=shown[total_index],
        primary=len(primary),
        secondary=len(hidden) - len(primary),
        rule=rule_sentence(threshold, suppress_zero=suppress_zero),
    )


def small_groups(
    sizes: Mapping[str, int], threshold: int = 7, *, rank: Mapping[str, int] | None = None
) -> tuple[set[str], set[str]]:
    """The evaluator rule for the disjoint groups of a breakdown (sites, channels, ...).

    `sizes` gives the people each group's figures rest on. Primary: groups of 1 to
    `threshold` people, hidden whole (every cell and their total). Secondary: when exactly one
    group is hidden, the all-groups column minus the shown groups would give it back, so the
    smallest other group (by `rank`, e.g. cohort size, so that every table of a report picks
    the same one, then by size) is hidden whole too. With two or more groups hidden whole, each
    line (row or column) holds at least two unknowns or an unknown total, so no hidden value
    is fixed by the line equations (see `recoverable`). Returns (primary, secondary).
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    primary = {g for g, n in sizes.items() if 1 <= n <= threshold}
    secondary: set[str] = set()
    if len(primary) == 1:
        order = rank or {}
        others = sorted((g for g in sizes if g not in primary),
                        key=lambda g: (sizes[g] == 0, order.get(g, sizes[g]), sizes[g], g))
        secondary.update(others[:1])
    return primary, secondary


def _check_counts(values: Sequence[int], threshold: int) -> None:
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if any(isinstance(v, bool) or int(v) != v or v < 0 for v in values):
        raise ValueError("counts must be non-negative whole numbers")


def _primary(values: Sequence[int], threshold: int, suppress_zero: bool) -> set[int]:
    lowest = 0 if suppress_zero else 1
    return {k for k, v in enumerate(values) if lowest <= v <= threshold}


def recoverable(
    hidden: set[int],
    lines: Sequence[tuple[Sequence[int], int]],
    only: Sequence[int] | None = None,
) -> set[int]:
    """Hidden entries (of `only`, if given) whose value the line equations fix.

    Entry k is fixed exactly when the unit vector e_k lies in the row space of the equations'
    coefficients restricted to hidden entries (some combination of equations isolates it).
    """
    import numpy as np  # here: SUPPRESSED and the tables come without NumPy (start-up)

    order = sorted(hidden)
    if not order:
        return set()
    position = {k: p for p, k in enumerate(order)}
    rows = []
    for members, total in lines:
        coeffs = np.zeros(len(order))
        for m in members:
            if m in position:
                coeffs[position[m]] += 1
        if total in position:
            coeffs[position[total]] -= 1
        if coeffs.any():
            rows.append(coeffs)
    if not rows:
        return set()
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    fixed = set()
    for k in order if only is None else [k for k in only if k in position]:
        unit = np.zeros(len(order))
        unit[position[k]] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            fixed.add(k)
    return fixed


def _protect(
    values: Sequence[int],
    is_total: Sequence[bool],
    lines: Sequence[tuple[Sequence[int], int]],
    primary: set[int],
) -> set[int]:
    """Add secondary suppressions until no hidden value can be worked out (a fixed point)."""
    hidden = set(primary)

    def preference(k: int) -> tuple[bool, bool, int, int]:
        return (is_total[k], values[k] == 0, values[k], k)

    def lines_through(k: int) -> list[int]:
        found: list[int] = []
        for members, total in lines:
            entries = [*members, total]
            if k in entries:
                found.extend(e for e in entries if e != k)
        return found

    stuck: set[int] = set()  # fixed entries that no further suppression can protect
    while True:
        exposed = sorted(recoverable(hidden, lines) - stuck, key=preference)
        if not exposed:
            return hidden
        target = exposed[0]
        neighbours = sorted({e for e in lines_through(target) if e not in hidden}, key=preference)
        others = sorted(
            (e for e in range(len(values)) if e not in hidden and e not in neighbours),
            key=preference,
        )
        choice = next(
            (e for e in [*neighbours, *others] if not recoverable(hidden | {e}, lines, [target])),
            None,
        )
        if choice is None:
            # No single addition helps; hide the best neighbour and look again.
            choice = neighbours[0] if neighbours else (others[0] if others else None)
        if choice is None:
            stuck.add(target)
            continue
        hidden.add(choice)
