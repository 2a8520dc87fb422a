"""Comparison arms (issue 13): a random study with two arms, set up as researchers do it
(`study apply`, cohort and response imports), its report within and between arms checked
against SciPy on the same rows; publication and the evaluator rule within arms; the
comparison as CSV and from the command line."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from types import SimpleNamespace

import pytest
from scipy import stats
from sqlalchemy import text

from analysis.disclosure import SUPPRESSED
from surveys.accounts import create_user
from tests.security.conftest import act_as

INSTRUMENT = """\
name: arms_followup
version: "1"
audience: client
title:
  en: Your follow-up questionnaire
pages:
  - id: work
    questions:
      - id: in_work
        type: yes_no
        text:
          en: Are you in paid work at the moment?
      - id: concerned
        type: yes_no
        text:
          en: Are you concerned about losing your job?
  - id: scores
    questions:
      - id: workability
        type: scale_0_10
        text:
          en: How many points would you give your work ability now?
      - id: worry
        type: scale_0_10
        text:
          en: How much do you worry about your health at work?
"""

STUDY = """\
slug: {slug}
name: Arms pilot
programme: {{en: Arms pilot}}
languages: [en]
disclosure_threshold: 5
{arms}measures:
  - id: in_work
    kind: binary
    better: "yes"
    baseline: false
    label: {{en: In paid work}}
  - id: workability
    kind: scale
    label: {{en: Work ability (0 to 10)}}
  - id: worry
    kind: scale
    better: lower
    baseline: false
    label: {{en: Worry about health at work (0 to 10)}}
  - id: concerned
    kind: binary
    better: "no"
    label: {{en: Concerned about losing their job}}
waves:
  - code: w1
    instrument: followup.yaml
    offset_days: 42
    reminder_days: [7]
    close_days: 28
