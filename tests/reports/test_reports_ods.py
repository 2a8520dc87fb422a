"""The evaluation spreadsheet as ODS: the same sheets and values as the XLSX, figures stored
as numbers in both, "not for publication" on every sheet of an internal file, roles."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analysis.disclosure import SUPPRESSED
from surveys.cohort.referrals import import_referrals
from surveys.models import Study
from tests.helpers import sign_in
from tests.reports.conftest import DEMO_PASSWORD, find_table
from tests.reports.test_reports_evaluator_rule import client_as, load_study

ODS = "application/vnd.oasis.opendocument.spreadsheet"
NOT_FOR_PUBLICATION = "not for publication"


def read_ods(data: bytes) -> dict[str, list[list]]:
    """Sheet name -> rows of values, read with odfpy: float cells as floats, string cells
    as text (anything else would fail the comparison)."""
    from odf import teletype
    from odf.namespaces import OFFICENS, TABLENS
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    out = {}
    for table in load(io.BytesIO(data)).spreadsheet.getElementsByType(Table):
        rows = []
        for row in table.getElementsByType(TableRow):
            values: list = []
            for cell in row.getElementsByType(TableCell):
                kind = cell.attributes.get((OFFICENS, "value-type"))
                if kind == "float":
                    value = float(cell.attributes[(OFFICENS, "value")])
                elif kind == "string":
                    value = "\n".join(teletype.extractText(p) for p in cell.childNodes)
                else:
                    value = None
                repeat = int(cell.attributes.get((TABLENS, "number-columns-repeated"), 1))
                values.extend([value] * repeat)
            rows.append(_trimmed(values))
        out[table.getAttribute("name")] = _without_trailing_blank_rows(rows)
    return out


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data))
    return {name: _without_trailing_blank_rows(
        [_trimmed(list(row)) for row in book[name].iter_rows(values_only=True)])
        for name in book.sheetnames}


def _trimmed(values: list) -> list:
    while values and values[-1] is None:
        values.pop()
    return values


def _without_trailing_blank_rows(rows: list[list]) -> list[list]:
    while rows and not rows[-1]:
        rows.pop()
    return rows


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture
def evaluator(demo_app):
    client = demo_app.test_client()
    sign_in(client, "evaluator@example.org", DEMO_PASSWORD)
    return client


def fte_column(sheets: dict[str, list[list]], title: str) -> dict[str, object]:
    sheet = next(rows for rows in sheets.values() if rows and rows[0] == [title])
    column = sheet[3].index("Practitioners (FTE)")
    return {row[0]: row[column] for row in sheet[4:]}


@pytest.mark.parametrize("query", ["", "?publication=1", "?breakdown=site"])
def test_the_ods_has_the_sheets_and_values_of_the_xlsx_with_numbers_as_numbers(
        evaluator, query):
    response = evaluator.get(f"/reports/ehd-2024/evaluation.ods{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ODS
    assert response.headers["Content-Disposition"].endswith('.ods"')
    ods = read_ods(response.get_data())
    xlsx = read_xlsx(evaluator.get(f"/reports/ehd-2024/evaluation.xlsx{query}").get_data())
    report = evaluator.get(f"/api/studies/ehd-2024/reports/evaluation{query}").get_json()
    tables = [t for s in report["sections"] for t in s["tables"]]

    # Every table, then the codebook as the last table sheet.
    assert list(ods) == list(xlsx) == ["Cover", "Contents", "Notes", *[
        f"Table_{i}" for i in range(1, len(tables) + 2)]]
    numbers = 0
    for name, rows in xlsx.items():
        assert len(ods[name]) == len(rows), name
        for r, (ours, theirs) in enumerate(zip(ods[name], rows, strict=True)):
            assert len(ours) == len(theirs), (name, r)
            for a, b in zip(ours, theirs, strict=True):
                assert is_number(a) == is_number(b), (name, r, a, b)
                assert a == pytest.approx(b) if is_number(b) else a == b, (name, r, a, b)
                numbers += is_number(b)
    assert numbers > 500
    for i, table in enumerate(tables, start=1):
        assert ods[f"Table_{i}"][0] == [table["title"]]
        assert ods[f"Table_{i}"][3][0] == table["row_header"]
    # Symbols are text cells, not numbers or blanks.
    every = [v for rows in ods.values() for row in rows for v in row]
    assert "[x]" in every
    if "publication" in query:
        assert SUPPRESSED in every
    # A second, independent reader agrees (pandas' own ODF reader).
    frame = pd.read_excel(io.BytesIO(response.get_data()), sheet_name="Table_1", header=None,
                          engine="odf")
    assert frame.iloc[0, 0] == tables[0]["title"]


@pytest.mark.parametrize("ext", ["ods", "xlsx"])
def test_the_codebook_is_the_last_sheet_of_both_spreadsheets(evaluator, demo_session, ext):
    from surveys.responses.codebook import codebook_rows, headings
    from tests.reports.conftest import demo_study

    read = read_ods if ext == "ods" else read_xlsx
    sheets = read(evaluator.get(f"/reports/ehd-2024/evaluation.{ext}").get_data())
    last = list(sheets)[-1]
    rows = sheets[last]
    assert rows[0] == ["Codebook: Employment and Health Discussion evaluation (synthetic demo)"]
    expected = codebook_rows(demo_session, demo_study(demo_session), "en")
    heads = headings(expected, "en")
    assert rows[3] == list(heads.values())
    body = rows[4:]
    assert len(body) == len(expected) > 10
    # Empty text cells read back as missing: compare the filled ones, in order.
    for got, want in zip(body, expected, strict=True):
        assert [v for v in got if v not in ("", None)] == [
            want[k] for k in heads if want[k] != ""]
    assert any(row[:2] == [last, rows[0][0]] for row in sheets["Contents"])
    workability = next(r for r in expected if r["variable"] == "workability")
    assert "10" in workability["values"]


def test_the_fte_of_each_site_is_a_number_in_both_spreadsheets(evaluator):
    report = evaluator.get("/api/studies/ehd-2024/reports/evaluation").get_json()
    title = find_table(report, "referrals-by-site")["title"]
    for read, ext in ((read_ods, "ods"), (read_xlsx, "xlsx")):
        fte = fte_column(read(evaluator.get(f"/reports/ehd-2024/evaluation.{ext}").get_data()),
                         title)
        assert fte["Hull"] == 2.2 and fte["Chelmsford"] == 0.7 and fte["Bradford"] == 1, ext
        assert fte["Total"] == pytest.approx(15.9), ext
        assert all(is_number(v) for v in fte.values()), (ext, fte)


@pytest.mark.parametrize("ext", ["ods", "xlsx"])
def test_not_for_publication_is_on_every_sheet_of_an_internal_file_only(evaluator, ext):
    read = read_ods if ext == "ods" else read_xlsx
    internal = read(evaluator.get(f"/reports/ehd-2024/evaluation.{ext}").get_data())
    for name, rows in internal.items():
        # Above the table, so a sheet copied out on its own still says it.
        top = " ".join(str(v) for row in rows[:3] for v in row).lower()
        assert NOT_FOR_PUBLICATION in top, (ext, name)
    published = read(evaluator.get(f"/reports/ehd-2024/evaluation.{ext}?publication=1")
                     .get_data())
    for name, rows in published.items():
        text = " ".join(str(v) for row in rows for v in row).lower()
        assert NOT_FOR_PUBLICATION not in text, (ext, name)
    # The tables start in the same cell in both files (title, two lines, then the header).
    assert internal["Table_1"][3] == published["Table_1"][3]


def test_evaluators_get_the_evaluator_rule_in_the_ods(app, session_factory, clock):
    """A site of 2 clients (and 5 referrals) is hidden from evaluators with a second site;
    its staffing (FTE) is not about clients and stays; researchers see every figure."""
    load_study(session_factory, clock, {"Hull": 12, "Leeds": 10, "Tiny": 2}, slug="mi")
    header = ("site,eligible_referrals,successfully_closed,in_progress,not_completed_unsuitable,"
              "not_completed_disengaged,not_completed_claim_closed,fte\n")
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "mi"))
        import_referrals(s, study, header + "Hull,40,12,10,8,6,4,1.0\n"
                         "Leeds,30,10,8,6,4,2,0.8\nTiny,5,2,1,1,1,0,0.25\n")
        s.commit()
    url = "/reports/mi/evaluation.ods?follow_up=wave2&breakdown=site"
    seen = read_ods(client_as(app, "evaluator").get(url).get_data())
    exact = read_ods(client_as(app, "researcher").get(url).get_data())
    title = "Referrals, outcomes and completions by site"
    for sheets, hidden in ((seen, True), (exact, False)):
        sheet = next(rows for rows in sheets.values() if rows and rows[0] == [title])
        header_row = sheet[3]
        tiny = dict(zip(header_row, next(r for r in sheet if r[0] == "Tiny"), strict=True))
        assert tiny["Practitioners (FTE)"] == 0.25
        assert (tiny["Eligible referrals"] == SUPPRESSED) is hidden
        assert (tiny["Eligible referrals"] == 5) is not hidden
    by_site = [rows for rows in seen.values() if rows and "Tiny: number" in rows[3]]
    assert by_site
    for rows in by_site:
        column = rows[3].index("Tiny: number")
        assert {row[column] for row in rows[4:]} == {SUPPRESSED}
