"""Numbers of the reports (issue 11): one bad section never takes the report down, machine
outputs at full precision, figures for people rounded once, half-up."""

from __future__ import annotations

import csv
import io

import pytest

import surveys.reports.evaluation as evaluation
from analysis.rounding import half_up
from surveys.reports import queries
from surveys.reports.paired_change import paired_report, render_csv
from surveys.reports.table import NUMBER, Column, display
from tests.reports.conftest import demo_study, find_table, section


@pytest.mark.parametrize("where, name, logged", [
    # A section's own failure.
    (evaluation, "attrition_table", "missing could not be computed"),
    # The attrition scores are counted before the rest of the report (so that its tests run
    # while the rest is counted): a failure there still reaches only the missing section.
    (queries, "end_scores_by_response", "attrition check could not be computed"),
])
def test_a_failing_section_is_reported_and_the_rest_of_the_report_stands(
    demo_sessions, monkeypatch, caplog, where, name, logged
):
    def broken(*args, **kwargs):
        raise ValueError("each sample in `data` must contain two or more observations")

    monkeypatch.setattr(where, name, broken)
    with demo_sessions() as session:
        report = evaluation.evaluation_report(session, demo_study(session))
    missing = section(report, "missing")
    assert missing["tables"] == []
    assert "could not be worked out" in missing["caveats"][0]
    assert logged in caplog.text and "ValueError" in caplog.text
    assert find_table(report, "paired-change")["rows"]  # the rest is there


def test_json_and_csv_carry_full_precision(demo_sessions):
    with demo_sessions() as session:
        report = paired_report(session, demo_study(session), "wave2")
    m = report["measures"]["workability"]
    assert m["n"] == 28
    # follow-up minus baseline summed over 28 pairs, divided once: not rounded to 2 places
    assert m["mean_change"] * 28 == pytest.approx(round(m["mean_change"] * 28))
    assert m["improved_share"]["share"] == 5 / 28
    assert m["improved_share"]["ci_low"] != round(m["improved_share"]["ci_low"], 4)
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    row = next(r for r in rows if r["measure"] == "workability")
    assert float(row["improved_share"]) == 5 / 28
    assert float(row["improved_ci_low"]) == m["improved_share"]["ci_low"]


def test_statistics_table_rounds_share_intervals_once(demo_sessions):
    with demo_sessions() as session:
        report = evaluation.evaluation_report(session, demo_study(session))
    paired = report["paired"]["measures"]["workability"]
    table = find_table(report, "paired-statistics")
    low = next(r for r in table["rows"] if r["key"] == "workability")["cells"]["improved_ci_low"]
    assert low == pytest.approx(100 * paired["improved_share"]["ci_low"], abs=1e-12)


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (20.65, 1, "20.7"),  # a per cent of a share interval: 20.6 when rounded twice
    (100 * 413 / 2000, 1, "20.7"),
    (-0.125, 2, "-0.13"),  # a mean on an exact .xx5 (half-even gave -0.12)
    (0.0625, 3, "0.063"),  # a p-value on an exact .xxx5 (half-even gave 0.062)
    (0.145, 2, "0.15"),
    (-0.001, 2, "0.00"),
    (1234.5, 0, "1,235"),
])
def test_pages_round_once_half_up(value, decimals, shown):
    assert display(value, Column("x", "x", NUMBER, decimals)) == shown
    assert str(half_up(value, decimals)).replace(",", "") == shown.replace(",", "")


def test_paired_page_rounds_half_up(demo_app):
    from surveys.web.setup import format_half_up

    with demo_app.test_request_context("/"):
        assert format_half_up(0.0625, "0.000") == "0.063"
        assert format_half_up(-0.125, "#,##0.00") == "-0.13"
        assert format_half_up(20.65, "0.0") == "20.7"
