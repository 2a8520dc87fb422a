"""CSV cells that a spreadsheet will show as text, never run as a formula.

A cell starting with =, +, -, @, a tab or a carriage return can be taken for a
formula by Excel, LibreOffice or Google Sheets ("CSV injection"). Every export
of data that people typed passes its cells through `safe_cell`, which puts an
apostrophe in front: spreadsheets hide it and show the text as typed. The imports read
such a cell back without the apostrophe (`unguard_cell`), so an export imports unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text, with a leading apostrophe when it could start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unguard_cell(text: str) -> str:
    """The inverse of safe_cell, for imports: "'+ref3" read back as "+ref3".

    Only an apostrophe in front of a formula-start character is the guard's; any other
    leading apostrophe is kept as typed.
    """
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def safe_row(values: Iterable[object]) -> list[str]:
    return [safe_cell(value) for value in values]


def write_csv(rows: Iterable[Iterable[object]]) -> str:
    """CSV text (header included in `rows`), every cell made safe, "\\n" line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue()
