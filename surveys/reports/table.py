"""One report table, as every format shows it: page, CSV, spreadsheet and JSON.

A table is rows x columns of plain values (counts, whole per cents, numbers, text).
Besides the values it records how its counts add up (`blocks`), so that a copy marked
for publication can be made with the study's disclosure rule: small counts and the
cells that would reveal them are replaced by "[c]", and every per cent, share or
statistic worked out from a hidden count is hidden with it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.disclosure import SUPPRESSED
from analysis.rounding import half_up, p_text, percent_half_up

COUNT = "count"
PERCENT = "percent"
NUMBER = "number"
TEXT = "text"

# Below this base a percentage is flagged as of low reliability ([u]) and caveated.
LOW_BASE = 30
LOW_RELIABILITY = "[u]"
NOT_AVAILABLE = "[x]"

Cell = tuple[str, str]  # (row key, column key)


@dataclass
class Column:
    key: str
    label: str
    kind: str = COUNT
    decimals: int = 0  # for NUMBER columns
    low_base: bool = False  # percentages over a base under LOW_BASE: shown with [u]
    p_value: bool = False  # a NUMBER column of p-values: below 0.001 shown as "<0.001"
    # False for figures about staff, not clients (a site's FTE): the evaluator rule keeps them.
    about_clients: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label, "kind": self.kind}
        if self.kind == NUMBER:
            out["decimals"] = self.decimals
        if self.low_base:
            out["low_base"] = True
        if self.p_value:
            out["p_value"] = True
        return out


@dataclass
class Row:
    key: str
    label: str
    cells: dict[str, Any] = field(default_factory=dict)
    kind: str = "category"  # category | net | total | other

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "kind": self.kind, "cells": self.cells}


# How counts hang together, for disclosure control -------------------------------------


@dataclass(frozen=True)
class OneWay:
    """`cells` add up to `total`."""

    cells: tuple[Cell, ...]
    total: Cell


@dataclass(frozen=True)
class TwoWay:
    """A rows x columns block of counts with its row, column and grand totals."""

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    grand: Cell


@dataclass(frozen=True)
class Independent:
    """Counts that add up to nothing shown (e.g. the answers to a tick-all question)."""

    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Derived:
    """A value worked out from other cells (a sum, a per cent, an interval): hidden with them."""

    cell: Cell
    depends: tuple[Cell, ...]


@dataclass(frozen=True)
class RestsOn:
    """Cells worked out from the answers of `people` people (a statistic, a row of a grid, a
    wave's column): hidden from evaluators when that group is small (see `evaluator_hidden`)."""

    people: int | None
    cells: tuple[Cell, ...]


Block = OneWay | TwoWay | Independent | Derived | RestsOn


def _percent(count: Any, base: Any) -> int | None:
    """A whole per cent of two counts; None unless both are counts (hidden, not available)."""
    if isinstance(count, int) and isinstance(base, int):
        return percent_half_up(count, base)
    return None


@dataclass
class Table:
    id: str
    title: str
    row_header: str
    columns: list[Column]
    rows: list[Row]
    base: int | None = None  # the table's overall base, when it has one
    # The people its figures rest on, when the base counts something else (appointments):
    # overall, and per breakdown group. The evaluator rule reads these, not the base.
    people: int | None = None
    group_people: dict[str, int] | None = None
    # Rows that are disjoint groups of people (sites of the referral table): row key -> people.
    row_people: dict[str, int] | None = None
    base_text: str = ""
    notes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    caveat_codes: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    suppressed: int = 0  # cells hidden by the disclosure rule (publication copies only)
    # Cells showing a figure of an earlier table (or worked out from one): cell -> (table id,
    # cell there). In a publication copy they are hidden wherever that cell is hidden.
    mirror: dict[Cell, tuple[str, Cell]] = field(default_factory=dict)
    # Numbers written in base_text, notes or caveats, and the cell each comes from: in a
    # publication copy the number is replaced by [c] wherever its cell is hidden.
    text_numbers: list[tuple[Cell, int]] = field(default_factory=list)
    # The same for numbers whose cell is in another table: (table id, cell, number).
    foreign_numbers: list[tuple[str, Cell, int]] = field(default_factory=list)

    # Building ---------------------------------------------------------------------------

    def row(self, key: str) -> Row:
        # Looked up for every cell filled (a table by site fills 20,000): by key, from an
        # index made again whenever rows have been added since.
        index = self.__dict__.get("_rows_by_key")
        if index is None or index[0] != len(self.rows):
            index = (len(self.rows), {r.key: r for r in reversed(self.rows)})
            self.__dict__["_rows_by_key"] = index
        found = index[1].get(key)
        if found is None:
            raise KeyError(f"table {self.id} has no row {key!r}")
        return found

    def value(self, row_key: str, column_key: str) -> Any:
        return self.row(row_key).cells.get(column_key)

    def add_percent(self, row_key: str, count_key: str, percent_key: str, base: Cell) -> None:
        """Fill a per cent cell from a count cell and a base cell, and record the dependency."""
        self.row(row_key).cells[percent_key] = _percent(self.value(row_key, count_key),
                                                        self.value(*base))
        self.blocks.append(Derived((row_key, percent_key), ((row_key, count_key), base)))

    def add_percents(self, columns: Sequence[tuple[str, str]], base_row: str) -> None:
        """`add_percent` for every row and (count, percent) column pair, each over the count
        in the same column of `base_row`: a table by site fills 10,000 of them at once."""
        base = self.row(base_row).cells
        blocks = self.blocks
        for row in self.rows:
            cells = row.cells
            for count_key, percent_key in columns:
                cells[percent_key] = _percent(cells.get(count_key), base.get(count_key))
                blocks.append(Derived((row.key, percent_key),
                                      ((row.key, count_key), (base_row, count_key))))

    # Output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "row_header": self.row_header,
            "base": self.base,
            "base_text": self.base_text,
            "columns": [c.to_dict() for c in self.columns],
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
            "caveats": list(self.caveats),
            "caveat_codes": list(self.caveat_codes),
            "suppressed_cells": self.suppressed,
        }

    def cells(self) -> Iterable[tuple[Row, Column, Any]]:
        """Every value after the row label, in reading order."""
        for row in self.rows:
            for column in self.columns:
                yield row, column, row.cells.get(column.key)


