"""The comparison of arms as people see it (issue 13): the paired report page (tables, the
arms chart with its table alternative, the report within each arm), the evaluator rule on
small arms, and the evaluation spreadsheet's comparison worksheets read back."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from scipy import stats

from analysis.rounding import p_text
from surveys.accounts import create_user
from surveys.models import Participant, Response, Study
from tests.helpers import make_study, sign_in

SLUG = "arms-study"
PASSWORD = "a-long-password-for-tests"
FIRST, SECOND = "integrated", "comparison"
# Job entries (the better answer, yes) of those who answered, per arm.
JOBS = {FIRST: (12, 30), SECOND: (5, 28)}
# Work ability changes (follow-up minus stored value), per arm.
CHANGES = {FIRST: [2, 1, 0, 3, 1, 2, -1, 0, 1, 2] * 3, SECOND: [0, 1, -1, 0, 0, 1, 0, -1, 2, 0,
                                                               0, 1, 0, -1] * 2}
MEASURES = (
    {"key": "job_entry", "kind": "binary", "better": "yes", "baseline": False,
     "label": {"en": "Entered a paid job of any kind, full or part time, by the follow-up "
                         "survey (a label that wraps in the chart)"}},
    {"key": "workability", "label": {"en": "Work ability"}},
)


def _make(session_factory, slug: str, arms: tuple, threshold: int = 7) -> None:
    with session_factory() as s:
        study = make_study(s, slug, measures=MEASURES, arms=arms,
                           waves=[{"code": "follow", "instrument": "wave2"}],
                           disclosure_threshold=threshold)
        follow = study.waves[0]
        for arm in arms or (FIRST,):
            yes, n = JOBS[arm]
            for i in range(n):
                change = CHANGES[arm][i]
                person = Participant(study_id=study.id, ref=f"{arm[:3]}-{i:02d}", site="Hull",
                                     completed_on=date(2026, 1, 5), language="en",
                                     arm=arm if arms else None, baseline_2=5)
                s.add(person)
                s.flush()
                s.add(Response(
                    wave_id=follow.id, participant_id=person.id, participant_ref=person.ref,
                    status="submitted", mode="web", source="form", instrument="wave2",
                    instrument_version="1", submitted_on=date(2026, 2, 20),
                    answers={"job_entry": "yes" if i < yes else "no",
                             "workability": str(5 + change)}))
        s.commit()


@pytest.fixture
def people(session_factory):
    with session_factory() as s:
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        create_user(s, "evaluator@example.org", PASSWORD, "evaluator")
        s.commit()
    return session_factory


@pytest.fixture
def arms_study(people, request):
    """The study with two arms; its disclosure threshold is the parameter, if any (7)."""
    _make(people, SLUG, (FIRST, SECOND), threshold=getattr(request, "param", 7))
    return SLUG


@pytest.fixture
def comparison(arms_study, session_factory):
    """The study's paired report, which compares its arms."""
    from surveys.reports.paired_change import paired_report

    with session_factory() as s:
        study = s.query(Study).filter_by(slug=arms_study).one()
        report = paired_report(s, study, "follow")
    assert report["comparison_arms"] == [FIRST, SECOND]
    return report


def _page(client, who: str, url: str) -> str:
    sign_in(client, who, PASSWORD)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _table(html: str, table_id: str) -> str:
    return _text(html.split(f'data-table-id="{table_id}">')[1].split("</table>")[0])


def _notes(html: str, table_id: str) -> str:
    """The text under a table: its base and notes."""
    return _text(html.split(f'data-table-id="{table_id}">')[1].split("</table>")[1]
                 .split("<table")[0])


