"""Reading uploaded CSV files into rows, with errors a researcher can act on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_BYTES = 200 * 1024 * 1024


@dataclass
class RowErrors:
    """Every problem in a file, by line number and column, in reading order."""

    filename: str
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, line: int, column: str, message: str) -> None:
        self.problems.append((line, column, message))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def lines(self) -> list[str]:
        return [
            f"{self.filename} line {line}, column '{column}': {message}"
            if column
            else f"{self.filename} line {line}: {message}"
            for line, column, message in self.problems
        ]

    def summary(self, limit: int = 50) -> str:
        lines = self.lines()
        head = f"{self.filename}: {len(lines)} problem(s), nothing was imported."
        shown = lines[:limit]
        more = [f"... and {len(lines) - limit} more"] if len(lines) > limit else []
        return "\n".join([head, *shown, *more])


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, header, size)."""


def read_header(reader, filename: str, required: Iterable[str]) -> list[str]:
    """The header row, checked: present, with every required column, none twice."""
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError(f"{filename}: the file is empty; it needs a header row.") from None
    except csv.Error as exc:
        raise CsvFileError(f"{filename} line 1: {exc}") from None
    header = [name.strip() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvFileError(
            f"{filename}: the header row lacks the required column(s) "
            f"{', '.join(missing)}; it has {', '.join(header) or 'no columns'}."
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise CsvFileError(f"{filename}: column(s) {', '.join(duplicated)} appear twice.")
    return header


def read_rows(
    data: bytes | str, filename: str, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Decode and parse a CSV file; return its header and (line number, row) pairs.

    Line numbers count the header as line 1, as a spreadsheet shows them.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise CsvFileError(f"{filename}: the file is larger than 200 MB.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvFileError(
                f"{filename}: the file is not UTF-8 text (byte {exc.start}); "
                "save it as 'CSV UTF-8' and try again."
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise CsvFileError(f"{filename}: the file contains binary data, not CSV text.")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = read_header(reader, filename, required)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise CsvFileError(
                    f"{filename} line {line}: the row has {len(row)} cells but the header "
                    f"has {len(header)} columns."
                )
            cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
            for name in header[len(row):]:
                cells[name] = ""
            rows.append((line, cells))
    except csv.Error as exc:
        raise CsvFileError(f"{filename} line {reader.line_num}: {exc}") from None
    return header, rows