# Disclosure control ---------------------------------------------------------------------


def publish(
    table: Table, threshold: int, *, hidden_elsewhere: Iterable[Cell] = (), cell_rule: bool = True
) -> Table:
    """A copy for publication: counts 1..threshold hidden, with secondary suppression.

    `hidden_elsewhere` names cells that must be hidden because the same figure is hidden
    in another table of the same output, or by the evaluator rule (they count as hidden
    before anything else). The cell rule is worked out on the true counts, so adding those
    cells only adds unknowns: nothing it protects becomes recoverable. With
    cell_rule=False only `hidden_elsewhere` (and what is derived from it) is hidden.
    """
    from analysis.disclosure import suppress, suppress_frequencies

    out = copy.deepcopy(table)
    hidden: set[Cell] = set(hidden_elsewhere)

    def val(cell: Cell) -> int:
        value = out.value(*cell)
        return value if isinstance(value, int) else 0

    for block in out.blocks if cell_rule else ():
        if isinstance(block, OneWay):
            result = suppress_frequencies([val(c) for c in block.cells], threshold)
            hidden.update(c for c, v in zip(block.cells, result.cells, strict=True)
                          if v == SUPPRESSED)
            if result.total == SUPPRESSED:
                hidden.add(block.total)
        elif isinstance(block, TwoWay):
            result = suppress([[val(c) for c in row] for row in block.cells], threshold)
            for cells, shown in zip(block.cells, result.cells, strict=True):
                hidden.update(c for c, v in zip(cells, shown, strict=True) if v == SUPPRESSED)
            hidden.update(c for c, v in zip(block.row_totals, result.row_totals, strict=True)
                          if v == SUPPRESSED)
            hidden.update(c for c, v in zip(block.column_totals, result.column_totals,
                                            strict=True) if v == SUPPRESSED)
            if result.grand_total == SUPPRESSED:
                hidden.add(block.grand)
        elif isinstance(block, Independent):
            hidden.update(c for c in block.cells if 1 <= val(c) <= threshold)
    # Derived values follow what they are worked out from (repeat: they may chain).
    derived = [b for b in out.blocks if isinstance(b, Derived)]
    changed = True
    while changed:
        changed = False
        for block in derived:
            if block.cell not in hidden and any(d in hidden for d in block.depends):
                hidden.add(block.cell)
                changed = True
    for row_key, column_key in hidden:
        row = out.row(row_key)
        if column_key in row.cells:
            row.cells[column_key] = SUPPRESSED
    out.suppressed = len(hidden)
    secret = {n for cell, n in out.text_numbers if cell in hidden}
    out.base_text = scrub(out.base_text, secret)
    out.notes = [scrub(x, secret) for x in out.notes]
    out.caveats = [scrub(x, secret) for x in out.caveats]
    return out


