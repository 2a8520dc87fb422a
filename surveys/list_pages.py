"""A page of a long staff list (participants, questionnaires, open links, calls): its rows
and where they sit in the whole list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

PAGE_SIZE = 50  # rows per page of every staff list

Row = TypeVar("Row")


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for `total` rows: at least one, so an empty list still has a page."""
    return max(1, -(-total // size))


@dataclass(frozen=True)
class ListPage(Generic[Row]):
    rows: list[Row]
    total: int  # rows in the whole list (matching its filters)
    page: int  # 1-based
    pages: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """Position of the first row shown (1-based), 0 when none."""
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.size + len(self.rows)
