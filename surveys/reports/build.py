"""Constructors for the three shapes of table the reports use.

- `frequency`: one question (or one variable), one row per category, counts and per cents;
- `crosstab`: the same, with one pair of count and per cent columns per group (a breakdown);
- `grid`: several questions with the same answers, one row per question.

Nets (e.g. "agree or strongly agree") are extra rows or columns summing named categories.
Bases are stated on every table; per cents are of the base, rounded half-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from surveys.i18n import N_, translate
from surveys.reports.table import (
    COUNT,
    LOW_BASE,
    PERCENT,
    Column,
    Derived,
    Independent,
    OneWay,
    RestsOn,
    Row,
    Table,
    TwoWay,
)

TOTAL = "total"
ALL = "_all"  # the key of the all-groups column of a breakdown (no group value starts with _)
ALL_COUNT = f"{ALL}:count"
ALL_PERCENT = f"{ALL}:percent"
NOT_ANSWERED = "not_answered"


@dataclass(frozen=True)
class Category:
    key: str
    label: str


@dataclass(frozen=True)
class Net:
    key: str
    label: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    key: str
    label: str


def t(message: str, language: str, **params: object) -> str:
    """Translate a marked message, then fill its {name} placeholders."""
    text = translate(message, language)
    return text.format(**params) if params else text


def low_base_caveat(base: int, language: str) -> str:
    return t(N_("Base of {n}: figures are indicative only; treat them with caution."),
             language, n=base)


def _finish_caveats(table: Table, base: int | None, language: str) -> None:
    if base is not None and 0 < base < LOW_BASE:
        table.caveats.insert(0, low_base_caveat(base, language))
        table.caveat_codes.insert(0, "low_base")


def frequency(
    id: str,
    title: str,
    row_header: str,
    categories: Sequence[Category],
    counts: Mapping[str, int],
    *,
    language: str,
    base_text: str,
    nets: Sequence[Net] = (),
    multiple: bool = False,
    base: int | None = None,
    not_answered: int | None = None,
) -> Table:
    """One row per category, then nets, then the base row.

    Single answers: the base is the sum of the categories. Tick-all (multiple=True): each
    category counts respondents who ticked it, and `base` (respondents) must be given.
    """
    values = {c.key: int(counts.get(c.key, 0)) for c in categories}
    if base is None:
        base = sum(values.values())
    table = Table(
        id=id,
        title=title,
        row_header=row_header,
        columns=[
            Column("count", t(N_("Number"), language), COUNT),
            Column("percent", t(N_("Per cent"), language), PERCENT, low_base=0 < base < LOW_BASE),
        ],
        rows=[Row(c.key, c.label, {"count": values[c.key]}) for c in categories],
        base=base,
        base_text=base_text,
    )
    for net in nets:
        table.rows.append(Row(net.key, net.label,
                              {"count": sum(values[m] for m in net.members)}, kind="net"))
        table.blocks.append(Derived((net.key, "count"), tuple((m, "count") for m in net.members)))
    total_label = t(N_("Respondents (base)") if multiple else N_("Total (base)"), language)
    table.rows.append(Row(TOTAL, total_label, {"count": base}, kind="total"))
    if multiple:
        table.blocks.append(Independent(tuple((c.key, "count") for c in categories)))
        table.blocks.append(Independent(((TOTAL, "count"),)))
        table.notes.append(t(N_("Respondents could choose more than one answer, so the per "
                                "cents add up to more than 100."), language))
    else:
        table.blocks.append(OneWay(tuple((c.key, "count") for c in categories),
                                   (TOTAL, "count")))
    table.add_percents([("count", "percent")], TOTAL)
    if not_answered:
        table.rows.append(Row(NOT_ANSWERED, t(N_("Asked but not answered (not in the base)"),
                                              language), {"count": not_answered}, kind="other"))
        table.blocks.append(Independent(((NOT_ANSWERED, "count"),)))
    table.text_numbers.append(((TOTAL, "count"), base))
    _finish_caveats(table, base, language)
    return table


def crosstab(
    id: str,
    title: str,
    row_header: str,
    categories: Sequence[Category],
    groups: Sequence[Group],
    counts: Mapping[tuple[str, str], int],
    *,
    language: str,
    base_text: str,
    nets: Sequence[Net] = (),
    multiple: bool = False,
    bases: Mapping[str, int] | None = None,
    all_label: str | None = None,
) -> Table:
    """Categories down, groups across (count and per cent each), then an 'all' pair.

    counts[(group key, category key)]. Single answers: each group's base is the sum of its
    categories. Tick-all: `bases` gives respondents per group.
    """
    keys = [g.key for g in groups]
    cell = {(g, c.key): int(counts.get((g, c.key), 0)) for g in keys for c in categories}
    if bases is None:
        bases = {g: sum(cell[(g, c.key)] for c in categories) for g in keys}
    all_base = sum(bases[g] for g in keys)
    columns: list[Column] = []
    for g in groups:
        columns.append(Column(f"{g.key}:count", t(N_("{group}: number"), language,
                                                   group=g.label), COUNT))
        columns.append(Column(f"{g.key}:percent", t(N_("{group}: per cent"), language,
                                                     group=g.label), PERCENT,
                              low_base=0 < bases[g.key] < LOW_BASE))
    all_name = all_label or t(N_("All"), language)
    columns.append(Column(ALL_COUNT, t(N_("{group}: number"), language, group=all_name), COUNT))
    columns.append(Column(ALL_PERCENT, t(N_("{group}: per cent"), language, group=all_name),
                          PERCENT, low_base=0 < all_base < LOW_BASE))
    rows = []
    for c in categories:
        cells = {f"{g}:count": cell[(g, c.key)] for g in keys}
        cells[ALL_COUNT] = sum(cell[(g, c.key)] for g in keys)
        rows.append(Row(c.key, c.label, cells))
    for net in nets:
        cells = {f"{g}:count": sum(cell[(g, m)] for m in net.members) for g in keys}
        cells[ALL_COUNT] = sum(cells.values())
        rows.append(Row(net.key, net.label, cells, kind="net"))
    base_cells = {f"{g}:count": bases[g] for g in keys}
    base_cells[ALL_COUNT] = all_base
    total_label = t(N_("Respondents (base)") if multiple else N_("Total (base)"), language)
    rows.append(Row(TOTAL, total_label, base_cells, kind="total"))
    table = Table(id=id, title=title, row_header=row_header, columns=columns, rows=rows,
                  base=all_base, base_text=base_text)
    count_keys = [f"{g}:count" for g in keys]
    if multiple:
        # Groups are disjoint, so each row adds up across them; columns do not add up.
        for row in rows:
            if row.kind != "net":
                table.blocks.append(OneWay(tuple((row.key, k) for k in count_keys),
                                           (row.key, ALL_COUNT)))
        table.notes.append(t(N_("Respondents could choose more than one answer, so the per "
                                "cents add up to more than 100."), language))
    else:
        table.blocks.append(TwoWay(
            tuple(tuple((c.key, k) for k in count_keys) for c in categories),
            tuple((c.key, ALL_COUNT) for c in categories),
            tuple((TOTAL, k) for k in count_keys),
            (TOTAL, ALL_COUNT),
        ))
    for net in nets:
        for k in [*count_keys, ALL_COUNT]:
            table.blocks.append(Derived((net.key, k), tuple((m, k) for m in net.members)))
    table.add_percents([(f"{g}:count", f"{g}:percent") for g in [*keys, ALL]], TOTAL)
    low = [g.label for g in groups if 0 < bases[g.key] < LOW_BASE]
    if low:
        table.notes.append(t(N_("[u] low reliability: the base of {groups} is under {n}, so "
                                "those per cents are indicative only."), language,
                             groups=", ".join(low), n=LOW_BASE))
    table.text_numbers.append(((TOTAL, ALL_COUNT), all_base))
    _finish_caveats(table, all_base, language)
    return table


@dataclass(frozen=True)
class GridRow:
    key: str
    label: str
    counts: Mapping[str, int]
    not_answered: int = 0


def grid(
    id: str,
    title: str,
    row_header: str,
    categories: Sequence[Category],
    items: Sequence[GridRow],
    *,
    language: str,
    base_text: str,
    nets: Sequence[Net] = (),
) -> Table:
    """One row per question with the same answers: count and per cent per answer, and base."""
    columns: list[Column] = []
    for c in [*categories, *nets]:
        columns.append(Column(f"{c.key}:count", t(N_("{answer}: number"), language,
                                                   answer=c.label), COUNT))
        columns.append(Column(f"{c.key}:percent", t(N_("{answer}: per cent"), language,
                                                     answer=c.label), PERCENT))
    columns.append(Column("base", t(N_("Base"), language), COUNT))
    rows = []
    table = Table(id=id, title=title, row_header=row_header, columns=columns, rows=rows,
                  base_text=base_text)
    bases = []
    for item in items:
        cells = {f"{c.key}:count": int(item.counts.get(c.key, 0)) for c in categories}
        for net in nets:
            cells[f"{net.key}:count"] = sum(cells[f"{m}:count"] for m in net.members)
        cells["base"] = sum(int(item.counts.get(c.key, 0)) for c in categories)
        bases.append(cells["base"])
        rows.append(Row(item.key, item.label, cells))
        table.blocks.append(OneWay(tuple((item.key, f"{c.key}:count") for c in categories),
                                   (item.key, "base")))
        # Each statement is a question of its own: its row rests on those who answered it.
        table.blocks.append(RestsOn(cells["base"], tuple((item.key, c.key) for c in columns)))
        for net in nets:
            table.blocks.append(Derived((item.key, f"{net.key}:count"),
                                        tuple((item.key, f"{m}:count") for m in net.members)))
        for c in [*categories, *nets]:
            table.add_percent(item.key, f"{c.key}:count", f"{c.key}:percent",
                              (item.key, "base"))
    if bases and len(set(bases)) == 1:
        table.base = bases[0]
    low = min(bases) if bases else 0
    table.text_numbers.extend(((item.key, "base"), b) for item, b in zip(items, bases,
                                                                         strict=True))
    if any(item.not_answered for item in items):
        table.notes.append(t(N_("Each row's base is those asked the question who answered it."),
                             language))
    _finish_caveats(table, low, language)
    return table