def breakdown_bases(table: Table) -> dict[str, int]:
    """Group key -> base, for a table broken down by group (a `crosstab`: columns `KEY:count`
    and `KEY:percent` per group, an all-groups column, and a base row); empty otherwise."""
    from surveys.reports.build import ALL, ALL_COUNT, TOTAL

    keys = [c.key for c in table.columns]
    if ALL_COUNT not in keys or not any(r.key == TOTAL for r in table.rows):
        return {}
    base = table.row(TOTAL).cells
    out = {}
    for key in keys:
        group, _, kind = key.rpartition(":")
        if kind == "count" and group != ALL:
            out[group] = base.get(key) if isinstance(base.get(key), int) else 0
    return out


def evaluator_hidden(
    table: Table,
    threshold: int,
    *,
    group_people: dict[str, int] | None = None,
    everything: bool = False,
) -> set[Cell]:
    """Cells an evaluator must not see: every figure resting on 1..threshold people.

    - the whole table, when its base (or `everything`, e.g. a study that small) is that small;
    - each `RestsOn` block of that few people (a statistic's row, a grid row, a column);
    - each breakdown group (column pair) of that few people, with secondary suppression of
      another whole group so the all-groups column cannot give it back
      (analysis.disclosure.small_groups). A group's people are its base in this table, or
      its clients in the cohort (`group_people`) when fewer, as for appointment tables.
    Counts of 1..threshold inside a larger group stay: that is the publication cell rule.
    """
    from analysis.disclosure import small_groups

    every = {(row.key, column.key) for row, column, value in table.cells() if value is not None}
    def small(n: int | None) -> bool:
        return isinstance(n, int) and 1 <= n <= threshold

    if everything or small(table.base) or small(table.people):
        return every
    hidden: set[Cell] = set()
    for block in table.blocks:
        if isinstance(block, RestsOn) and block.people is not None and (
                1 <= block.people <= threshold):
            hidden.update(block.cells)
    if table.row_people:
        # A row of that few people (a small site) is hidden whole, but for its text and
        # staffing (a site's note, its FTE), and a second row with it so the total cannot
        # give it back.
        primary, secondary = small_groups(table.row_people, threshold)
        text = {column.key for column in table.columns
                if column.kind == TEXT or not column.about_clients}
        hidden.update(cell for cell in every
                      if cell[0] in primary | secondary and cell[1] not in text)
    bases = breakdown_bases(table)
    if bases:
        people = {**(group_people or {}), **(table.group_people or {})}
        sizes = {g: min(n, people[g]) if people.get(g) else n for g, n in bases.items()}
        primary, secondary = small_groups(sizes, threshold,
                                          rank={g: people[g] for g in sizes if people.get(g)})
        columns = {f"{g}:{kind}" for g in primary | secondary for kind in ("count", "percent")}
        hidden.update(cell for cell in every if cell[1] in columns)
    return hidden & every


def scrub(text: str, numbers: Iterable[int]) -> str:
    """Replace each of `numbers` standing alone in `text` (not part of 2.5, 1,219 or wave2)."""
    for n in sorted(set(numbers), reverse=True):
        text = re.sub(rf"(?<![\w.,]){n}(?!\w|[.,]\d)", SUPPRESSED, text)
    return text


def hidden_cells(table: Table) -> set[Cell]:
    return {
        (row.key, column.key)
        for row, column, value in table.cells()
        if value == SUPPRESSED
    }


# Display --------------------------------------------------------------------------------


def display(value: Any, column: Column, language: str = "en") -> str:
    """The text a reader sees for one cell (page and standalone HTML)."""
    if value is None:
        return NOT_AVAILABLE
    if value == SUPPRESSED or isinstance(value, str):
        return str(value)
    if column.kind == COUNT:
        return f"{value:,}"
    if column.kind == PERCENT:
        text = f"{value}%"
        return f"{text} {LOW_RELIABILITY}" if column.low_base else text
    if column.kind == NUMBER:
        if isinstance(value, bool):
            return str(value)
        if column.p_value:
            return p_text(value, column.decimals) or NOT_AVAILABLE
        # Rounded once, half-up, from the full-precision value the table holds.
        rounded = half_up(value, column.decimals)
        return NOT_AVAILABLE if rounded is None else f"{rounded:,.{column.decimals}f}"
    return str(value)


def cells_of(rows: Sequence[str], column: str) -> tuple[Cell, ...]:
    return tuple((r, column) for r in rows)


def safe_text(value: Any) -> Any:
    """Text made safe against formula injection (surveys.csv_safety); numbers stay numbers."""
    from surveys.csv_safety import safe_cell

    if value is None:
        return ""
    return safe_cell(value) if isinstance(value, str) else value
