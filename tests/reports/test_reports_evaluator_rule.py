"""The evaluator rule: evaluators never see a figure resting on a group of the study's
disclosure threshold (7) or fewer people, in any format; researchers see exact figures.

Also: the spreadsheet stores free text as text (never a formula) and shows it as typed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analysis.disclosure import SUPPRESSED, recoverable
from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.cohort.referrals import import_referrals
from surveys.models import Response, Study, User
from surveys.responses.importer import import_responses
from surveys.studies import create_study, wave_by_code
from tests.helpers import participants_csv
from tests.reports.conftest import DEMO_PASSWORD, cell, find_table
from tests.reports.test_reports_formats import page_tables
from tests.security.conftest import act_as

PASSWORD = "a long and proper passphrase 2024"


def load_study(session_factory, clock, sites: dict[str, int], slug: str = "small") -> None:
    """`sites`: clients per site; every client answered wave2, with varied scores."""
    today = clock().date()
    completed = (today - timedelta(days=60)).isoformat()
    people, answers = [], []
    n = 0
    for site, size in sites.items():
        for _ in range(size):
            n += 1
            people.append((f"C{n:03d}", site, completed, "en", "", "", n % 11, (n * 3) % 11,
                           (n * 7) % 11))
            answers.append(f"C{n:03d},{today},telephone,{(n * 5) % 11},{(n * 2) % 11},"
                           f"{(n * 9) % 11}\n")
    with session_factory() as s:
        study = create_study(s, slug, f"Study {slug}")
        import_cohort(s, study, participants_csv(*people))
        header = "participant_ref,submitted_on,mode,workability,confidence,importance\n"
        import_responses(s, study, wave_by_code(study, "wave2"), header + "".join(answers))
        for role in ("evaluator", "researcher"):
            if s.scalar(select(User).where(User.role == role)) is None:
                create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()


def client_as(app, role: str):
    client = app.test_client()
    act_as(client, app.extensions["surveys.session_factory"], role)
    return client


def breakdown_tables(report: dict) -> list[dict]:
    return [t for s in report["sections"] for t in s["tables"]
            if any(c["key"] == "_all:count" for c in t["columns"])]


def derivable(table: dict) -> set:
    """Hidden counts that the table's sums (rows across groups, columns down categories) fix."""
    counts = [c["key"] for c in table["columns"] if c["kind"] == "count"]
    groups = [k for k in counts if k != "_all:count"]
    rows = [r for r in table["rows"] if r["kind"] in ("category", "total")]
    index = {(r["key"], k): i for i, (r, k) in enumerate((r, k) for r in rows for k in counts)}
    hidden = {i for (row, k), i in index.items()
              if next(r for r in rows if r["key"] == row)["cells"][k] == SUPPRESSED}
    lines = [([index[(r["key"], k)] for k in groups], index[(r["key"], "_all:count")])
             for r in rows]
    categories = [r for r in rows if r["kind"] == "category"]
    lines += [([index[(r["key"], k)] for r in categories], index[("total", k)]) for k in counts]
    return recoverable(hidden, lines)


SITES = {"Big": 15, "Mid": 12, "Tiny": 3}
PAIRED_BY_SITE = "paired-workability-by-site"


@pytest.fixture
def small_site(app, session_factory, clock):
    load_study(session_factory, clock, SITES)
    return app


