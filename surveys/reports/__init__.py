"""Reports for evaluators: the paired-change report and every table of the evaluation.

- `paired_change.paired_report`: the paired-change report of any study (contracts 4 and 6),
  with its CSV and standalone HTML; `paired_tables`: the same as page/spreadsheet tables,
  and its publication and evaluator copies;
- `evaluation.evaluation_report`: the whole report as JSON-ready data (the one source);
- `export.render_csv` / `export.render_xlsx`: CSV and the accessible spreadsheet;
- `render_html`: a standalone HTML file (the CLI's `--format html`);
- `charts`: geometry for the page's SVG charts.
"""

from __future__ import annotations

from typing import Any


def cell_text(value: Any, column: dict) -> str:
    """A cell as a reader sees it (used by the page and the standalone HTML)."""
    from surveys.reports.table import display

    return display(value, _column(column))


def _column(column: dict):
    from surveys.reports.table import Column

    return Column(column["key"], column["label"], column["kind"], column.get("decimals", 0),
                  column.get("low_base", False), column.get("p_value", False))


def row_cells(row: dict, columns: list[dict]) -> list[tuple[bool, str, str]]:
    """(numeric, column key, text) for each cell of a table row, as cell_text shows it: the
    page's table macro reads these instead of looking each cell up, so that a breakdown by
    97 sites (some 20,000 cells) renders in a fraction of the time."""
    from surveys.reports.table import TEXT, display

    cells = row["cells"]
    return [(column["kind"] != TEXT, column["key"], display(cells.get(column["key"]),
                                                            _column(column)))
            for column in columns]


def chart_models(report: dict) -> dict:
    from surveys.reports import charts

    return {"diverging": charts.diverging(report), "before_after": charts.before_after(report),
            "arms_binary": charts.arms_binary(report), "arms_scale": charts.arms_scale(report)}


def render_html(report: dict) -> str:
    """The report as one self-contained HTML file (styles inline; no script)."""
    from flask import render_template
    from flask_babel import force_locale

    with force_locale(report["language"]):
        return render_template("pages/reports/evaluation_standalone.html", report=report,
                               charts=chart_models(report), row_cells=row_cells)
