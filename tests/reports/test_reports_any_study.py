"""The paired report for any study's measures (contracts section 6, issue 12 item 4): scale
measures (one better lower), a yes/no measure with a baseline and a yes/no outcome asked at
follow-up only, checked against SciPy on the raw pairs in JSON, CSV, the page and the API."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import date
from html import unescape

import pytest
from scipy import stats

from analysis.disclosure import SUPPRESSED
from surveys.accounts import create_user
from surveys.models import Participant, Response
from tests.conftest import PG_URL
from tests.helpers import make_study, sign_in

SLUG = "any-study"
PASSWORD = "a-long-password-for-tests"
MEASURES = (
    {"key": "ability", "reliable_change": 2, "label": {"en": "Ability", "cy": "Gallu"}},
    {"key": "pain", "better": "lower", "label": {"en": "Pain"}},
    {"key": "concerned_job", "kind": "binary", "better": "no",
     "label": {"en": "Concerned about losing their job", "cy": "Pryderus am golli swydd"}},
    {"key": "in_work", "kind": "binary", "better": "yes", "baseline": False,
     "label": {"en": "In work"}},
)
# Changes (follow-up minus baseline): few non-zero ones, with ties, so SciPy's exact
# permutation test runs in no time.
ABILITY_CHANGES = [0] * 24 + [1, 1, 2, -1, 3, -2, 1, 2, -1, 4, 1, -3]
PAIN_CHANGES = [0] * 25 + [-1, -2, -1, -3, 1, -2, -1, -4, 2, -1, -1]
# (baseline, follow-up) of concerned_job: 1 = yes (the worse answer), 0 = no (the better).
CONCERNED = [(0, 0)] * 10 + [(0, 1)] * 3 + [(1, 0)] * 12 + [(1, 1)] * 8 + [(None, 0), (1, None)]
IN_WORK = ["yes"] * 21 + ["no"] * 13 + [None] * 2


def _yes_no(value):
    return None if value is None else ("yes" if value else "no")


@pytest.fixture
def study_data(session_factory):
    """A study made with the models; the triggers derive every slot column from the answers."""
    rng = random.Random(12)
    n = len(ABILITY_CHANGES)
    assert n == len(PAIN_CHANGES) == len(CONCERNED) + 1 == len(IN_WORK)
    ability = [(b, min(10, max(0, b + d)) if 0 <= b + d <= 10 else None)
               for b, d in zip([rng.randint(3, 7) for _ in range(n)], ABILITY_CHANGES,
                               strict=True)]
    pain = [(b, b + d) for b, d in zip([rng.randint(4, 6) for _ in range(n)], PAIN_CHANGES,
                                       strict=True)]
    concerned = [*CONCERNED, (None, None)]
    rng.shuffle(concerned)
    ability[0] = (None, ability[0][1])  # no stored baseline: left out of the pairs
    ability[1] = (ability[1][0], None)  # not answered at follow-up
    with session_factory() as s:
        study = make_study(s, SLUG, measures=MEASURES,
                           waves=[{"code": "wave1"},
                                  {"code": "follow", "instrument": "wave2",
                                   "offset_days": 42}])
        study.languages = ["en", "cy"]
        follow = next(w for w in study.waves if w.code == "follow")
        for i in range(n):
            person = Participant(study_id=study.id, ref=f"P-{i:02d}", site="Hull",
                                 completed_on=date(2026, 1, 5), language="en",
                                 baseline_1=ability[i][0], baseline_2=pain[i][0],
                                 baseline_3=concerned[i][0])
            s.add(person)
            s.flush()
            answers = {"ability": ability[i][1], "pain": pain[i][1],
                       "concerned_job": _yes_no(concerned[i][1]), "in_work": IN_WORK[i]}
            answers = {k: str(v) if isinstance(v, int) else v for k, v in answers.items()
                       if v is not None}
            s.add(Response(wave_id=follow.id, participant_id=person.id, participant_ref=person.ref,
                           status="submitted", mode="web", source="form", instrument="wave2",
                           instrument_version="1", answers=answers,
                           submitted_on=date(2026, 2, 20)))
        for ref in ("UNKNOWN-1", "UNKNOWN-2", "UNKNOWN-3"):  # unlinked: counted, never paired
            s.add(Response(wave_id=follow.id, participant_ref=ref, status="submitted",
                           mode="telephone", source="import", instrument="wave2",
                           instrument_version="1", answers={"ability": "9", "in_work": "yes"},
                           submitted_on=date(2026, 2, 21)))
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    linked_pairs = {
        "ability": [(b, f) for b, f in ability if b is not None and f is not None],
        "pain": pain,
        "concerned_job": [(b, f) for b, f in concerned if b is not None and f is not None],
    }
    return {"pairs": linked_pairs, "in_work": IN_WORK, "responses": n + 3, "linked": n}


def expected_scale(pairs, better_lower=False) -> dict:
    d = [f - b for b, f in pairs]
    up, down = sum(x > 0 for x in d), sum(x < 0 for x in d)
    improved, deteriorated = (down, up) if better_lower else (up, down)
    nonzero = [x for x in d if x]
    wilcoxon = stats.wilcoxon(nonzero, zero_method="wilcox",
                              method=stats.PermutationMethod(n_resamples=2 ** len(nonzero)))
    return {"n": len(d), "improved": improved, "deteriorated": deteriorated,
            "same": len(d) - up - down, "mean_change": sum(d) / len(d),
            "sign_p": stats.binomtest(up, up + down, 0.5).pvalue, "wilcoxon_p": wilcoxon.pvalue}


def expected_binary(pairs, better: int) -> dict:
    improved = sum(b != better and f == better for b, f in pairs)
    deteriorated = sum(b == better and f != better for b, f in pairs)
    return {"n": len(pairs), "improved": improved, "deteriorated": deteriorated,
            "same": len(pairs) - improved - deteriorated,
            "before_better": sum(b == better for b, _ in pairs),
            "after_better": sum(f == better for _, f in pairs),
            "mcnemar_p": stats.binomtest(improved, improved + deteriorated, 0.5).pvalue}


def check_json(report: dict, data: dict) -> None:
    assert report["responses"] == data["responses"] and report["linked"] == data["linked"]
    assert sorted(report["measures"]) == ["ability", "concerned_job", "in_work", "pain"]
    assert report["reliable_change_thresholds"] == {"ability": 2}
    for key, lower in (("ability", False), ("pain", True)):
        m, want = report["measures"][key], expected_scale(data["pairs"][key], lower)
        assert m["kind"] == "scale"
        assert (m["n"], m["improved"], m["same"], m["deteriorated"]) == (
            want["n"], want["improved"], want["same"], want["deteriorated"])
        assert m["mean_change"] == pytest.approx(want["mean_change"], rel=1e-12)
        assert m["sign_test"]["p"] == pytest.approx(want["sign_p"], rel=1e-9)
        assert m["wilcoxon"]["method"] == "exact" and m["wilcoxon"]["zero_method"] == "wilcox"
        assert m["wilcoxon"]["p"] == pytest.approx(want["wilcoxon_p"], rel=1e-9)
    # better: lower: most pain scores went down, and that is improvement
    assert report["measures"]["pain"]["improved"] > report["measures"]["pain"]["deteriorated"]
    assert report["measures"]["pain"]["mean_change"] < 0
    m, want = report["measures"]["concerned_job"], expected_binary(
        data["pairs"]["concerned_job"], better=0)
    assert m["kind"] == "binary"
    for key in ("n", "improved", "same", "deteriorated", "before_better", "after_better"):
        assert m[key] == want[key], key
    assert (m["n"], m["improved"], m["deteriorated"]) == (33, 12, 3)
    assert m["mcnemar"]["method"] == "exact"
    assert m["mcnemar"]["p"] == pytest.approx(want["mcnemar_p"], rel=1e-12)
    assert m["difference"]["estimate"] == pytest.approx((12 - 3) / 33)
    assert m["difference"]["ci_low"] < m["difference"]["estimate"] < m["difference"]["ci_high"]
    assert m["difference"]["method"]
    outcome = report["measures"]["in_work"]
    assert outcome["kind"] == "binary" and outcome["baseline"] is False
    assert (outcome["n"], outcome["better_count"]) == (34, 21)
    for key in ("improved", "same", "deteriorated", "before_better", "after_better", "mcnemar"):
        assert outcome[key] is None, key


def test_json_from_the_command_line_matches_scipy_on_the_raw_pairs(runner, study_data):
    result = runner.invoke(args=["report", "paired", "--study", SLUG, "--follow-up", "follow",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    check_json(report, study_data)
    assert list(report["measures"]) == ["ability", "pain", "concerned_job", "in_work"]


def test_csv_read_back_has_the_contract_columns_then_the_kind_and_binary_ones(
    runner, study_data
):
    result = runner.invoke(args=["report", "paired", "--study", SLUG, "--follow-up", "follow",
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.output))
    assert reader.fieldnames[:15] == [
        "follow_up", "responses", "linked", "measure", "n", "improved", "same", "deteriorated",
        "mean_change", "median_change", "sign_test_p", "wilcoxon_p", "wilcoxon_zero_method",
        "wilcoxon_method", "caveats"]
    assert reader.fieldnames.index("kind") > reader.fieldnames.index("disclosure_rule")
    rows = {r["measure"]: r for r in reader}
    pain = expected_scale(study_data["pairs"]["pain"], better_lower=True)
    assert int(rows["pain"]["improved"]) == pain["improved"]
    assert float(rows["pain"]["wilcoxon_p"]) == pytest.approx(pain["wilcoxon_p"], rel=1e-9)
    job = rows["concerned_job"]
    want = expected_binary(study_data["pairs"]["concerned_job"], better=0)
    assert (job["kind"], job["better"], job["has_baseline"]) == ("binary", "no", "yes")
    assert (int(job["n"]), int(job["improved"]), int(job["deteriorated"])) == (33, 12, 3)
    assert (int(job["before_better"]), int(job["after_better"])) == (
        want["before_better"], want["after_better"])
    assert int(job["before_worse_after_better"]) == 12
    assert float(job["mcnemar_p"]) == pytest.approx(want["mcnemar_p"], rel=1e-12)
    assert job["mcnemar_method"] == "exact" and job["difference_method"]
    assert job["mean_change"] == "" and job["wilcoxon_p"] == ""
    assert (rows["in_work"]["kind"], rows["in_work"]["has_baseline"]) == ("binary", "no")
    assert (int(rows["in_work"]["n"]), int(rows["in_work"]["better_count"])) == (34, 21)
    assert rows["in_work"]["improved"] == ""


def test_standalone_html_in_welsh_uses_the_measure_labels(runner, study_data):
    result = runner.invoke(args=["report", "paired", "--study", SLUG, "--follow-up", "follow",
                                 "--format", "html", "--lang", "cy"])
    assert result.exit_code == 0, result.output
    page = _text(result.output)
    assert "Pryderus am golli swydd" in page and "Gallu" in page
    assert "Pain" in page  # no Welsh label: the English one


@pytest.fixture
def researcher(client, study_data):
    sign_in(client, "researcher@example.org", PASSWORD)
    return client


def test_api_gives_the_same_numbers(researcher, study_data):
    report = researcher.get(f"/api/studies/{SLUG}/reports/paired?follow_up=follow").get_json()
    check_json(report, study_data)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_page_shows_each_kind_with_the_measure_labels(researcher, study_data):
    html = researcher.get(f"/reports/{SLUG}/paired?follow_up=follow").get_data(as_text=True)
    want = expected_binary(study_data["pairs"]["concerned_job"], better=0)
    binary = _text(html.split('id="paired-binary"')[1].split("</table>")[0])
    assert "Concerned about losing their job" in binary
    # pairs, the 2x2 (both, start only, follow-up only, neither), before, after, McNemar p
    assert (f"33 10 3 12 8 {want['before_better']} {want['after_better']} "
            f"{want['mcnemar_p']:.3f}") in binary
    assert "27.3 (" in binary  # the difference, (12 - 3) / 33, in percentage points
    outcomes = _text(html.split('id="paired-outcomes"')[1].split("</table>")[0])
    assert "In work 34 21 61.8 (" in outcomes
    text = _text(html)
    assert "Better" in text and "Pain" in text and "Ability" in text
    assert "Work ability" not in text
    welsh = researcher.get(f"/reports/{SLUG}/paired?follow_up=follow&lang=cy")
    assert welsh.status_code == 200


def test_evaluation_tables_carry_the_2x2_in_every_format(session_factory, study_data):
    from openpyxl import load_workbook

    from surveys.models import Study
    from surveys.reports.evaluation import evaluation_report
    from surveys.reports.export import render_csv, render_xlsx

    with session_factory() as s:
        study = s.query(Study).filter_by(slug=SLUG).one()
        report = evaluation_report(s, study, follow_up="follow")
        published = evaluation_report(s, study, follow_up="follow", publication=True)
    paired = next(x for x in report["sections"] if x["id"] == "paired")
    ids = [t["id"] for t in paired["tables"]]
    assert ids[:3] == ["paired-change", "paired-statistics", "paired-before-after"]
    assert "paired-binary-concerned_job" in ids and "paired-binary" in ids
    assert "paired-outcomes" in ids
    grid = next(t for t in paired["tables"] if t["id"] == "paired-binary-concerned_job")
    cells = {r["key"]: r["cells"] for r in grid["rows"]}
    assert cells["before_better"] == {"after_better": 10, "after_worse": 3, "total": 13}
    assert cells["before_worse"] == {"after_better": 12, "after_worse": 8, "total": 20}
    assert cells["total"] == {"after_better": 22, "after_worse": 11, "total": 33}
    rows = [r for r in csv.DictReader(io.StringIO(render_csv(report)))
            if r["table_id"] == "paired-binary-concerned_job"]
    assert {(r["row_key"], r["column_key"]): r["value"] for r in rows}[
        ("before_worse", "after_better")] == "12"
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    values = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
              for c in row]
    # The wave's name (no label: from its code "follow"), not its code.
    assert "Concerned about losing their job: answers at the start and at Follow, same clients" \
        in values
    # Publication: the 3 that got worse (and what would give it back) are suppressed.
    grid = next(t for x in published["sections"] if x["id"] == "paired"
                for t in x["tables"] if t["id"] == "paired-binary-concerned_job")
    cells = {r["key"]: r["cells"] for r in grid["rows"]}
    assert cells["before_better"]["after_worse"] == SUPPRESSED
    job = published["paired"]["measures"]["concerned_job"]
    assert job["deteriorated"] == SUPPRESSED and job["difference"]["estimate"] == SUPPRESSED
    assert job["table"]["before_better_after_worse"] == SUPPRESSED


def test_pairs_csv_writes_each_measure_as_in_files(researcher, study_data):
    body = researcher.get(f"/reports/{SLUG}/pairs.csv?follow_up=follow").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == ["participant_ref", "site", "ability_end", "ability_follow",
                             "pain_end", "pain_follow", "concerned_job_end",
                             "concerned_job_follow", "in_work_follow"]
    assert {r["concerned_job_follow"] for r in rows} == {"yes", "no", ""}
    assert sum(r["in_work_follow"] == "yes" for r in rows) == 21


def test_charts_speak_of_better_and_worse_and_draw_every_paired_measure(
    session_factory, study_data
):
    from surveys.models import Study
    from surveys.reports import charts
    from surveys.reports.evaluation import evaluation_report

    with session_factory() as s:
        study = s.query(Study).filter_by(slug=SLUG).one()
        report = evaluation_report(s, study, follow_up="follow")
    chart = charts.diverging(report)
    assert [bar.label for bar in chart.bars] == ["Ability", "Pain",
                                                 "Concerned about losing their job"]
    assert [label for _, label in chart.legend] == ["Worse at follow-up", "Same",
                                                    "Better at follow-up"]
    # concerned_job: 3 of 33 worse (9%), 12 better (36%)
    assert "Concerned about losing their job: 9% worse, 55% the same, 36% better" in chart.desc
    assert charts.before_after(report) is not None


@pytest.mark.skipif(not PG_URL, reason="query plans are checked on PostgreSQL")
def test_postgres_counts_every_measure_in_one_index_only_scan(engine, session_factory,
                                                              study_data):
    from sqlalchemy import event

    from surveys.models import Study
    from surveys.reports.kept import COUNT_FROM_ROWS
    from surveys.reports.paired_change import paired_report

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_factory() as s:
            # From rows, as the kept counts' check does (the report reads those counts).
            s.info[COUNT_FROM_ROWS] = True
            paired_report(s, s.query(Study).filter_by(slug=SLUG).one(), "follow")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    grouped = [(q, p) for q, p in statements if "GROUPING SETS" in q]
    assert len(grouped) == 1
    # Fresh statistics and visibility map, as autovacuum keeps them on a live database:
    # without them the planner's choice between index-only and bitmap scans is a coin toss.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE responses")
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + grouped[0][0],
                                    grouped[0][1]).scalar()
        conn.rollback()
    text = json.dumps(plan)
    assert '"Index Only Scan"' in text and "ix_responses_paired" in text
    assert '"Seq Scan"' not in text