def test_a_small_site_is_hidden_from_evaluators_with_a_second_site_in_every_format(small_site):
    evaluator = client_as(small_site, "evaluator")
    query = "?follow_up=wave2&breakdown=site"
    report = evaluator.get(f"/api/studies/small/reports/evaluation{query}").get_json()
    assert report["disclosure"]["evaluator_rule"]["applied"] is True
    assert "7 or fewer people" in report["disclosure"]["statement"]
    tables = [t for t in breakdown_tables(report)
              if any(c["key"] == "Tiny:count" for c in t["columns"])]
    assert len(tables) > 5
    for table in tables:
        tiny = [r["cells"][k] for r in table["rows"] for k in ("Tiny:count", "Tiny:percent")
                if k in r["cells"]]
        assert tiny and set(tiny) == {SUPPRESSED}, table["id"]
        hidden_groups = {c["key"] for c in table["columns"] if c["kind"] == "count" and all(
            r["cells"].get(c["key"]) == SUPPRESSED for r in table["rows"]
            if c["key"] in r["cells"])}
        assert len(hidden_groups - {"_all:count"}) >= 2, table["id"]  # secondary suppression
    for table_id in (PAIRED_BY_SITE, "wave2-workability"):
        table = find_table(report, table_id)
        assert derivable(table) == set(), table_id
        assert cell(report, table_id, "total", "_all:count") == 30
    # The same in the CSV, the spreadsheet and the page.
    rows = list(csv.DictReader(io.StringIO(
        evaluator.get(f"/reports/small/evaluation.csv{query}").get_data(as_text=True))))
    tiny = [r["value"] for r in rows if r["column_key"].startswith("Tiny:")]
    assert tiny and set(tiny) == {SUPPRESSED}
    book = load_workbook(io.BytesIO(
        evaluator.get(f"/reports/small/evaluation.xlsx{query}").get_data()))
    title = find_table(report, PAIRED_BY_SITE)["title"]
    sheet = next(book[n] for n in book.sheetnames if book[n]["A1"].value == title)
    header = [c.value for c in sheet[4]]
    for name in ("Tiny: number", "Tiny: per cent"):
        column = header.index(name)
        values = [row[column].value for row in sheet.iter_rows(min_row=5)]
        assert values and set(values) == {SUPPRESSED}
    page = page_tables(evaluator.get(f"/reports/small/evaluation{query}").get_data(as_text=True))
    assert {cells["Tiny:count"] for _, cells in page[PAIRED_BY_SITE]} == {SUPPRESSED}
    assert "7 or fewer people" in evaluator.get(f"/reports/small/evaluation{query}").get_data(
        as_text=True)

    # Researchers see the exact figures.
    researcher = client_as(small_site, "researcher")
    exact = researcher.get(f"/api/studies/small/reports/evaluation{query}").get_json()
    assert exact["disclosure"]["evaluator_rule"]["applied"] is False
    assert cell(exact, PAIRED_BY_SITE, "total", "Tiny:count") == 3
    assert cell(exact, PAIRED_BY_SITE, "total", "Big:count") == 15


def test_publication_keeps_its_cell_rule_on_top_for_evaluators(small_site):
    evaluator = client_as(small_site, "evaluator")
    report = evaluator.get("/api/studies/small/reports/evaluation?breakdown=site&publication=1"
                           ).get_json()
    assert report["disclosure"]["applied"] and report["disclosure"]["evaluator_rule"]["applied"]
    for table in (t for s in report["sections"] for t in s["tables"]):
        for row in table["rows"]:
            for column in table["columns"]:
                value = row["cells"].get(column["key"])
                if column["kind"] == "count" and isinstance(value, int):
                    assert not 1 <= value <= 7, (table["id"], row["key"], column["key"])
    assert cell(report, PAIRED_BY_SITE, "total", "Tiny:count") == SUPPRESSED
    # Without a breakdown, the 30 pairs are shown: a count inside a larger group is not hidden.
    flat = evaluator.get("/api/studies/small/reports/evaluation").get_json()
    assert cell(flat, "paired-change", "workability", "n") == 30


