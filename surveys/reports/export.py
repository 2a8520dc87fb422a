"""The evaluation report as files: CSV (one row per table cell) and an accessible spreadsheet.

The spreadsheet follows the Government Analysis Function's guidance on releasing
statistics in spreadsheets: a cover sheet, a table of contents, a notes sheet, one table
per worksheet starting in cell A1 with its title, plain header rows marked up as
tables, no merged cells, no blank cells inside tables ([x] where a value is not
available) and the meaning of [c], [u] and [x] stated. Every text is written with
`write_string`, so it is stored as text, never as a formula, and shown as it was typed:
the CSV's apostrophe guard against formulas is not needed there.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from analysis.rounding import half_up, p_text
from surveys.i18n import N_
from surveys.reports.build import t
from surveys.reports.table import NOT_AVAILABLE
from surveys.reports.table import safe_text as safe_cell

CSV_HEADER = (
    "section", "table_id", "table_title", "row_key", "row_label", "column_key",
    "column_label", "kind", "value", "base", "publication",
)


def iter_cells(report: dict[str, Any]):
    """(section, table, row, column, value) for every value of every table."""
    for section in report["sections"]:
        for table in section["tables"]:
            for row in table["rows"]:
                for column in table["columns"]:
                    if column["key"] in row["cells"]:
                        yield section, table, row, column, row["cells"][column["key"]]


def render_csv(report: dict[str, Any]) -> str:
    """Tidy CSV: one line per value, so any table can be rebuilt or filtered."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    publication = "yes" if report["publication"] else "no"
    for section, table, row, column, value in iter_cells(report):
        writer.writerow([safe_cell(v) for v in (
            section["id"], table["id"], table["title"], row["key"], row["label"],
            column["key"], column["label"], column["kind"], "" if value is None else value,
            "" if table["base"] is None else table["base"], publication,
        )])
    return out.getvalue()


def _sheet_name(index: int) -> str:
    return f"Table_{index}"


def render_xlsx(report: dict[str, Any], extra: list[tuple[dict, dict]] = ()) -> bytes:
    """`extra`: (section, table) pairs laid out after the report's tables (the codebook)."""
    import xlsxwriter

    language = report["language"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    book.set_properties({
        "title": t(N_("Evaluation report: {study}"), language, study=report["study_name"]),
        "subject": t(N_("Evaluation tables"), language),
        "author": t(N_("Health and work surveys"), language),
        "language": "cy-GB" if language == "cy" else "en-GB",
    })
    title = book.add_format({"bold": True, "font_size": 15})
    heading = book.add_format({"bold": True, "font_size": 13})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    link = book.add_format({"font_color": "#1d70b8", "underline": 1})
    number_formats = {
        "count": book.add_format({"num_format": "#,##0"}),
        "percent": book.add_format({"num_format": "0"}),
        "text": book.add_format({}),
        **{f"number:{d}": book.add_format({"num_format": "0" if d == 0 else "0." + "0" * d})
           for d in range(5)},
    }

    tables = report_tables(report) + list(extra)
    styles = {"title": title, "heading": heading, "wrap": wrap}

    cover = book.add_worksheet("Cover")
    cover.set_column(0, 0, 110)
    for i, (style, line) in enumerate(cover_lines(report)):
        cover.write_string(i, 0, line, styles[style])

    contents = book.add_worksheet("Contents")
    contents.write_string(0, 0, t(N_("Table of contents"), language), title)
    contents.write_string(1, 0, sheet_intro(report, "contents"))
    contents_rows = contents_table(tables)
    contents.add_table(2, 0, 2 + len(contents_rows), 2, {
        "name": "Contents", "style": "Table Style Light 1", "autofilter": False,
        "columns": [{"header": t(N_("Sheet name"), language)},
                    {"header": t(N_("Table title"), language)},
                    {"header": t(N_("Section"), language)}],
    })
    for r, (name, table_title, section_title) in enumerate(contents_rows, start=3):
        contents.write_url(r, 0, f"internal:'{name}'!A1", link, string=name)
        contents.write_string(r, 1, table_title)
        contents.write_string(r, 2, section_title)
    contents.set_column(0, 0, 14)
    contents.set_column(1, 1, 90)
    contents.set_column(2, 2, 50)

    notes = book.add_worksheet("Notes")
    notes.write_string(0, 0, t(N_("Notes"), language), title)
    notes.write_string(1, 0, sheet_intro(report, "notes"))
    note_rows = notes_table(tables, language)
    notes.add_table(2, 0, 2 + max(len(note_rows), 1), 2, {
        "name": "Notes", "style": "Table Style Light 1", "autofilter": False,
        "columns": [{"header": t(N_("Sheet name"), language)},
                    {"header": t(N_("Kind of note"), language)},
                    {"header": t(N_("Note text"), language)}],
    })
    for r, row in enumerate(note_rows, start=3):
        for c, value in enumerate(row):
            notes.write_string(r, c, value, wrap if c == 2 else None)
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 20)
    notes.set_column(2, 2, 110)

    for i, (_section, table) in enumerate(tables, start=1):
        sheet = book.add_worksheet(_sheet_name(i))
        sheet.write_string(0, 0, table["title"], title)
        sheet.write_string(1, 0, sheet_intro(report, "table"))
        sheet.write_string(2, 0, table["base_text"])
        header = [table["row_header"], *[c["label"] for c in table["columns"]]]
        unique = _unique_headers(header)
        top = 3
        sheet.add_table(top, 0, top + len(table["rows"]), len(header) - 1, {
            "name": f"Table_{i}", "style": "Table Style Light 1", "autofilter": False,
            "columns": [{"header": h} for h in unique],
        })
        writers = [(column["key"], _cell_writer(column, number_formats))
                   for column in table["columns"]]
        for r, row in enumerate(table["rows"], start=top + 1):
            sheet.write_string(r, 0, row["label"])
            cells = row["cells"]
            for c, (key, write) in enumerate(writers, start=1):
                write(sheet, r, c, cells.get(key))
        sheet.set_column(0, 0, 60)
        sheet.set_column(1, len(header) - 1, 18)
    book.close()
    return buffer.getvalue()