"""
ARMS = ("integrated", "comparison")
SLUG = "arms-pilot"


def people(seed: int, sizes: dict[str, int], comparison_in_work: int) -> list[dict]:
    """Random participants; the comparison arm's responders have exactly
    `comparison_in_work` in work (a small cell for publication). answers None: no response."""
    rng = random.Random(seed)
    out = []
    for arm, size in sizes.items():
        responders = 0
        for i in range(size):
            person = {"ref": f"{arm[:3].upper()}-{i:03d}", "arm": arm,
                      "concerned_end": rng.choice(["yes", "yes", "no"]),
                      "workability_end": rng.randint(2, 8)}
            if i % 9 == 8:  # some never answer
                person["answers"] = None
            else:
                # Few non-zero changes: SciPy enumerates 2 ** k sign patterns below.
                change = rng.choice([0] * 14 + ([1, 2, -1, 2, 3] if arm == "integrated"
                                               else [1, -1, -2, 1, 0]))
                in_work = (rng.random() < 0.6 if arm == "integrated"
                           else responders < comparison_in_work)
                responders += 1
                person["answers"] = {
                    "in_work": "yes" if in_work else "no",
                    "concerned": rng.choice(["yes", "no", "no"] if arm == "integrated"
                                            else ["yes", "yes", "no"]),
                    "workability": min(10, max(0, person["workability_end"] + change)),
                    "worry": rng.randint(0, 10),
                }
                if i == 3:
                    person["answers"]["workability"] = ""  # left unanswered
            out.append(person)
    return out


@pytest.fixture
def cli(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def run(*args: str, check: bool = True):
        done = runner.invoke(args=list(args))
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert "Traceback" not in done.stderr
        if check:
            assert done.exit_code == 0, done.stderr
        return SimpleNamespace(returncode=done.exit_code, stdout=done.stdout, stderr=done.stderr)

    return run


def load(cli, tmp_path, slug: str, rows: list[dict], *, arms: bool = True,
         unlinked: int = 0) -> None:
    """A study applied from YAML, its cohort and w1 answers imported (non-responders' invitations
    closed, as the scheduler would have done)."""
    (tmp_path / "followup.yaml").write_text(INSTRUMENT)
    definition = tmp_path / f"{slug}.yaml"
    definition.write_text(STUDY.format(slug=slug, arms="arms: [integrated, comparison]\n"
                                       if arms else ""))
    cli("study", "apply", str(definition))
    cohort = tmp_path / f"{slug}-participants.csv"
    cohort.write_text(
        "participant_ref,site,completed_on,language,email,phone,workability_end,concerned_end"
        + (",arm" if arms else "") + "\n" + "".join(
            f"{p['ref']},Leeds,2026-01-05,en,,,{p['workability_end']},{p['concerned_end']}"
            + (f",{p['arm']}" if arms else "") + "\n" for p in rows))
    cli("import-cohort", "--study", slug, "--participants", str(cohort))
    answers = tmp_path / f"{slug}-w1.csv"
    lines = [f"{p['ref']},2026-02-20,telephone,{a['in_work']},{a['concerned']},"
             f"{a['workability']},{a['worry']}\n" for p in rows if (a := p["answers"])]
    lines += [f"NOBODY-{i},2026-02-21,telephone,yes,no,5,5\n" for i in range(unlinked)]
    answers.write_text("participant_ref,submitted_on,mode,in_work,concerned,workability,worry\n"
                       + "".join(lines))
    cli("import-responses", "--study", slug, "--wave", "w1", str(answers))


def close_unanswered(session_factory) -> None:
    with session_factory() as s:
        s.execute(text("UPDATE invitations SET status = 'closed' WHERE status = 'scheduled'"))
        s.commit()


@pytest.fixture
def study(cli, tmp_path, session_factory):
    rows = people(2026, {"integrated": 44, "comparison": 38}, comparison_in_work=4)
    load(cli, tmp_path, SLUG, rows, unlinked=2)
    close_unanswered(session_factory)
    return rows


def report_of(cli, slug: str = SLUG) -> dict:
    return json.loads(cli("report", "paired", "--study", slug, "--follow-up", "w1",
                          "--format", "json").stdout)


def _arm(rows, arm):
    return [p for p in rows if p["arm"] == arm and p["answers"]]


def changes(rows, arm) -> list[int]:
    return [p["answers"]["workability"] - p["workability_end"] for p in _arm(rows, arm)
            if p["answers"]["workability"] != ""]


def wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return ci.low, ci.high


def test_comparison_matches_scipy_on_the_same_rows(cli, study):
    report = report_of(cli)
    assert report["comparison_arms"] == list(ARMS) and report["randomised"] is False
    assert (report["responses"], report["linked"]) == (
        sum(1 for p in study if p["answers"]) + 2, sum(1 for p in study if p["answers"]))
    assert list(report["comparison"]) == ["in_work", "workability", "worry", "concerned"]

    # A yes/no outcome: the 2x2 of arm by in work, Fisher, risk difference and ratio.
    job = report["comparison"]["in_work"]
    a = sum(p["answers"]["in_work"] == "yes" for p in _arm(study, "integrated"))
    n1 = len(_arm(study, "integrated"))
    c, n2 = 4, len(_arm(study, "comparison"))
    assert (job["kind"], job["basis"], job["first_arm"], job["second_arm"]) == (
        "binary", "follow_up", "integrated", "comparison")
    assert (job["arms"]["integrated"]["n"], job["arms"]["integrated"]["better"]) == (n1, a)
    assert (job["arms"]["comparison"]["n"], job["arms"]["comparison"]["better"]) == (n2, c)
    assert job["fisher"]["p"] == pytest.approx(
        stats.fisher_exact([[a, n1 - a], [c, n2 - c]]).pvalue, rel=1e-12)
    rd = job["risk_difference"]
    assert rd["estimate"] == pytest.approx(a / n1 - c / n2, rel=1e-12)
    (l1, u1), (l2, u2) = wilson(a, n1), wilson(c, n2)
    p1, p2 = a / n1, c / n2  # Newcombe (1998) method 10, from the Wilson intervals
    assert rd["ci_low"] == pytest.approx(p1 - p2 - math.hypot(p1 - l1, u2 - p2), rel=1e-9)
    assert rd["ci_high"] == pytest.approx(p1 - p2 + math.hypot(u1 - p1, p2 - l2), rel=1e-9)
    rr = job["risk_ratio"]
    assert rr["estimate"] == pytest.approx(p1 / p2, rel=1e-12)
    assert rr["ci_low"] < rr["estimate"] < rr["ci_high"] and rr["method"]
    assert job["baseline"] is None

    # A scale with a baseline: the changes compared with Mann-Whitney, as SciPy names it.
    x, y = changes(study, "integrated"), changes(study, "comparison")
    work = report["comparison"]["workability"]
    mw = work["mann_whitney"]
    assert work["basis"] == "change" and mw["method"] == "asymptotic"  # tied changes
    want = stats.mannwhitneyu(x, y, method=mw["method"], use_continuity=mw["use_continuity"],
                              alternative=mw["alternative"])
    assert mw["use_continuity"] is True and mw["alternative"] == "two-sided"
    assert mw["p"] == pytest.approx(want.pvalue, rel=1e-9)
    assert mw["statistic"] == pytest.approx(want.statistic)
    assert work["mean_difference"]["estimate"] == pytest.approx(
        sum(x) / len(x) - sum(y) / len(y), rel=1e-12)
    welch = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert work["mean_difference"]["ci_low"] == pytest.approx(welch.low, rel=1e-9)
    assert work["mean_difference"]["ci_high"] == pytest.approx(welch.high, rel=1e-9)
    assert (work["arms"]["integrated"]["n"], work["arms"]["comparison"]["n"]) == (
        len(x), len(y))
    # ... and the arms' baselines (pairs analysed), the same test.
    bx = [p["workability_end"] for p in _arm(study, "integrated")
          if p["answers"]["workability"] != ""]
    by = [p["workability_end"] for p in _arm(study, "comparison")
          if p["answers"]["workability"] != ""]
    base = work["baseline"]["mann_whitney"]
    assert base["p"] == pytest.approx(stats.mannwhitneyu(
        bx, by, method=base["method"], use_continuity=base["use_continuity"]).pvalue, rel=1e-9)

    # A scale asked at follow-up only: the answers themselves.
    worry = report["comparison"]["worry"]
    wx = [p["answers"]["worry"] for p in _arm(study, "integrated")]
    wy = [p["answers"]["worry"] for p in _arm(study, "comparison")]
    assert worry["basis"] == "follow_up" and worry["baseline"] is None
    assert worry["mann_whitney"]["p"] == pytest.approx(stats.mannwhitneyu(
        wx, wy, method=worry["mann_whitney"]["method"]).pvalue, rel=1e-9)

    # A yes/no measure with a baseline: follow-up answers compared; baselines too.
    concerned = report["comparison"]["concerned"]
    k1 = sum(p["answers"]["concerned"] == "no" for p in _arm(study, "integrated"))
    k2 = sum(p["answers"]["concerned"] == "no" for p in _arm(study, "comparison"))
    assert concerned["fisher"]["p"] == pytest.approx(
        stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue, rel=1e-12)
    b1 = sum(p["concerned_end"] == "no" for p in _arm(study, "integrated"))
    b2 = sum(p["concerned_end"] == "no" for p in _arm(study, "comparison"))
    assert concerned["baseline"]["fisher"]["p"] == pytest.approx(
        stats.fisher_exact([[b1, n1 - b1], [b2, n2 - b2]]).pvalue, rel=1e-12)

    # Response by arm: everyone was surveyed; Fisher on responded against not.
    response = report["arm_response"]
    s1, s2 = (sum(p["arm"] == arm for p in study) for arm in ARMS)
    assert response["arms"]["integrated"] == {"surveyed": s1, "responses": n1,
                                              "rate": n1 / s1}
    assert response["arms"]["comparison"]["surveyed"] == s2
    assert response["fisher"]["p"] == pytest.approx(
        stats.fisher_exact([[n1, s1 - n1], [n2, s2 - n2]]).pvalue, rel=1e-12)
    assert isinstance(report["comparison_caveats"], list)
    assert len(report["comparison_caveat_codes"]) == len(report["comparison_caveats"])


def test_within_each_arm_the_wilcoxon_test_matches_scipy(cli, study):
    report = report_of(cli)
    for arm in ARMS:
        m = report["arms"][arm]["measures"]["workability"]
        d = changes(study, arm)
        nonzero = [v for v in d if v]
        assert (m["n"], m["improved"], m["deteriorated"]) == (
            len(d), sum(v > 0 for v in d), sum(v < 0 for v in d))
        assert m["wilcoxon"]["method"] == "exact"
        want = stats.wilcoxon(nonzero, zero_method="wilcox", method=stats.PermutationMethod(
            n_resamples=2 ** len(nonzero)))
        assert m["wilcoxon"]["p"] == pytest.approx(want.pvalue, rel=1e-9)


NO_COMPARISON = {"no_comparison_group", "outcome_no_comparison_group"}


def test_each_arm_is_the_report_of_a_study_made_of_that_arm_alone(cli, tmp_path, study):
    report = report_of(cli)
    for arm in ARMS:
        alone = [p for p in study if p["arm"] == arm]
        load(cli, tmp_path, f"only-{arm}", alone, arms=False)
        single = report_of(cli, f"only-{arm}")
        entry = report["arms"][arm]
        assert (entry["responses"], entry["linked"]) == (single["responses"], single["linked"])
        assert entry["surveyed"] == len(alone)
        for key, m in single["measures"].items():
            # Only the "no comparison group" caveat differs: the arm has one.
            keep = [i for i, code in enumerate(m["caveat_codes"]) if code not in NO_COMPARISON]
            assert len(keep) == len(m["caveat_codes"]) - 1
            for name in ("caveats", "caveat_codes", "caveat_params"):
                m[name] = [m[name][i] for i in keep]
            assert entry["measures"][key] == m, key


def test_the_no_comparison_group_caveat_only_where_there_is_none(cli, tmp_path, study):
    report = report_of(cli)
    for measures in [report["measures"], *(a["measures"] for a in report["arms"].values())]:
        for m in measures.values():
            assert not NO_COMPARISON & set(m["caveat_codes"])
            assert not any("no comparison group" in c for c in m["caveats"])
    load(cli, tmp_path, "no-arms", study, arms=False)
    plain = report_of(cli, "no-arms")
    assert all(NO_COMPARISON & set(m["caveat_codes"]) for m in plain["measures"].values())
    for key in ("arms", "comparison", "comparison_arms", "randomised", "arm_response",
                "comparison_caveats"):
        assert key not in plain


def test_comparison_csv_reads_back_at_full_precision(cli, study):
    report = report_of(cli)
    done = cli("report", "comparison", "--study", SLUG, "--format", "csv")
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert list(rows) == ["in_work", "workability", "worry", "concerned"]
    job, want = rows["in_work"], report["comparison"]["in_work"]
    assert (job["first_arm"], job["second_arm"], job["kind"]) == (
        "integrated", "comparison", "binary")
    assert int(job["second_better"]) == 4
    assert float(job["fisher_p"]) == want["fisher"]["p"]  # exactly: full precision
    assert float(job["risk_ratio_ci_high"]) == want["risk_ratio"]["ci_high"]
    work = rows["workability"]
    assert float(work["mann_whitney_p"]) == report["comparison"]["workability"][
        "mann_whitney"]["p"]
    assert work["mann_whitney_method"] == "asymptotic" and work["basis"] == "change"
    assert float(work["baseline_mann_whitney_p"]) == report["comparison"]["workability"][
        "baseline"]["mann_whitney"]["p"]
    assert work["publication"] == "no"
    as_json = json.loads(cli("report", "comparison", "--study", SLUG, "--format", "json").stdout)
    assert as_json["comparison"] == report["comparison"]
    assert as_json["arm_response"] == report["arm_response"]
    assert "measures" not in as_json["arms"]["integrated"]


def test_command_line_errors_are_one_line(cli, tmp_path, study):
    load(cli, tmp_path, "plain", study, arms=False)
    for args, message in (
        (("--study", "plain"), "study plain has no arms"),
        (("--study", "missing"), "No study called 'missing'."),
        (("--study", SLUG, "--follow-up", "w9"), f"Study '{SLUG}' has no wave 'w9'"),
    ):
        done = cli("report", "comparison", *args, "--format", "json", check=False)
        assert done.returncode == 1 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


def client_as(app, session_factory, role: str):
    with session_factory() as s:
        create_user(s, f"{role}@example.org", "a long and proper passphrase 2024", role)
        s.commit()
    client = app.test_client()
    act_as(client, session_factory, role)
    return client


def numbers(value) -> list:
    """Every number in a JSON value, except study settings a figure does not rest on."""
    settings = {"confidence", "achieved_confidence", "threshold", "method", "use_continuity",
                "alternative", "min_value", "max_value"}
    if isinstance(value, dict):
        return [x for k, v in value.items() if k not in settings for x in numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in numbers(v)]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    return [value]


def test_publication_hides_small_cells_of_the_comparison(app, session_factory, cli, study):
    researcher = client_as(app, session_factory, "researcher")
    exact = researcher.get(f"/api/studies/{SLUG}/reports/paired").get_json()
    assert exact["comparison"]["in_work"]["arms"]["comparison"]["better"] == 4
    shown = researcher.get(f"/api/studies/{SLUG}/reports/paired?publication=1").get_json()
    job = shown["comparison"]["in_work"]
    assert job["arms"]["comparison"]["better"] == SUPPRESSED  # 4 of them: 1..5
    assert job["arms"]["comparison"]["share"] == SUPPRESSED
    assert job["risk_ratio"]["estimate"] == SUPPRESSED == job["risk_difference"]["ci_low"]
    assert job["fisher"]["p"] == exact["comparison"]["in_work"]["fisher"]["p"]
    # The same rule within the arm's own report.
    assert shown["arms"]["comparison"]["measures"]["in_work"]["better_count"] == SUPPRESSED
    assert shown["comparison"]["workability"] == exact["comparison"]["workability"]
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(researcher.get(
        f"/reports/{SLUG}/comparison.csv?publication=1").get_data(as_text=True)))}
    assert rows["in_work"]["second_better"] == SUPPRESSED
    assert rows["in_work"]["publication"] == "yes"


@pytest.fixture
def small_arm(cli, tmp_path, session_factory):
    """The comparison arm: 4 answered (threshold 5)."""
    rows = people(7, {"integrated": 30, "comparison": 4}, comparison_in_work=2)
    load(cli, tmp_path, SLUG, rows)
    close_unanswered(session_factory)
    return rows


def test_evaluators_see_no_figure_resting_on_a_small_arm(app, session_factory, cli, small_arm):
    researcher = client_as(app, session_factory, "researcher")
    exact = researcher.get(f"/api/studies/{SLUG}/reports/paired").get_json()
    assert exact["arms"]["comparison"]["linked"] == 4
    assert numbers(exact["comparison"]["workability"]["mann_whitney"])
    evaluator = client_as(app, session_factory, "evaluator")
    for query in ("", "?publication=1"):
        shown = evaluator.get(f"/api/studies/{SLUG}/reports/paired{query}").get_json()
        for key, entry in shown["comparison"].items():
            assert numbers(entry) == [], key
            assert entry["caveat_codes"] == ["evaluator_rule"]
        small = shown["arms"]["comparison"]
        assert numbers(small["measures"]) == [] and small["linked"] == SUPPRESSED
        assert numbers(shown["arm_response"]) == []
        # The large arm's own figures stay.
        assert shown["arms"]["integrated"]["measures"]["workability"]["n"] == exact[
            "arms"]["integrated"]["measures"]["workability"]["n"]
        body = evaluator.get(f"/reports/{SLUG}/comparison.csv{query}").get_data(as_text=True)
        for row in csv.DictReader(io.StringIO(body)):
            for column, value in row.items():
                if column.endswith(("_p", "_estimate", "_ci_low", "_ci_high", "_n", "_better",
                                    "_share", "_mean", "_median", "_statistic")):
                    assert value in ("", SUPPRESSED), (column, value)
    assert researcher.get(f"/reports/{SLUG}/comparison.csv").status_code == 200


def test_comparison_csv_route_is_for_studies_with_arms(app, session_factory, cli, tmp_path):
    load(cli, tmp_path, "plain", people(3, {"integrated": 10}, 0), arms=False)
    researcher = client_as(app, session_factory, "researcher")
    assert researcher.get("/reports/plain/comparison.csv").status_code == 404
    assert app.test_client().get("/reports/plain/comparison.csv").status_code in (302, 401, 403)
