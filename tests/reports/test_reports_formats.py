"""The page, CSV, spreadsheet and JSON show the same numbers; roles; charts; disclosure."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from analysis.disclosure import SUPPRESSED
from analysis.rounding import half_up
from surveys.reports import cell_text
from tests.helpers import sign_in
from tests.reports.conftest import DEMO_PASSWORD, cell, find_table

CELL = re.compile(r'<td class="[^"]*" data-column="([^"]+)">(.*?)</td>', re.S)
ROW = re.compile(r'<tr class="govuk-table__row[^"]*">\s*<th scope="row"[^>]*>(.*?)</th>(.*?)</tr>',
                 re.S)
TABLE = re.compile(r'data-table-id="([^"]+)">(.*?)</table>', re.S)


@pytest.fixture
def evaluator(demo_app):
    client = demo_app.test_client()
    sign_in(client, "evaluator@example.org", DEMO_PASSWORD)
    return client


@pytest.fixture
def researcher(demo_app):
    client = demo_app.test_client()
    sign_in(client, "researcher@example.org", DEMO_PASSWORD)
    return client


def page_tables(html: str) -> dict[str, list[tuple[str, dict[str, str]]]]:
    out = {}
    for table_id, body in TABLE.findall(html):
        rows = []
        for label, cells in ROW.findall(body):
            rows.append((unescape(label.strip()),
                         {k: unescape(v.strip()) for k, v in CELL.findall(cells)}))
        out[table_id] = rows
    return out


def same(value, other) -> bool:
    if value is None:
        return other in ("", None, "[x]")
    if isinstance(value, str):
        return str(other) == value
    return other not in ("", None) and float(other) == pytest.approx(float(value))


@pytest.mark.parametrize("query", ["", "?publication=1", "?breakdown=site&publication=1"])
def test_page_csv_spreadsheet_and_json_agree(evaluator, query):
    report = evaluator.get(f"/api/studies/ehd-2024/reports/evaluation{query}").get_json()
    tables = [t for s in report["sections"] for t in s["tables"]]
    assert len(tables) > 30

    page = evaluator.get(f"/reports/ehd-2024/evaluation{query}")
    assert page.status_code == 200
    shown = page_tables(page.get_data(as_text=True))
    for table in tables:
        rows = shown[table["id"]]
        assert [label for label, _ in rows] == [r["label"] for r in table["rows"]]
        for (_, cells), row in zip(rows, table["rows"], strict=True):
            for column in table["columns"]:
                if column["key"] in row["cells"]:
                    expected = cell_text(row["cells"][column["key"]], column)
                    assert cells[column["key"]] == expected, (table["id"], row["key"])

    text = evaluator.get(f"/reports/ehd-2024/evaluation.csv{query}").get_data(as_text=True)
    lines = list(csv.DictReader(io.StringIO(text)))
    by_key = {(r["table_id"], r["row_key"], r["column_key"]): r["value"] for r in lines}
    count = 0
    for table in tables:
        for row in table["rows"]:
            for key, value in row["cells"].items():
                assert same(value, by_key[(table["id"], row["key"], key)]), (table["id"], key)
                count += 1
    assert count == len(lines)

    book = load_workbook(io.BytesIO(
        evaluator.get(f"/reports/ehd-2024/evaluation.xlsx{query}").get_data()))
    assert book.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    for i, table in enumerate(tables, start=1):
        sheet = book[f"Table_{i}"]
        assert sheet["A1"].value == table["title"]
        assert not sheet.merged_cells.ranges
        header = [c.value for c in sheet[4]]
        assert header[0] == table["row_header"]
        for r, row in enumerate(table["rows"], start=5):
            values = [c.value for c in sheet[r]]
            assert values[0] == row["label"]
            for c, column in enumerate(table["columns"], start=1):
                value = row["cells"].get(column["key"])
                if column["kind"] == "number" and isinstance(value, float):
                    # JSON at full precision; the spreadsheet rounded once, half-up
                    value = float(half_up(value, column["decimals"]))
                assert same(value, values[c]) or (value is None and values[c] == "[x]"), (
                    table["id"], row["key"], column["key"])
    cover = " ".join(str(c.value) for c in book["Cover"]["A"] if c.value)
    assert "[c]" in cover and "[x]" in cover


def test_publication_hides_small_counts_everywhere(evaluator):
    report = evaluator.get("/api/studies/ehd-2024/reports/evaluation?publication=1").get_json()
    assert report["publication"] and report["disclosure"]["applied"]
    assert "1 to 7" in report["disclosure"]["rule"]
    for sec in report["sections"]:
        for table in sec["tables"]:
            for row in table["rows"]:
                for column in table["columns"]:
                    value = row["cells"].get(column["key"])
                    if column["kind"] == "count" and isinstance(value, int):
                        assert not 1 <= value <= 7, (table["id"], row["key"], column["key"])
    # Secondary suppression: 5 higher is hidden, and so is one more cell of its row.
    assert cell(report, "paired-change", "workability", "improved") == SUPPRESSED
    assert cell(report, "paired-change", "workability", "deteriorated") == SUPPRESSED
    assert cell(report, "paired-change", "workability", "improved_percent") == SUPPRESSED
    assert cell(report, "paired-statistics", "workability", "improved_ci_low") == SUPPRESSED
    # A one-way table never shows exactly one suppressed cell beside a shown total.
    for sec in report["sections"]:
        for table in sec["tables"]:
            if [c["key"] for c in table["columns"]] == ["count", "percent"]:
                categories = [r for r in table["rows"] if r["kind"] == "category"]
                hidden = sum(r["cells"]["count"] == SUPPRESSED for r in categories)
                total = next((r for r in table["rows"] if r["kind"] == "total"), None)
                if total and total["cells"]["count"] != SUPPRESSED and "multiple" not in str(
                        table["notes"]) and "more than one" not in " ".join(table["notes"]):
                    assert hidden != 1, table["id"]
    paired = report["paired"]
    assert paired["measures"]["workability"]["improved"] == SUPPRESSED
    assert paired["publication"]["threshold"] == 7
    caveats = " ".join(paired["measures"]["workability"]["caveats"])
    assert "[c] of the 34 responses" in caveats or paired["responses"] == SUPPRESSED


def test_internal_view_says_it_is_not_for_publication(evaluator):
    report = evaluator.get("/api/studies/ehd-2024/reports/evaluation").get_json()
    assert not report["publication"]
    assert report["disclosure"]["statement"].startswith("Not for publication")
    assert cell(report, "paired-change", "workability", "improved") == 5


def test_paired_endpoints_carry_the_extras_and_publication(evaluator):
    paired = evaluator.get("/api/studies/ehd-2024/reports/paired?follow_up=wave2").get_json()
    m = paired["measures"]["workability"]
    assert {"n", "improved", "same", "deteriorated", "mean_change", "median_change",
            "sign_test", "wilcoxon", "caveats"} <= set(m)
    assert m["improved_share"]["method"] == "wilson"
    assert m["improved_share"]["ci_low"] < 5 / 28 < m["improved_share"]["ci_high"]
    assert m["reliable_change"]["threshold"] == 2
    assert m["hodges_lehmann"]["ci_low"] <= m["hodges_lehmann"]["estimate"]
    assert -1 <= m["rank_biserial"]["value"] <= 1
    assert "wilcoxon" in m["methods"]
    page = evaluator.get("/reports/ehd-2024/paired").get_data(as_text=True)
    assert "Hodges-Lehmann" in page and "wilson" in page
    published = evaluator.get("/reports/ehd-2024/paired.csv?publication=1").get_data(
        as_text=True)
    row = next(csv.DictReader(io.StringIO(published)))
    assert row["improved"] == SUPPRESSED and row["publication"] == "yes"
    assert "1 to 7" in row["disclosure_rule"]


def test_evaluators_get_aggregates_only(evaluator, researcher):
    assert evaluator.get("/reports/ehd-2024/pairs.csv").status_code == 403
    for url in ("/reports/ehd-2024/evaluation", "/api/studies/ehd-2024/reports/evaluation",
                "/reports/ehd-2024/evaluation.csv", "/reports/ehd-2024/evaluation?breakdown=site"):
        body = evaluator.get(url).get_data(as_text=True)
        assert not re.search(r"EHD-\d{4}", body), url
        assert "07700" not in body and "@example" not in body.replace(
            "evaluator@example.org", "")
    rows = researcher.get("/reports/ehd-2024/pairs.csv").get_data(as_text=True).splitlines()
    assert rows[0].startswith("participant_ref,site,workability_end")
    assert len(rows) == 1 + 28


def test_charts_are_accessible_svg_without_inline_style_or_script(evaluator):
    html = evaluator.get("/reports/ehd-2024/evaluation").get_data(as_text=True)
    svgs = re.findall(r'<svg class="app-chart".*?</svg>', html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "Work ability (0 to 10): 29% lower, 54% the same, 18% higher (28 pairs)." in html
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*src=)", html)
    # Each chart is followed by the table it is drawn from.
    assert html.index("chart-paired-diverging") < html.index('data-table-id="paired-change"')
    published = evaluator.get("/reports/ehd-2024/evaluation?publication=1").get_data(
        as_text=True)
    assert "chart-paired-diverging" not in published  # its small counts are suppressed


@pytest.mark.parametrize("breakdown", ["site", "channel", "language", "appointments"])
def test_breakdowns_keep_the_totals(researcher, evaluator, breakdown):
    # Researchers see every group exactly (evaluators get small groups as [c]).
    flat = researcher.get("/api/studies/ehd-2024/reports/evaluation").get_json()
    split = researcher.get(
        f"/api/studies/ehd-2024/reports/evaluation?breakdown={breakdown}").get_json()
    assert split["breakdown"] == breakdown
    for table_id in ("appointments-per-completer", "attendance", "channel",
                     "workability-first-to-last", "wave1-satisfaction", "wave2-steps_taken"):
        table = find_table(split, table_id)
        for row in table["rows"]:
            if row["kind"] == "category":
                assert row["cells"]["_all:count"] == cell(flat, table_id, row["key"]), table_id
        groups = [c for c in table["columns"] if c["kind"] == "count" and c["key"] != "_all:count"]
        total_row = next(r for r in table["rows"] if r["key"] == "total")
        assert sum(total_row["cells"][c["key"]] for c in groups) == total_row["cells"][
            "_all:count"]
        for column in table["columns"]:
            if column["kind"] == "percent" and column["key"] != "_all:percent":
                base = total_row["cells"][column["key"].replace("percent", "count")]
                assert column.get("low_base", False) == (0 < base < 30)
    assert evaluator.get("/reports/ehd-2024/evaluation?breakdown=shoe").status_code == 400


def test_unknown_study_and_wave_are_not_found(evaluator):
    assert evaluator.get("/reports/nope/evaluation").status_code == 404
    assert evaluator.get("/reports/ehd-2024/evaluation?follow_up=wave9").status_code == 404


def test_cli_writes_every_format(demo_app, tmp_path):
    import json

    runner = demo_app.test_cli_runner()
    out = tmp_path / "evaluation.xlsx"
    done = runner.invoke(args=["report", "evaluation", "--study", "ehd-2024", "--format", "xlsx",
                               "--output", str(out), "--publication"])
    assert done.exit_code == 0, done.output
    book = load_workbook(out)
    assert "Disclosure control" in " ".join(str(c.value) for c in book["Cover"]["A"] if c.value)
    done = runner.invoke(args=["report", "evaluation", "--study", "ehd-2024", "--format", "json",
                               "--breakdown", "language"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["breakdown"] == "language"
    assert cell(report, "paired-change", "confidence", "improved") == 3
    done = runner.invoke(args=["report", "evaluation", "--study", "ehd-2024", "--format", "html"])
    assert done.exit_code == 0 and "<svg" in done.output and "Evaluation report" in done.output
    bad = runner.invoke(args=["report", "evaluation", "--study", "nope"])
    assert bad.exit_code != 0 and "No study called 'nope'" in bad.output


def test_attrition_check_matches_the_pure_function(demo_sessions, evaluator):
    from sqlalchemy import select

    from analysis import attrition_check
    from surveys.models import Invitation, Participant, Response, Wave

    report = evaluator.get("/api/studies/ehd-2024/reports/evaluation").get_json()
    with demo_sessions() as s:
        wave = s.scalar(select(Wave).join(Wave.study).where(Wave.code == "wave2",
                                                            Wave.study.has(slug="ehd-2024")))
        answered = set(s.scalars(select(Response.participant_id).where(
            Response.wave_id == wave.id, Response.participant_id.is_not(None))))
        # workability's stored end score: its measure's baseline slot (EHD: slot 1)
        rows = s.execute(select(Participant.id, Participant.baseline_1).join(
            Invitation, Invitation.participant_id == Participant.id).where(
            Invitation.wave_id == wave.id,
            Invitation.status.in_(("issued", "completed", "closed")))).all()
    # Sampled permutations depend on the order of the values: the report sorts them, so
    # its p-value is the same on every database.
    check = attrition_check(sorted(v for pid, v in rows if pid in answered),
                            sorted(v for pid, v in rows if pid not in answered))
    assert cell(report, "attrition-wave2", "workability", "p") == check.p
    assert cell(report, "attrition-wave2", "workability", "responders_median") == \
        check.median_responders