KIND_LABELS = {
    "base": N_("Base"),
    "note": N_("Note"),
    "caveat": N_("Caveat"),
    "section": N_("Section note"),
}


def _cell_writer(column: dict, formats: dict):
    """How to write one column's cells: a whole count or per cent straight in as a number
    (most of a table by site's 20,000 cells), anything else through `sheet_value`."""
    if column["kind"] not in ("count", "percent"):
        return lambda sheet, r, c, value: _write_value(sheet, r, c, value, column, formats)
    number_format = formats[column["kind"]]

    def write(sheet, r: int, c: int, value: Any) -> None:
        if type(value) is int:  # not bool
            sheet.write_number(r, c, value, number_format)
        else:
            _write_value(sheet, r, c, value, column, formats)

    return write


def _write_value(sheet, r: int, c: int, value: Any, column: dict, formats: dict) -> None:
    shown, number_format = sheet_value(value, column)
    if isinstance(shown, str):
        sheet.write_string(r, c, shown)
    else:
        sheet.write_number(r, c, shown, formats.get(number_format))


def sheet_value(value: Any, column: dict) -> tuple[str | int | float, str | None]:
    """What a spreadsheet cell holds, and its number format key ("count", "percent",
    "number:D"): text ("[c]", "[x]", "<0.001", labels) as text, every figure as a number."""
    if value is None:
        return NOT_AVAILABLE, None
    if isinstance(value, bool | str):
        return str(value), None
    if column["kind"] == "number":
        # A spreadsheet is for people: the value rounded once, half-up, as the page shows it.
        decimals = column.get("decimals", 2)
        shown = half_up(value, decimals)
        below = column.get("p_value") and (p_text(value, decimals) or "").startswith("<")
        if below:  # "<0.001", as the page shows it, not 0.000
            return p_text(value, decimals), None
        if shown is None:
            return NOT_AVAILABLE, None
        return float(shown), f"number:{min(decimals, 4)}"
    return value, column["kind"]


# The layout both spreadsheets (XLSX here, ODS in surveys.reports.export_ods) share -----