def test_a_study_of_six_clients_shows_an_evaluator_no_figures(app, session_factory, clock):
    load_study(session_factory, clock, {"Hull": 4, "Leeds": 2}, slug="six")
    evaluator = client_as(app, "evaluator")
    report = evaluator.get("/api/studies/six/reports/evaluation?breakdown=site").get_json()
    shown = [(t["id"], r["key"], k, v) for s in report["sections"] for t in s["tables"]
             for r in t["rows"] for k, v in r["cells"].items() if v not in (SUPPRESSED, None)]
    assert shown == []
    assert "6" not in " ".join(t["base_text"] for s in report["sections"] for t in s["tables"])
    assert "no figure" in report["disclosure"]["statement"] or "none is shown" in report[
        "disclosure"]["statement"]
    page = evaluator.get("/reports/six/evaluation").get_data(as_text=True)
    assert "app-chart" not in page.replace('class="app-chart__', "")  # no chart of the 6
    book = load_workbook(io.BytesIO(evaluator.get("/reports/six/evaluation.xlsx").get_data()))
    for name in (n for n in book.sheetnames if n.startswith("Table_")
                 and not book[n]["A1"].value.startswith("Codebook")):  # no figures there
        for row in book[name].iter_rows(min_row=5, min_col=2, values_only=True):
            assert set(row) <= {SUPPRESSED, "[x]"}, name

    paired = evaluator.get("/api/studies/six/reports/paired").get_json()
    assert paired["evaluator_rule"]["applied"] and paired["responses"] == SUPPRESSED
    for m in paired["measures"].values():
        assert m["n"] == m["mean_change"] == m["sign_test"]["p"] == SUPPRESSED
        assert m["wilcoxon"]["p"] == m["improved_share"]["ci_low"] == SUPPRESSED
        assert any("none is shown to evaluators" in c for c in m["caveats"])
    text = evaluator.get("/reports/six/paired.csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["n"] == row["mean_change"] == row["wilcoxon_p"] == SUPPRESSED
    page = evaluator.get("/reports/six/paired").get_data(as_text=True)
    assert "7 or fewer people" in page and SUPPRESSED in page

    researcher = client_as(app, "researcher")
    exact = researcher.get("/api/studies/six/reports/paired").get_json()
    assert "evaluator_rule" not in exact
    assert exact["measures"]["workability"]["n"] == 6
    assert isinstance(exact["measures"]["workability"]["mean_change"], float)


def test_a_measure_of_few_pairs_is_hidden_with_its_statistics(app, session_factory, clock):
    """A large cohort, but only 5 pairs for a measure: its statistics rest on 5 people."""
    load_study(session_factory, clock, {"Hull": 20}, slug="fewpairs")
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "fewpairs"))
        responses = s.scalars(select(Response).where(
            Response.wave_id == wave_by_code(study, "wave2").id).order_by(Response.id)).all()
        for response in responses[5:]:
            response.answers = {k: v for k, v in response.answers.items() if k != "importance"}
        s.commit()
    evaluator = client_as(app, "evaluator")
    paired = evaluator.get("/api/studies/fewpairs/reports/paired").get_json()
    assert paired["measures"]["workability"]["n"] == 20
    assert paired["evaluator_rule"]["suppressed_measures"] == ["importance"]
    importance = paired["measures"]["importance"]
    assert importance["n"] == importance["median_change"] == SUPPRESSED
    report = evaluator.get("/api/studies/fewpairs/reports/evaluation").get_json()
    for table_id in ("paired-change", "paired-statistics", "paired-before-after"):
        row = next(r for r in find_table(report, table_id)["rows"] if r["key"] == "importance")
        assert set(row["cells"].values()) <= {SUPPRESSED, None}, table_id
    assert cell(report, "paired-before-after", "workability", "n") == 20


def test_published_demo_figures_stay_visible_to_evaluators(demo_app):
    from tests.helpers import sign_in

    evaluator = demo_app.test_client()
    sign_in(evaluator, "evaluator@example.org", DEMO_PASSWORD)
    report = evaluator.get("/api/studies/ehd-2024/reports/evaluation").get_json()
    assert cell(report, "paired-change", "workability", "n") == 28
    assert cell(report, "paired-change", "workability", "improved") == 5
    paired = evaluator.get("/api/studies/ehd-2024/reports/paired").get_json()
    assert (paired["measures"]["workability"]["n"], paired["measures"]["workability"][
        "improved"]) == (28, 5)
    assert paired["evaluator_rule"]["suppressed_measures"] == []
    page = evaluator.get("/reports/ehd-2024/evaluation").get_data(as_text=True)
    assert "(28 pairs)" in page and "chart-paired-diverging" in page