def _headers(html: str, table_id: str) -> list[str]:
    head = html.split(f'data-table-id="{table_id}">')[1].split("</thead>")[0]
    return [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_the_paired_page_compares_the_arms_with_the_numbers_rounded_half_up(
    client, comparison
):
    html = _page(client, "researcher@example.org", f"/reports/{SLUG}/paired?follow_up=follow")
    assert "Comparison of arms" in html and "Within each arm" in html
    binary = _table(html, "comparison-binary")
    fisher = stats.fisher_exact([[12, 18], [5, 23]]).pvalue
    # Per cents to one decimal, half-up, as the rest of the page: 12 of 30 = 40.0%, 5 of 28 =
    # 17.857% -> 17.9%, each with its interval in the same cell ("40.0 (24.6 to 57.7)").
    assert re.search(r" 30 40\.0 \(\d+\.\d to \d+\.\d\) ", binary), binary
    assert re.search(r" 28 17\.9 \(\d+\.\d to \d+\.\d\) ", binary), binary
    for table_id in ("comparison-binary", "comparison-binary-job_entry",
                     "comparison-differences-binary"):  # no whole per cent in any cell
        body = _text(html.split(f'data-table-id="{table_id}">')[1].split("</thead>")[1]
                     .split("</table>")[0])
        assert not re.search(r"\b\d+%", body), body
    # The differences between the arms in a second narrow table: Fisher's p, the risk
    # difference and the risk ratio (12/30)/(5/28) = 2.24, each with its interval.
    differences = _table(html, "comparison-differences-binary")
    assert f" {p_text(float(fisher))} " in differences, differences
    assert re.search(r" 22\.1 \(-?\d+\.\d to \d+\.\d\) 2\.24 \(\d\.\d\d to \d\.\d\d\) ",
                     differences), differences
    assert len(_headers(html, "comparison-binary")) == 5
    assert len(_headers(html, "comparison-differences-binary")) == 4
    # The methods are named once, in the notes under the table, not in a column per row.
    notes = _notes(html, "comparison-differences-binary").lower()
    assert "newcombe-hybrid-score" in notes and "koopman-score" in notes, notes
    assert "newcombe" not in differences.lower()
    two_by_two = _table(html, "comparison-binary-job_entry")
    assert re.search(r"integrated 12 18 30 40\.0 \(24\.6 to 57\.7\)", two_by_two), two_by_two
    assert re.search(r"comparison 5 23 28 17\.9 \(", two_by_two), two_by_two
    assert re.search(r"Both arms 17 41 58 29\.3 ", two_by_two), two_by_two  # 17 of 58
    scale = _table(html, "comparison-scale")
    assert len(_headers(html, "comparison-scale")) == 7, _headers(html, "comparison-scale")
    assert len(_headers(html, "comparison-baseline")) == 6, _headers(html, "comparison-baseline")
    mw = stats.mannwhitneyu(CHANGES[FIRST], CHANGES[SECOND][:28], alternative="two-sided",
                            method="asymptotic", use_continuity=True)
    scale_differences = _table(html, "comparison-differences-scale")
    assert f" {p_text(float(mw.pvalue))} " in scale_differences, scale_differences
    assert "asymptotic" not in scale + scale_differences
    notes = _notes(html, "comparison-differences-scale")
    assert "method=asymptotic, use_continuity=True" in notes, notes
    assert notes.count("use_continuity") == 1, notes  # one method for both: named once
    # The report within each arm reuses the per-measure tables, with ids of its own.
    assert 'id="arm-1-paired-outcomes"' in html and 'id="arm-2-paired-outcomes"' in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids on the page"
    assert f"/reports/{SLUG}/comparison.csv?follow_up=follow" in html


def test_the_arms_chart_has_a_title_a_description_and_its_table_beside_it(client, comparison):
    html = _page(client, "researcher@example.org", f"/reports/{SLUG}/paired?follow_up=follow")
    svg = html.split('id="chart-arms-binary-figure"')[1].split("</figure>")[0]
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-arms-binary-title chart-arms-binary-desc"' in svg
    desc = unescape(re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1))
    assert "integrated 40.0% of 30" in desc and "comparison 17.9% of 28" in desc, desc
    assert "integrated: 40.0% (24.6 to 57.7)" in _text(svg), _text(svg)
    assert 'href="#table-comparison-binary"' in svg
    # The table follows the chart; the long label wraps into lines, none truncated.
    assert html.index("chart-arms-binary-figure") < html.index('id="table-comparison-binary"')
    lines = re.findall(r'<tspan x="4" dy="\d+">([^<]*)</tspan>', svg)
    label = MEASURES[0]["label"]["en"]
    wrapped = [line for line in lines if line in label]
    assert len(wrapped) > 1 and " ".join(wrapped) == label, lines
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    for x in re.findall(r'\bx2?="([\d.]+)"', svg):
        assert float(x) <= width
    assert 'id="chart-arms-scale-figure"' in html


def test_a_study_without_arms_shows_nothing_about_arms(client, people):
    _make(people, "single", ())
    html = _page(client, "researcher@example.org", "/reports/single/paired?follow_up=follow")
    for text in ("Comparison of arms", "Within each arm", "chart-arms", "comparison.csv",
                 "comparison-binary"):
        assert text not in html
    assert "Asked at follow-up only" in html


