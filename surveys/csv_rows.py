"""Reading uploaded CSV files into rows, with errors a researcher can act on."""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from instruments.text import strip_invisible
from surveys.csv_safety import unguard_cell

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


Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO
Row = tuple[int, dict[str, str]]
BLOCK = 1 << 20
# A line ends at \r\n, \r or \n, as csv reads them (str.splitlines also splits at \x85...).
_LINE_END = re.compile(r"\r\n|\r|\n")
# Dates before this are typing mistakes, not records of a programme.
EARLIEST = date(2000, 1, 1)


def open_rows(
    data: Source,
    filename: str,
    required: Iterable[str],
    allowed: Iterable[str],
    *,
    unknown_note: str = "",
) -> tuple[list[str], Iterator[Row]]:
    """The checked header, and (line number, row) pairs read as a stream.

    Header problems (missing, unknown or repeated columns) are raised at once; problems
    further in (encoding, size, quotes, cell count) while the rows are read. Memory stays
    bounded: the file is read in blocks and never held whole. Line numbers count the
    header as line 1; cells come back trimmed, without invisible characters and without
    the apostrophe the CSV export puts before a formula-like cell.
    """
    reader = csv.reader(_lines(data, filename), strict=True)
    try:
        raw = next(reader)
    except StopIteration:
        raise CsvFileError(f"{filename}: the file is empty; it needs a header row.") from None
    except csv.Error as exc:
        raise CsvFileError(_csv_problem(filename, 1, reader, exc)) from None
    header = check_header(raw, filename, required, allowed, unknown_note=unknown_note)
    return header, _rows(reader, header, filename)


def check_header(
    header: list[str],
    filename: str,
    required: Iterable[str],
    allowed: Iterable[str],
    *,
    unknown_note: str = "",
) -> list[str]:
    """The header row, checked: every required column, none unknown, none twice.

    Columns with no name are allowed (spreadsheets add them) but must stay empty.
    """
    header = [strip_invisible(name).strip() for name in header]
    allowed = list(allowed)
    names = [name for name in header if name]
    hint = ""
    if any(";" in name for name in names) or any("\t" in name for name in names):
        mark = "';'" if any(";" in name for name in names) else "tabs"
        hint = f" The file seems to use {mark} between columns; save it as CSV with commas."
    missing = [name for name in required if name not in header]
    unknown = [name for name in names if name not in allowed]
    problems = []
    if missing:
        problems.append(f"the header row lacks the required column(s) {', '.join(missing)}; "
                        f"it has {', '.join(header) or 'no columns'}")
    if unknown:
        shown = ", ".join(_short(name) for name in unknown)
        problems.append(f"column(s) {shown} "
                        + (unknown_note or f"are not columns of this file; it can have "
                           f"{', '.join(allowed)}"))
        guesses = [
            f"'{match[0]}' for '{_short(name)}'"
            for name in unknown
            if (match := difflib.get_close_matches(name, allowed, n=1, cutoff=0.6))
        ]
        if guesses:
            problems[-1] += f". Did you mean {', '.join(guesses)}?"
    if problems:
        raise CsvFileError(f"{filename}: {'; '.join(problems)}.".replace("?.", "?") + hint)
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise CsvFileError(f"{filename}: column(s) {', '.join(duplicated)} appear twice.")
    return header


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:40] + "..."


def single_line_problem(value: str) -> str | None:
    """Why `value` cannot go in a one-line field (site, note, reference), or None."""
    if "\n" in value or "\t" in value:
        return "must be on one line, without line breaks or tabs"
    return None


def date_problem(value: date, today: date, *, earliest: date = EARLIEST) -> str | None:
    """Why `value` is not a plausible date of something that has happened, or None."""
    if value > today:
        return f"{value.isoformat()} is in the future (today is {today.isoformat()})"
    if value < earliest:
        return f"{value.isoformat()} is before {earliest.isoformat()}; check the year"
    return None


def _rows(reader, header: list[str], filename: str) -> Iterator[Row]:
    width = len(header)
    named = [(i, name) for i, name in enumerate(header) if name]
    start = reader.line_num + 1
    try:
        for row in reader:
            line, start = reader.line_num, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > width:
                raise CsvFileError(
                    f"{filename} line {line}: the row has {len(row)} cells but the header "
                    f"has {width} columns."
                )
            cells = [_clean(cell) for cell in row]
            if len(named) < width and any(
                cells[i] for i, name in enumerate(header[: len(cells)]) if not name
            ):
                raise CsvFileError(f"{filename} line {line}: a cell has a value but its "
                                   "column has no name in the header row.")
            yield line, {name: cells[i] if i < len(cells) else "" for i, name in named}
    except csv.Error as exc:
        raise CsvFileError(_csv_problem(filename, start, reader, exc)) from None


def _clean(cell: str) -> str:
    return unguard_cell(strip_invisible(cell).strip()).strip()


def _csv_problem(filename: str, start: int, reader, exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return (f"{filename} line {start}: unterminated quote: a cell opened with a quote "
                "(\") on this line is never closed.")
    if "expected after" in text:
        return (f"{filename} line {reader.line_num}: text follows a closing quote; write a "
                "quote inside a quoted cell as two quotes (\"\").")
    if "field larger than field limit" in text:
        return (f"{filename} line {start}: a cell is longer than "
                f"{csv.field_size_limit():,} characters.")
    return f"{filename} line {reader.line_num}: {text}"


def _lines(data: Source, filename: str) -> Iterator[str]:
    """The file's lines, line endings kept, checked as they are read: UTF-8 (an initial
    byte order mark allowed), no NUL byte, at most MAX_BYTES."""
    if isinstance(data, str):
        if "\x00" in data:
            raise CsvFileError(f"{filename}: the file contains binary data, not CSV text.")
        yield from io.StringIO(data.removeprefix("\ufeff"), newline="")
        return
    if isinstance(data, os.PathLike):
        with open(data, "rb") as stream:
            yield from _decoded_lines(stream, filename)
        return
    if isinstance(data, bytes | bytearray | memoryview):
        data = io.BytesIO(data)
    yield from _decoded_lines(data, filename)


def _decoded_lines(stream: BinaryIO, filename: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    pending = ""
    while True:
        chunk = stream.read(BLOCK)
        if offset == 0 and chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise CsvFileError(f"{filename}: the file is UTF-16 text; save it as "
                               "'CSV UTF-8' and try again.")
        if b"\x00" in chunk:
            raise CsvFileError(f"{filename}: the file contains binary data, not CSV text.")
        if offset + len(chunk) > MAX_BYTES:
            raise CsvFileError(f"{filename}: the file is larger than 200 MB.")
        before = len(decoder.getstate()[0])
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise CsvFileError(
                f"{filename}: the file is not UTF-8 text (byte {offset - before + exc.start}); "
                "save it as 'CSV UTF-8' and try again."
            ) from None
        offset += len(chunk)
        end = 0
        # Find the line ends, not whole lines: a pattern matching whole lines is tried
        # again at every position of a long unterminated line (quadratic time).
        for match in _LINE_END.finditer(pending):
            if chunk and match.end() == len(pending) and pending.endswith("\r"):
                break  # a "\r\n" may be split between two blocks
            yield pending[end:match.end()]
            end = match.end()
        pending = pending[end:]
        if not chunk:
            if pending:
                yield pending
            return
