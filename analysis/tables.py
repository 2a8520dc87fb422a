"""Counts and percentages for the report tables.

Percentages are of the base, rounded half-up to whole per cent independently, as in
government statistics; they need not add up to exactly 100.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.rounding import percent_half_up


@dataclass(frozen=True)
class FrequencyRow:
    category: Hashable
    count: int
    percent: int | None  # None when the base is 0


@dataclass(frozen=True)
class FrequencyTable:
    rows: tuple[FrequencyRow, ...]
    base: int  # answers in the listed categories
    missing: int  # None values, left out of the base

    def counts(self) -> dict[Hashable, int]:
        return {row.category: row.count for row in self.rows}

    def percentages(self) -> dict[Hashable, int | None]:
        return {row.category: row.percent for row in self.rows}


def frequency_table(
    values: Iterable[Hashable | None], categories: Sequence[Hashable]
) -> FrequencyTable:
    """Count values per category, in the order given; None counts as missing.

    A value outside the categories raises ValueError: dropping it would quietly shrink the
    base, and counting it anywhere would be wrong.
    """
    if len(set(categories)) != len(categories):
        raise ValueError("categories must be distinct")
    counted = Counter(values)
    missing = counted.pop(None, 0)
    unknown = set(counted) - set(categories)
    if unknown:
        raise ValueError(f"values not among the categories: {sorted(map(repr, unknown))}")
    base = sum(counted.values())
    rows = tuple(
        FrequencyRow(c, counted.get(c, 0), percent_half_up(counted.get(c, 0), base))
        for c in categories
    )
    return FrequencyTable(rows, base, missing)


@dataclass(frozen=True)
class FirstToLastChange:
    base: int  # clients with at least two scores
    improved: int
    same: int
    deteriorated: int
    improved_percent: int | None
    same_percent: int | None
    deteriorated_percent: int | None
    single_score: int  # clients left out because only one score was recorded
    no_score: int  # clients left out because no score was recorded


def change_first_to_last(
    series_per_client: Mapping[Any, Sequence[int | None]] | Iterable[Sequence[int | None]],
) -> FirstToLastChange:
    """Change in score from the first to the last attended appointment, per client.

    Each series lists a client's scores in appointment order; None marks an appointment with
    no score (not attended or not asked) and is skipped. Clients with one score cannot show
    change and are counted apart, as the published table does (base 201, 132 left out).
    """
    series = (
        series_per_client.values() if isinstance(series_per_client, Mapping) else series_per_client
    )
    improved = same = deteriorated = single = none = 0
    for scores in series:
        present = [s for s in scores if s is not None]
        if not present:
            none += 1
        elif len(present) == 1:
            single += 1
        elif present[-1] > present[0]:
            improved += 1
        elif present[-1] < present[0]:
            deteriorated += 1
        else:
            same += 1
    base = improved + same + deteriorated
    return FirstToLastChange(
        base=base,
        improved=improved,
        same=same,
        deteriorated=deteriorated,
        improved_percent=percent_half_up(improved, base),
        same_percent=percent_half_up(same, base),
        deteriorated_percent=percent_half_up(deteriorated, base),
        single_score=single,
        no_score=none,
    )