@pytest.mark.parametrize("arms_study", [28], indirect=True)
def test_evaluators_see_c_for_an_arm_of_the_threshold_or_fewer(client, comparison):
    html = _page(client, "evaluator@example.org", f"/reports/{SLUG}/paired?follow_up=follow")
    binary = _table(html, "comparison-binary")
    fisher = stats.fisher_exact([[12, 18], [5, 23]]).pvalue
    # The comparison arm (28 answered) is at the threshold: its figures and every statistic
    # resting on it are [c], as the existing tables show them.
    differences = _table(html, "comparison-differences-binary")
    assert "[c]" in binary and "[c]" in differences, (binary, differences)
    assert "17.9" not in binary and "2.24" not in differences, (binary, differences)
    assert f" {p_text(float(fisher))} " not in differences
    assert "chart-arms-binary-figure" not in html  # nothing to draw: the table says why
    assert "The chart of the arms is not shown" in html


def test_the_spreadsheet_has_the_comparison_on_sheets_of_its_own_with_numbers(
    client, comparison
):
    from openpyxl import load_workbook

    sign_in(client, "researcher@example.org", PASSWORD)
    response = client.get(f"/reports/{SLUG}/evaluation.xlsx?follow_up=follow")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    titles = {book[name]["A1"].value: book[name] for name in book.sheetnames}
    sheet = next(s for title, s in titles.items()
                 if title and title.startswith("Yes/no measures: integrated compared"))
    header = [c.value for c in sheet[4]]
    row = [c.value for c in sheet[5]]
    cells = dict(zip(header, row, strict=True))
    assert cells["integrated: answered"] == 30 and cells["comparison: better answer"] == 5
    assert cells["integrated: per cent at the better answer"] == 40
    assert cells["comparison: per cent at the better answer"] == 18
    assert cells["Risk ratio (integrated over comparison)"] == pytest.approx(2.24)
    # The page's compact cells ("40.0 (24.6 to 57.7)") are the page's only: the sheet keeps
    # one number a cell, the methods in columns of their own.
    assert len(header) == 20, header
    assert cells["integrated: 95% interval, lower per cent"] == pytest.approx(24.6, abs=0.05)
    assert cells["Risk difference: interval method"] == "newcombe-hybrid-score"
    fisher = stats.fisher_exact([[12, 18], [5, 23]]).pvalue
    shown = float(p_text(float(fisher)))
    assert cells["Fisher's exact test p (two-sided)"] == pytest.approx(shown)
    low = cells["Risk difference: 95% interval, lower"]
    assert isinstance(low, int | float) and not isinstance(low, bool), low
    assert any(title and title.startswith("Scale measures: integrated compared")
               for title in titles)


def test_the_page_shows_every_per_cent_of_the_comparison_to_one_decimal(comparison):
    from surveys.reports.arm_tables import page_tables

    report = dict(comparison, arm_response={
        "arms": {FIRST: {"surveyed": 3, "responses": 2}, SECOND: {"surveyed": 8, "responses": 1}},
        "fisher": {"p": 0.24, "method": "two-sided"}})
    tables = {table["id"]: table for table in page_tables(report, "en")}
    rates = {row["key"]: row["cells"]["rate"] for row in tables["comparison-response"]["rows"]}
    # 2 of 3 = 66.67% -> 66.7%, 1 of 8 = 12.5% -> 12.5%, 3 of 11 = 27.27% -> 27.3% (half-up).
    assert rates == {FIRST: "66.7%", SECOND: "12.5%", "total": "27.3%"}, rates
    shares = {row["key"]: row["cells"]["better_percent"]
              for row in tables["comparison-binary-job_entry"]["rows"]}
    assert shares["total"] == "29.3" and shares[SECOND].startswith("17.9 ("), shares


def test_in_welsh_every_interval_reads_i_not_to(client, comparison):
    """Numbers in Welsh: "23.9 (19.7 i 28.8)", in the comparison and in the whole-study
    tables alike."""
    html = _page(client, "researcher@example.org",
                 f"/reports/{SLUG}/paired?follow_up=follow&lang=cy")
    text = _text(html)
    number = r"-?[\d.]+%?"
    assert re.search(rf"\({number} i {number}\)", text), "no Welsh interval shown"
    assert not re.findall(rf"{number} to {number}", text)