def test_spreadsheet_shows_formula_like_text_as_typed_and_stores_it_as_text(
    app, session_factory, clock
):
    load_study(session_factory, clock, {"=SUM(1;2)": 10, "+ref3": 10}, slug="texts")
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "texts"))
        import_referrals(s, study, "site,eligible_referrals,successfully_closed,note\n"
                                   '=SUM(1;2),20,10,=1+1\n+ref3,20,10,+44 cover\n')
        s.commit()
    researcher = client_as(app, "researcher")
    data = researcher.get("/reports/texts/evaluation.xlsx").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [book.read(n).decode() for n in book.namelist()
                  if n.startswith("xl/worksheets/")]
    assert not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    workbook = load_workbook(io.BytesIO(data))
    texts = {c.value: c.data_type for name in workbook.sheetnames
             for row in workbook[name].iter_rows() for c in row if isinstance(c.value, str)}
    for typed in ("=SUM(1;2)", "+ref3", "=1+1", "+44 cover"):
        assert texts.get(typed) == "s", typed
        assert "'" + typed not in texts


def test_appointment_tables_of_a_few_clients_are_hidden_though_they_count_many_visits(
        app, session_factory, clock):
    """20 clients, but only 3 of them have appointments (30 visits): the attendance and
    channel tables rest on 3 people, whatever their base of appointments says."""
    load_study(session_factory, clock, {"Hull": 12, "Leeds": 8}, slug="visits")
    first = clock().date() - timedelta(days=120)
    visits = "participant_ref,appointment_on,channel,attendance,workability\n" + "".join(
        f"C{n:03d},{first + timedelta(days=day)},telephone,attended,{(n + day) % 11}\n"
        for n in (1, 2, 13) for day in range(10))
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "visits"))
        people = "participant_ref,site,completed_on\n" + "".join(
            f"C{n:03d},{'Hull' if n <= 12 else 'Leeds'},"
            f"{(clock().date() - timedelta(days=60)).isoformat()}\n" for n in (1, 2, 13))
        import_cohort(s, study, people, visits)
        s.commit()
    evaluator = client_as(app, "evaluator")
    researcher = client_as(app, "researcher")
    for breakdown in ("", "&breakdown=site"):
        url = f"/api/studies/visits/reports/evaluation?follow_up=wave2{breakdown}"
        seen = evaluator.get(url).get_json()
        exact = researcher.get(url).get_json()
        for table_id in ("attendance", "channel"):
            table = find_table(exact, table_id)
            assert table["base"] == 30, table_id
            shown = find_table(seen, table_id)
            values = {v for r in shown["rows"] for v in r["cells"].values()} - {None}
            assert values == {SUPPRESSED}, (table_id, breakdown, values)


def test_a_site_of_few_referrals_is_hidden_from_evaluators_with_a_second_site(
        app, session_factory, clock):
    """Referral outcomes of a site with 5 referrals rest on 5 people: hidden, with the next
    smallest site, so the total row gives neither back; researchers see every figure."""
    load_study(session_factory, clock, {"Hull": 12, "Leeds": 10, "Tiny": 2}, slug="mi")
    header = ("site,eligible_referrals,successfully_closed,in_progress,not_completed_unsuitable,"
              "not_completed_disengaged,not_completed_claim_closed,fte\n")
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "mi"))
        import_referrals(s, study, header + "Hull,40,12,10,8,6,4,1.0\n"
                         "Leeds,30,10,8,6,4,2,0.8\nTiny,5,2,1,1,1,0,0.2\n")
        s.commit()
    url = "/api/studies/mi/reports/evaluation?follow_up=wave2"
    seen = find_table(client_as(app, "evaluator").get(url).get_json(), "referrals-by-site")
    exact = find_table(client_as(app, "researcher").get(url).get_json(), "referrals-by-site")
    rows = {r["key"]: r["cells"] for r in seen["rows"]}
    assert exact["rows"][2]["cells"]["not_completed_disengaged"] == 1
    for site in ("Tiny", "Leeds"):
        assert rows[site]["eligible_referrals"] == SUPPRESSED
        assert rows[site]["not_completed_disengaged"] == SUPPRESSED
        assert rows[site]["fte"] is not None  # staffing is not about clients
    assert rows["Hull"]["not_completed_disengaged"] == 6
    assert rows["total"]["eligible_referrals"] == 75
