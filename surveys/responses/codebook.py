"""The codebook: every variable of a study's exports (responses of each wave, and pairs of
each wave that asks a measure), with its question text in each study language, type,
values and labels, missing-value codes, routing, the measure it feeds and the instrument
versions that ask it. As HTML, CSV or XLSX.

Built from the same variables as the labelled exports (surveys/responses/labelled.py), for
the versions already answered plus the wave's current questionnaire, so it also covers
exports still to come.
"""

from __future__ import annotations

import html
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import InstrumentNotFound
from surveys.csv_safety import write_csv
from surveys.i18n import N_, translate
from surveys.models import Response, Study, Wave
from surveys.responses import labelled
from surveys.responses.labelled import STATA_MISSING, Variable

FORMATS = ("html", "csv", "xlsx")
LANGUAGE_NAMES = {"en": N_("English"), "cy": N_("Welsh")}


def _versions(session: Session, wave: Wave) -> list[Response]:
    """One stand-in response per (instrument, version) answered in the wave."""
    keys = session.execute(select(Response.instrument, Response.instrument_version)
                           .where(Response.wave_id == wave.id, Response.status == "submitted")
                           .distinct()).all()
    return [Response(instrument=name, instrument_version=version) for name, version in keys]


def _values(variable: Variable) -> str:
    return "; ".join(f"{code} = {label}" for code, label in variable.values.items())


def _missing(variable: Variable) -> str:
    if variable.kind == "text":
        return ""
    return "; ".join(f"{label}: {code} (SPSS), .{STATA_MISSING[code]} (Stata)"
                     for code, label in variable.missing.items())


def _rows(export: str, wave: Wave, by_language: dict[str, list[Variable]],
          language: str) -> list[dict[str, str]]:
    shown = by_language[language]
    rows = []
    for index, variable in enumerate(shown):
        row = {"export": export, "wave": wave.code, "variable": variable.name,
               "source": variable.source}
        for lang, variables in by_language.items():
            row[f"text_{lang}"] = variables[index].label
        row.update({
            "type": variable.kind,
            "answer_type": variable.question.type if variable.question else "",
            "values": _values(variable),
            "missing": _missing(variable),
            "routing": variable.routing,
            "measure": variable.measure or "",
            "instrument_version": ", ".join(variable.versions),
            "name_note": "" if variable.name == variable.wanted else variable.wanted,
        })
        rows.append(row)
    return rows


def codebook_rows(session: Session, study: Study, language: str = "en") -> list[dict[str, str]]:
    """One row per variable of every export of the study, in export order."""
    languages = list(dict.fromkeys([*(study.languages or ["en"]), language]))
    rows: list[dict[str, str]] = []
    for wave in study.waves:
        instruments = labelled.wave_instruments(session, wave, _versions(session, wave),
                                                with_current=True)
        rows += _rows("responses", wave, {
            lang: labelled.response_variables(study, wave, instruments, lang)
            for lang in languages}, language)
        if labelled.asks_a_measure(study, instruments):
            rows += _rows("pairs", wave, {
                lang: labelled.pair_variables(study, wave, instruments, lang)
                for lang in languages}, language)
    return rows


def headings(rows: list[dict[str, str]], language: str) -> dict[str, str]:
    """Column key -> heading, in `language`."""
    names = {
        "export": N_("Export"), "wave": N_("Wave"), "variable": N_("Variable"),
        "source": N_("Source"), "type": N_("Type"), "answer_type": N_("Answer type"),
        "values": N_("Values and labels"), "missing": N_("Missing-value codes (SPSS, Stata)"),
        "routing": N_("Asked when (routing)"), "measure": N_("Measure it feeds"),
        "instrument_version": N_("Instrument versions"),
        "name_note": N_("Shortened from (variable name rules)"),
    }
    keys = list(rows[0]) if rows else list(names)
    out = {}
    for key in keys:
        if key.startswith("text_"):
            lang = key.removeprefix("text_")
            out[key] = translate(N_("Question or label (%(name)s)"), language,
                                 name=translate(LANGUAGE_NAMES.get(lang, lang), language))
        else:
            out[key] = translate(names[key], language)
    return out


