"""The evaluation spreadsheet as OpenDocument (.ods), the open format the Government
Analysis Function's guidance asks for beside XLSX.

The same layout as surveys.reports.export.render_xlsx, from the same helpers: a cover, a
table of contents, a notes sheet and one table per sheet, each starting in A1 with its
title. Figures are float cells (office:value-type="float") with a number format, so they
add up; everything else, "[c]" and "[x]" included, is a string cell, never a formula.
Written with odfpy, not by hand.
"""

from __future__ import annotations

import io
from typing import Any

from surveys.i18n import N_
from surveys.reports.build import t
from surveys.reports.export import (
    contents_table,
    cover_lines,
    notes_table,
    report_tables,
    sheet_intro,
    sheet_value,
)

# Column widths in cm (XLSX's widths in characters x 0.2 cm).
CM_PER_CHARACTER = 0.2


def render_ods(report: dict[str, Any], extra: list[tuple[dict, dict]] = ()) -> bytes:
    """`extra`: (section, table) pairs laid out after the report's tables (the codebook)."""
    from odf import dc
    from odf.opendocument import OpenDocumentSpreadsheet

    language = report["language"]
    doc = OpenDocumentSpreadsheet()
    doc.meta.addElement(dc.Title(text=t(N_("Evaluation report: {study}"), language,
                                        study=report["study_name"])))
    doc.meta.addElement(dc.Subject(text=t(N_("Evaluation tables"), language)))
    doc.meta.addElement(dc.Creator(text=t(N_("Health and work surveys"), language)))
    doc.meta.addElement(dc.Language(text="cy-GB" if language == "cy" else "en-GB"))
    book = _Book(doc)
    tables = report_tables(report) + list(extra)

    cover = book.sheet("Cover", [110])
    for style, line in cover_lines(report):
        cover.row([(line, style)])

    contents = book.sheet("Contents", [14, 90, 50])
    contents.row([(t(N_("Table of contents"), language), "title")])
    contents.row([sheet_intro(report, "contents")])
    contents.row([t(N_("Sheet name"), language), t(N_("Table title"), language),
                  t(N_("Section"), language)], style="header")
    for name, table_title, section_title in contents_table(tables):
        contents.row([(name, "link"), table_title, section_title])

    notes = book.sheet("Notes", [14, 20, 110])
    notes.row([(t(N_("Notes"), language), "title")])
    notes.row([sheet_intro(report, "notes")])
    notes.row([t(N_("Sheet name"), language), t(N_("Kind of note"), language),
               t(N_("Note text"), language)], style="header")
    for name, kind, text in notes_table(tables, language):
        notes.row([name, kind, (text, "wrap")])

    for i, (_section, table) in enumerate(tables, start=1):
        sheet = book.sheet(f"Table_{i}", [60, *[18] * len(table["columns"])])
        sheet.row([(table["title"], "title")])
        sheet.row([sheet_intro(report, "table")])
        sheet.row([table["base_text"]])
        sheet.row([table["row_header"], *[c["label"] for c in table["columns"]]],
                  style="header")
        for row in table["rows"]:
            sheet.row([row["label"], *[sheet_value(row["cells"].get(c["key"]), c)
                                       for c in table["columns"]]])

    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


class _Book:
    """Sheets, with the few styles the layout needs (made once, shared by every sheet)."""

    def __init__(self, doc) -> None:
        from odf.number import Number, NumberStyle
        from odf.style import Style, TableCellProperties, TextProperties

        self.doc = doc
        self.cell_styles: dict[str | None, Any] = {None: None}

        def cell_style(name: str, **text) -> Style:
            style = Style(name=name, family="table-cell")
            style.addElement(TableCellProperties(verticalalign="top", **(
                {"wrapoption": "wrap"} if name in ("wrap", "header") else {})))
            if text:
                style.addElement(TextProperties(**text))
            doc.automaticstyles.addElement(style)
            return style

        self.cell_styles["title"] = cell_style("title", fontweight="bold", fontsize="15pt")
        self.cell_styles["heading"] = cell_style("heading", fontweight="bold", fontsize="13pt")
        self.cell_styles["wrap"] = cell_style("wrap")
        self.cell_styles["header"] = cell_style("header", fontweight="bold")
        self.cell_styles["link"] = None
        link = Style(name="link", family="text")
        link.addElement(TextProperties(color="#1d70b8", textunderlinestyle="solid",
                                       textunderlinewidth="auto", textunderlinecolor="font-color"))
        doc.automaticstyles.addElement(link)
        self.link_style = link
        # Number formats, as the XLSX's: counts with thousands separators, whole per cents,
        # numbers to their column's decimal places.
        formats = {"count": (0, True), "percent": (0, False),
                   **{f"number:{d}": (d, False) for d in range(5)}}
        for key, (decimals, grouping) in formats.items():
            name = "N-" + key.replace(":", "-")
            number = NumberStyle(name=name)
            number.addElement(Number(decimalplaces=decimals, minintegerdigits=1,
                                     grouping="true" if grouping else "false"))
            doc.automaticstyles.addElement(number)
            style = Style(name=f"C-{name}", family="table-cell", datastylename=name)
            doc.automaticstyles.addElement(style)
            self.cell_styles[key] = style
        self.column_styles: dict[float, Any] = {}

    def column_style(self, characters: float):
        from odf.style import Style, TableColumnProperties

        if characters not in self.column_styles:
            style = Style(name=f"co{len(self.column_styles) + 1}", family="table-column")
            style.addElement(TableColumnProperties(
                columnwidth=f"{characters * CM_PER_CHARACTER:.2f}cm"))
            self.doc.automaticstyles.addElement(style)
            self.column_styles[characters] = style
        return self.column_styles[characters]

    def sheet(self, name: str, widths: list[float]) -> _Sheet:
        from odf.table import Table, TableColumn

        table = Table(name=name)
        for width in widths:
            table.addElement(TableColumn(stylename=self.column_style(width)))
        self.doc.spreadsheet.addElement(table)
        return _Sheet(self, table)


class _Sheet:
    def __init__(self, book: _Book, table) -> None:
        self.book = book
        self.table = table

    def row(self, cells: list, style: str | None = None) -> None:
        """One row from A: each cell a text, a (text, style) pair or, from sheet_value, a
        (number, number format) pair."""
        from odf.table import TableCell, TableRow
        from odf.text import A, P

        row = TableRow()
        for cell in cells:
            value, kind = cell if isinstance(cell, tuple) else (cell, style)
            if isinstance(value, str):
                element = TableCell(valuetype="string", stylename=self.book.cell_styles[kind])
                paragraph = P()
                if kind == "link":  # to the table's sheet, as the XLSX's contents link
                    paragraph.addElement(A(href=f"#{value}.A1", text=value,
                                           stylename=self.book.link_style))
                else:
                    paragraph.addText(value)
                element.addElement(paragraph)
            else:
                element = TableCell(valuetype="float", value=value,
                                    stylename=self.book.cell_styles[kind])
                element.addElement(P(text=str(value)))
            row.addElement(element)
        self.table.addElement(row)
