"""The Health and Work Support pilot's report (study hws-pilot of the demo): the two published
shares beside the paired change, the caveat that they compare two groups, wording about the
baseline, no appointment sections, and p-values below 0.001 shown as "<0.001".

The published figures (../shared/published-figures.md) are written out here: concerned about
losing their job 34% at enrolment (all participants) and 12% at the survey (those who
completed); absent from work 27% and 10%.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from openpyxl import load_workbook

from surveys.reports import cell_text
from surveys.reports.evaluation import evaluation_report
from surveys.reports.export import render_xlsx
from surveys.reports.paired_change import paired_report, render_csv
from surveys.reports.paired_tables import publish_paired
from tests.helpers import sign_in
from tests.reports.conftest import DEMO_PASSWORD, demo_study, find_table

SLUG = "hws-pilot"
WAVE = "survey"
PUBLISHED = {"concerned_job": (34, 12), "absent": (27, 10)}  # (at enrolment, at the survey)
ENROLLED, DROPPED_OUT, COMPLETED, RESPONDENTS = 350, 126, 224, 89


def pct(count: int, base: int) -> int:
    """Half-up whole per cent, worked out here independently of the service."""
    return int((Decimal(100 * count) / Decimal(base)).quantize(Decimal(1), ROUND_HALF_UP))


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def hws_paired(demo_session) -> dict:
    return paired_report(demo_session, demo_study(demo_session, SLUG), WAVE)


@pytest.fixture
def researcher(demo_app):
    client = demo_app.test_client()
    sign_in(client, "researcher@example.org", DEMO_PASSWORD)
    return client


def test_json_gives_both_published_shares_with_counts_and_wilson_intervals(hws_paired):
    for key, (at_enrolment, at_survey) in PUBLISHED.items():
        m = hws_paired["measures"][key]
        everyone = m["baseline_all_participants"]
        answered = m["follow_up_all_respondents"]
        assert everyone["n"] == ENROLLED  # every status, not only those who answered
        assert everyone["by_status"] == {"completed": COMPLETED, "dropped_out": DROPPED_OUT,
                                         "in_progress": 0}
        assert answered["n"] == RESPONDENTS
        assert pct(everyone["yes"], everyone["n"]) == at_enrolment, key
        assert pct(answered["yes"], answered["n"]) == at_survey, key
        assert (everyone["percent_yes"], answered["percent_yes"]) == (at_enrolment, at_survey)
        for group in (everyone, answered):
            assert group["share_yes"] == group["yes"] / group["n"]  # full precision
            assert group["method"] == "wilson"
            assert group["ci_low"] < group["share_yes"] < group["ci_high"]
        # The paired change is of the respondents with both answers, beside the shares.
        assert m["n"] == RESPONDENTS and m["mcnemar"]["method"] == "exact"


def test_the_two_groups_differ_so_the_caveat_says_so(hws_paired):
    for key in PUBLISHED:
        m = hws_paired["measures"][key]
        assert "binary_different_groups" in m["caveat_codes"]
        sentence = m["caveats"][m["caveat_codes"].index("binary_different_groups")]
        assert "two different groups" in sentence and f"{RESPONDENTS} people" in sentence


def test_csv_has_the_shares_as_columns_at_the_end(hws_paired):
    rows = list(csv.reader(io.StringIO(render_csv(hws_paired))))
    header = rows[0]
    assert header[-10:] == [
        f"{group}_{key}" for group in ("baseline_all_participants", "follow_up_all_respondents")
        for key in ("n", "yes", "share_yes", "ci_low", "ci_high")]
    assert header[:3] == ["follow_up", "responses", "linked"]  # the contract's columns stay
    by_measure = {row[header.index("measure")]: dict(zip(header, row, strict=True))
                  for row in rows[1:]}
    for key, (at_enrolment, at_survey) in PUBLISHED.items():
        row = by_measure[key]
        assert int(row["baseline_all_participants_n"]) == ENROLLED
        assert pct(int(row["baseline_all_participants_yes"]), ENROLLED) == at_enrolment
        assert pct(int(row["follow_up_all_respondents_yes"]), RESPONDENTS) == at_survey
        assert float(row["baseline_all_participants_share_yes"]) == pytest.approx(
            int(row["baseline_all_participants_yes"]) / ENROLLED, rel=1e-15)


def test_page_shows_the_published_shares_and_a_tiny_p_as_below_0_001(researcher):
    page = researcher.get(f"/reports/{SLUG}/paired?follow_up={WAVE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shares = html[html.index('id="paired-binary-shares"'):]
    shares = text_of(shares[:shares.index("</table>")])
    assert "Share answering yes: all participants at baseline vs everyone who answered at " \
           "follow-up" in shares
    for at_enrolment, at_survey in PUBLISHED.values():
        assert f"{at_enrolment}% (" in shares and f"{at_survey}% (" in shares
    assert "two different groups" in text_of(html)
    # McNemar p for concerned_job is 0.00031: "<0.001", never "0.000".
    binary = text_of(html[html.index('id="paired-binary"'):html.index('id="paired-binary-shares"')])
    assert "<0.001" in binary and "0.000" not in binary


def test_standalone_page_in_welsh_shows_below_0_001_too(demo_app, hws_paired):
    from surveys.reports.paired_change import render_html

    with demo_app.test_request_context():
        html = render_html(hws_paired, "cy")
    binary = html[html.index('id="paired-binary"'):]
    binary = text_of(binary[:binary.index("</table>")])
    assert "<0.001" in binary and "0.000" not in binary


def test_page_speaks_of_the_cohort_file_not_the_end_of_the_intervention(researcher):
    html = text_of(researcher.get(f"/reports/{SLUG}/paired?follow_up={WAVE}")
                   .get_data(as_text=True))
    assert "value stored for each participant in the cohort file" in html
    assert "end of the intervention" not in html
    ehd = text_of(researcher.get("/reports/ehd-2024/paired?follow_up=wave2")
                  .get_data(as_text=True))
    assert "could be linked to the score stored at the end of the intervention" in ehd


def test_json_baseline_words_are_the_ehd_contract_or_the_cohort_columns(demo_session,
                                                                        hws_paired):
    assert hws_paired["baseline"] == ("the value stored for each participant in the cohort "
                                      "file (concerned_job_end, absent_end)")
    ehd = paired_report(demo_session, demo_study(demo_session), "wave2")
    assert ehd["baseline"] == "score stored at the end of the intervention"


def test_evaluation_report_has_the_shares_table_and_no_appointment_sections(demo_session):
    report = evaluation_report(demo_session, demo_study(demo_session, SLUG), follow_up=WAVE)
    ids = [s["id"] for s in report["sections"]]
    assert "intervention" not in ids
    assert ids == ["referrals", WAVE, "paired", "missing"]
    paired = next(s for s in report["sections"] if s["id"] == "paired")
    # The wave's name from the study's definition, not its code.
    assert paired["title"] == "Paired change: stored value to Client survey after support"
    table = find_table(report, "paired-binary-shares")
    rows = {r["key"]: r["cells"] for r in table["rows"]}
    for key, (at_enrolment, at_survey) in PUBLISHED.items():
        assert (rows[key]["baseline_n"], rows[key]["follow_up_n"]) == (ENROLLED, RESPONDENTS)
        assert (rows[key]["baseline_percent"], rows[key]["follow_up_percent"]) == (
            at_enrolment, at_survey)
    assert any("two different groups" in c for c in paired["caveats"])
    ehd = evaluation_report(demo_session, demo_study(demo_session), follow_up="wave2")
    assert "intervention" in [s["id"] for s in ehd["sections"]]


def test_evaluation_page_and_spreadsheet_show_a_tiny_p_as_below_0_001(demo_session):
    for language in ("en", "cy"):
        report = evaluation_report(demo_session, demo_study(demo_session, SLUG),
                                   follow_up=WAVE, language=language)
        table = find_table(report, "paired-binary")
        column = next(c for c in table["columns"] if c["key"] == "mcnemar_p")
        row = next(r for r in table["rows"] if r["key"] == "concerned_job")
        assert row["cells"]["mcnemar_p"] < 0.001  # full precision in the JSON
        assert cell_text(row["cells"]["mcnemar_p"], column) == "<0.001"
        absent = next(r for r in table["rows"] if r["key"] == "absent")
        assert cell_text(absent["cells"]["mcnemar_p"], column) == "0.001"  # 0.00149, half-up
        book = load_workbook(io.BytesIO(render_xlsx(report)))
        values = [cell.value for sheet in book.worksheets for line in sheet.iter_rows()
                  for cell in line]
        assert "<0.001" in values, language
        assert 0.0 not in [v for v in values if isinstance(v, float) and v < 0.001]


def test_publication_copy_keeps_large_shares_and_hides_small_status_counts(hws_paired):
    published = publish_paired(hws_paired, 7, "rule")
    everyone = published["measures"]["concerned_job"]["baseline_all_participants"]
    assert (everyone["n"], everyone["yes"], everyone["percent_yes"]) == (ENROLLED, 119, 34)
    small = {**hws_paired, "measures": {"concerned_job": {
        **hws_paired["measures"]["concerned_job"],
        "baseline_all_participants": {**hws_paired["measures"]["concerned_job"][
            "baseline_all_participants"], "by_status": {"completed": 224, "dropped_out": 123,
                                                        "in_progress": 3}}}}}
    shown = publish_paired(small, 7, "rule")["measures"]["concerned_job"][
        "baseline_all_participants"]["by_status"]
    assert shown["in_progress"] == "[c]" and "[c]" in (shown["completed"], shown["dropped_out"])