NOT_FOR_PUBLICATION = N_("Not for publication: exact counts, for use inside the study only.")
SHEET_INTROS = {
    "contents": N_("This worksheet contains one table. Select a sheet name to go to that "
                   "table."),
    "notes": N_("This worksheet contains one table."),
    "table": N_("This worksheet contains one table. Its base, notes and caveats are on the "
                "Notes worksheet."),
}


def report_tables(report: dict[str, Any]) -> list[tuple[dict, dict]]:
    """(section, table) of every table, in order: table i is on sheet Table_i."""
    return [(s, tb) for s in report["sections"] for tb in s["tables"]]


def sheet_intro(report: dict[str, Any], kind: str) -> str:
    """The line under a sheet's title (cell A2). A file that is not for publication says so
    on every sheet, in that same cell, so each table starts in the same place in both."""
    text = t(SHEET_INTROS[kind], report["language"])
    if report["publication"]:
        return text
    return f"{t(NOT_FOR_PUBLICATION, report['language'])} {text}"


def cover_lines(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(style: title | heading | wrap, text) of each line of the cover, from A1 down."""
    language = report["language"]
    lines = [
        ("title", t(N_("Evaluation report: {study}"), language, study=report["study_name"])),
        *([] if report["publication"] else [("wrap", t(NOT_FOR_PUBLICATION, language))]),
        ("heading", t(N_("About these tables"), language)),
        *([("wrap", t(N_("Tables are broken down by: {breakdown}."), language,
                      breakdown=report["breakdown_label"]))] if report["breakdown"] else []),
        ("wrap", t(N_("The quantitative tables of the evaluation, computed by the service from "
                      "its database: referrals, the intervention, each survey wave, paired "
                      "change from the end of the intervention to {wave}, and who is "
                      "missing."), language,
                    wave=report.get("follow_up_label") or report["follow_up"])
         if report.get("baseline_source", "end_of_intervention") == "end_of_intervention" else
         t(N_("The quantitative tables of the evaluation, computed by the service from "
              "its database: each survey wave, paired change from the value stored for each "
              "participant to {wave}, and who is missing."), language,
           wave=report.get("follow_up_label") or report["follow_up"])),
        ("heading", t(N_("Disclosure control"), language)),
        ("wrap", report["disclosure"]["statement"]),
        ("heading", t(N_("Symbols"), language)),
        ("wrap", report["disclosure"]["symbols"]),
        ("heading", t(N_("Per cents"), language)),
        ("wrap", t(N_("Per cents are of each table's base, rounded half-up to whole numbers, "
                      "so they need not add up to 100."), language)),
        ("heading", t(N_("Contents"), language)),
        ("wrap", t(N_("The Contents worksheet lists every table with a link to it; the Notes "
                      "worksheet holds each table's base, notes and caveats."), language)),
    ]
    return lines


def contents_table(tables: list[tuple[dict, dict]]) -> list[list[str]]:
    """Sheet name, table title, section title: one row per table."""
    return [[_sheet_name(i), tb["title"], s["title"]] for i, (s, tb) in enumerate(tables, 1)]


def notes_table(tables: list[tuple[dict, dict]], language: str) -> list[list[str]]:
    """Sheet name, kind of note, note text: each table's base, notes and caveats, and its
    section's notes with the section's first table."""
    rows = []
    for i, (section, table) in enumerate(tables, start=1):
        for kind, texts in (("base", [table["base_text"]]), ("note", table["notes"]),
                            ("caveat", table["caveats"])):
            for text in texts:
                if text:
                    rows.append([_sheet_name(i), t(KIND_LABELS[kind], language), text])
        if i == 1 or tables[i - 2][0]["id"] != section["id"]:
            for text in [*section["notes"], *section["caveats"]]:
                rows.append([_sheet_name(i), t(KIND_LABELS["section"], language), text])
    return rows


def _unique_headers(headers: list[str]) -> list[str]:
    """Excel table headers must be unique and hold no line breaks."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        text = re.sub(r"\s+", " ", str(header)).strip() or "-"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        out.append(text)
    return out