def render(rows: list[dict[str, str]], study: Study, fmt: str, language: str) -> bytes:
    heads = headings(rows, language)
    title = translate(N_("Codebook: %(study)s"), language, study=study.name)
    if fmt == "csv":
        return write_csv([list(heads), *([row[k] for k in heads] for row in rows)]).encode()
    if fmt == "xlsx":
        return _xlsx(rows, heads, title, language)
    return _html(rows, heads, title, language).encode("utf-8")


def spreadsheet_sheets(session: Session, study: Study, language: str) -> list[tuple[dict, dict]]:
    """The codebook sheet for the evaluation spreadsheet, or none when an answered
    instrument version cannot be read (the spreadsheet's figures must still come out)."""
    try:
        return [spreadsheet_table(session, study, language)]
    except InstrumentNotFound:
        return []


def spreadsheet_table(session: Session, study: Study, language: str) -> tuple[dict, dict]:
    """The codebook as one more (section, table) of the evaluation spreadsheet (XLSX and
    ODS), in the shape surveys.reports.export lays out: the last sheet, listed in Contents."""
    rows = codebook_rows(session, study, language)
    heads = headings(rows, language)
    first, *rest = heads
    title = translate(N_("Codebook: %(study)s"), language, study=study.name)
    section = {"id": "codebook", "title": translate(N_("Codebook"), language),
               "notes": [], "caveats": []}
    table = {
        "id": "codebook", "title": title, "row_header": heads[first],
        "base_text": translate(N_("Every variable of the study's exports (responses of each "
                                  "wave, and pairs), with its question text, values and "
                                  "labels."), language),
        "notes": [], "caveats": [],
        "columns": [{"key": key, "label": heads[key], "kind": "text"} for key in rest],
        "rows": [{"key": str(i), "label": row[first],
                  "cells": {key: row[key] for key in rest}} for i, row in enumerate(rows)],
    }
    return section, table


def _html(rows: list[dict[str, str]], heads: dict[str, str], title: str, language: str) -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in heads.values())
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(row[key])}</td>" for key in heads) + "</tr>" for row in rows)
    # A file to open anywhere: on a phone the wide table scrolls in its own region (labelled,
    # and focusable so a keyboard can scroll it), not the whole page.
    return (f'<!DOCTYPE html>\n<html lang="{e(language)}">\n<head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title>\n<style>body{{font-family:arial,sans-serif}}"
            "table{border-collapse:collapse}"
            "th,td{border:1px solid #b1b4b6;padding:4px;vertical-align:top;text-align:left}"
            ".region{overflow-x:auto}.region:focus{outline:3px solid #ffdd00}"
            f"</style></head>\n<body>\n<main>\n<h1>{e(title)}</h1>\n"
            f'<div class="region" role="region" tabindex="0" aria-label="{e(title)}">\n'
            f'<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n'
            "</div>\n</main>\n</body>\n</html>\n")


def _xlsx(rows: list[dict[str, str]], heads: dict[str, str], title: str,
          language: str) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    book.set_properties({"title": title,
                         "language": "cy-GB" if language == "cy" else "en-GB"})
    sheet = book.add_worksheet("Codebook")
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 15}))
    for column, (key, heading) in enumerate(heads.items()):
        sheet.write(2, column, heading, bold)
        wide = key.startswith("text_") or key in ("values", "missing", "routing")
        sheet.set_column(column, column, 45 if wide else 18)
        for index, row in enumerate(rows, start=3):
            sheet.write_string(index, column, row[key], wrap)
    sheet.freeze_panes(3, 0)
    book.close()
    return buffer.getvalue()
