"""`surveys demo` also loads the Working Links health and wellbeing pilot (study working-links,
arms integrated and comparison), and the database gives back every figure of the seed.

Source: ../shared/seeds/002_68473144f5e75687.txt and ../shared/published-figures.md ("Working
Links"). The comparison group's size was not published: the demo assumes 330 in each arm.
The expected numbers are written out here on purpose, rather than read from
surveys.demo.working_links, so a slip in either place shows up. Counts come straight from the
participants and responses tables; the comparison statistics are checked against values
computed independently (brute-force enumeration here, and R).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from statistics import NormalDist

import pytest
from sqlalchemy import func, select, text

from surveys.db import make_engine, make_session_factory
from surveys.demo import working_links
from surveys.models import (
    Base,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
    Study,
    Wave,
)

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
SURVEYS = str(Path(sys.executable).with_name("surveys"))
SLUG = "working-links"
WAVE = "follow_up"
ARM_SIZE = 330  # assumed for both arms (the seed gives no size for the comparison group)
JOB_ENTRIES = {"integrated": 79, "comparison": 44}
INTEGRATED_YES = {"closer_to_work": 296, "manage_health": 320}  # "almost 90%", "97%"

# R 4.x: Rscript -e 'fisher.test(matrix(c(79,251,44,286),2))$p.value' (two-sided).
FISHER_P_R = 0.00063684067349251432
# Koopman's (1984) score interval for the risk ratio (79/330)/(44/330) at 95%: in R, the
# roots of Pearson's chi-square with the ratio-constrained maximum likelihood estimates,
#   U(t) = sum_i (x_i - n_i p_i)^2 / (n_i p_i (1 - p_i)),  p_1 = t p_2,
#   p_2 = (a - sqrt(a^2 - 4 t N (x1 + x2))) / (2 t N),  a = t (n1 + x2) + x1 + n2,
# solved with uniroot(U(t) - qchisq(0.95, 1), tol = 1e-14) on each side of the estimate.
# The same R code gives Koopman's own example (36/40 against 16/80) as 2.9396 to 7.1522.
KOOPMAN_R = (1.2879222976850948, 2.5126091692715691)


@pytest.fixture(scope="module")
def cli(tmp_path_factory, _template_sqlite, _pg_schema):
    """`surveys demo` run once, as a researcher runs it; then any command on that database."""
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        url = PG_URL
    else:
        path = tmp_path_factory.mktemp("working-links") / "demo.sqlite3"
        shutil.copy(_template_sqlite, path)
        url = f"sqlite:///{path}"
    folder = tmp_path_factory.mktemp("working-links-cli")
    env = {**os.environ, "SURVEYS_DATABASE_URL": url,
           "SURVEYS_SECRET_KEY": "working-links-demo-test-" + "x" * 32,
           "SURVEYS_INSTANCE_DIR": str(folder / "instance"),
           "SURVEYS_BASE_URL": "http://surveys.test"}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([SURVEYS, *args], env=env, capture_output=True, text=True,
                              cwd=folder, timeout=600)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    run.url = url
    run.loaded = run("demo").stdout
    return run


@pytest.fixture(scope="module")
def db(cli):
    engine = make_engine(cli.url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def study(db) -> Study:
    found = db.scalar(select(Study).where(Study.slug == SLUG))
    assert found is not None, "surveys demo did not load the Working Links pilot"
    return found


def slot_of(study: Study, key: str) -> int:
    (measure,) = [m for m in study.measures if m.key == key]
    return measure.slot


def submitted(db, study: Study) -> list[Response]:
    return list(db.scalars(
        select(Response).join(Wave, Wave.id == Response.wave_id)
        .where(Wave.study_id == study.id, Wave.code == WAVE, Response.status == "submitted")
    ))


def fisher_two_sided(a: int, n1: int, c: int, n2: int) -> float:
    """Fisher's exact two-sided p by enumerating every table with the observed margins:
    the sum of the hypergeometric probabilities no larger than the observed one's."""
    total_yes, n = a + c, n1 + n2
    low, high = max(0, total_yes - n2), min(n1, total_yes)
    denominator = math.comb(n, total_yes)
    prob = {k: Fraction(math.comb(n1, k) * math.comb(n2, total_yes - k), denominator)
            for k in range(low, high + 1)}
    assert sum(prob.values()) == 1
    observed = prob[a]
    return float(sum(p for p in prob.values() if p <= observed))


def newcombe_hybrid(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998) method 10: the risk difference's interval from the two Wilson
    intervals, written out from the paper."""
    z = NormalDist().inv_cdf(0.975)

    def wilson(x: int, n: int) -> tuple[float, float]:
        p = x / n
        centre = p + z * z / (2 * n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)

    p1, p2 = a / n1, c / n2
    (l1, u1), (l2, u2) = wilson(a, n1), wilson(c, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), \
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_demo_loads_working_links_as_defined_in_its_study_file(cli, study):
    assert "working-links" in cli.loaded
    assert study.arms == ["integrated", "comparison"]
    assert study.languages == ["en"]
    assert study.programme == {"en": "Working Links health and wellbeing pilot"}
    assert "330 per arm assumed" in study.name
    assert [(m.key, m.kind, m.better, m.baseline) for m in study.measures] == [
        ("job_entry", "binary", "yes", False), ("closer_to_work", "binary", "yes", False),
        ("manage_health", "binary", "yes", False)]
    assert [w.code for w in study.waves] == [WAVE]
    shown = cli("study", "show", SLUG).stdout
    assert "instrument: working_links_survey" in shown
    assert "arms: [integrated, comparison]" in shown and "randomised: false" in shown


def test_the_cohort_has_330_clients_per_arm_in_devon_and_cornwall(db, study):
    people = list(db.scalars(select(Participant).where(Participant.study_id == study.id)))
    assert Counter(p.arm for p in people) == {"integrated": ARM_SIZE, "comparison": ARM_SIZE}
    assert {p.site for p in people} == {"Devon", "Cornwall"}
    assert {p.status for p in people} == {"completed"}
    assert all(date(2016, 1, 1) <= p.completed_on <= date(2017, 12, 31) for p in people)


def test_every_client_answered_the_follow_up_in_its_window(db, study):
    invitations = list(db.scalars(
        select(Invitation).join(Wave, Wave.id == Invitation.wave_id)
        .where(Wave.study_id == study.id)))
    assert len(invitations) == 2 * ARM_SIZE
    assert {InvitationStatus(i.status) for i in invitations} == {InvitationStatus.COMPLETED}
    responses = submitted(db, study)
    assert len(responses) == 2 * ARM_SIZE
    (wave,) = study.waves
    for r in responses:
        due = r.participant.completed_on + timedelta(days=wave.offset_days)
        assert r.invitation is not None and r.invitation.due_on == due
        assert due <= r.submitted_on < due + timedelta(days=wave.close_days)
        assert r.submitted_on.year in (2016, 2017)


def test_job_entries_are_79_of_330_integrated_and_44_of_330_comparison(db, study):
    responses = submitted(db, study)
    answered = Counter(r.participant.arm for r in responses
                       if r.answers.get("job_entry") in ("yes", "no"))
    assert answered == {"integrated": ARM_SIZE, "comparison": ARM_SIZE}
    jobs = Counter(r.participant.arm for r in responses if r.answers["job_entry"] == "yes")
    assert jobs == JOB_ENTRIES
    # The triggers scored the outcome from the answers (yes = 1).
    slot = slot_of(study, "job_entry")
    scored = Counter(r.participant.arm for r in responses if getattr(r, f"score_{slot}") == 1)
    assert scored == JOB_ENTRIES


def test_the_sessions_shares_are_of_the_integrated_arm_only(db, study):
    responses = submitted(db, study)
    integrated = [r for r in responses if r.participant.arm == "integrated"]
    comparison = [r for r in responses if r.participant.arm == "comparison"]
    assert len(integrated) == len(comparison) == ARM_SIZE
    for key, yes in INTEGRATED_YES.items():
        assert all(r.answers.get(key) in ("yes", "no") for r in integrated), key
        assert sum(r.answers[key] == "yes" for r in integrated) == yes, key
        # Comparison clients had no sessions: not asked (routed), so blank and not scored.
        slot = slot_of(study, key)
        assert not any(key in r.answers for r in comparison), key
        assert all(getattr(r, f"score_{slot}") is None for r in comparison), key
    assert round(100 * 296 / 330, 1) == 89.7 and round(100 * 320 / 330, 1) == 97.0


def test_the_demo_is_not_loaded_twice_and_if_empty_leaves_it_alone(cli, db):
    again = cli("demo", check=False)
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr
    skipped = cli("demo", "--if-empty")
    assert "not loaded again" in skipped.stdout
    db.expire_all()
    assert sorted(db.scalars(select(Study.slug))) == [
        "ehd-2024", "ehd-live", "ffws-pilots", "hws-pilot", "working-links"]
    assert db.scalar(select(func.count()).select_from(Participant).join(Study).where(
        Study.slug == SLUG)) == 2 * ARM_SIZE


@pytest.mark.parametrize("seed", [working_links.DEFAULT_SEED, 1, 2016])
def test_the_generator_gives_back_the_figures_for_any_seed(seed):
    people = working_links.participants_rows(seed)
    answers = working_links.responses_rows(seed)
    arm = {p["participant_ref"]: p["arm"] for p in people}
    assert Counter(arm.values()) == {"integrated": ARM_SIZE, "comparison": ARM_SIZE}
    assert sorted(arm) == sorted(a["participant_ref"] for a in answers)
    assert Counter(arm[a["participant_ref"]] for a in answers
                   if a["job_entry"] == "yes") == JOB_ENTRIES
    for key, yes in INTEGRATED_YES.items():
        assert sum(a[key] == "yes" for a in answers) == yes
        assert all(a[key] == "" for a in answers if arm[a["participant_ref"]] == "comparison")
    assert working_links.participants_rows(seed) == people  # deterministic


def test_the_paired_report_compares_job_entry_between_the_arms(cli):
    """Risk ratio (79/330)/(44/330) = 1.795..., Fisher's exact p and Koopman's interval,
    against values computed independently (enumeration here, R above)."""
    report = json.loads(cli("report", "paired", "--study", SLUG, "--follow-up", WAVE,
                            "--format", "json").stdout)
    assert report["comparison_arms"] == ["integrated", "comparison"]
    assert report["randomised"] is False
    job = report["comparison"]["job_entry"]
    assert (job["kind"], job["first_arm"], job["second_arm"]) == (
        "binary", "integrated", "comparison")
    assert {arm: (v["n"], v["better"]) for arm, v in job["arms"].items()} == {
        "integrated": (330, 79), "comparison": (330, 44)}

    ratio = job["risk_ratio"]
    assert ratio["estimate"] == pytest.approx((79 / 330) / (44 / 330), rel=1e-12)
    assert ratio["estimate"] == pytest.approx(1.7954545454545454, rel=1e-12)
    assert ratio["method"] == "koopman-score"
    assert (ratio["ci_low"], ratio["ci_high"]) == pytest.approx(KOOPMAN_R, rel=1e-6)

    enumerated = fisher_two_sided(79, 330, 44, 330)
    assert enumerated == pytest.approx(FISHER_P_R, rel=1e-9)
    assert job["fisher"]["method"] == "two-sided"
    assert job["fisher"]["p"] == pytest.approx(enumerated, rel=1e-9)

    difference = job["risk_difference"]
    assert difference["estimate"] == pytest.approx(35 / 330, rel=1e-12)
    assert difference["method"] == "newcombe-hybrid-score"
    assert (difference["ci_low"], difference["ci_high"]) == pytest.approx(
        newcombe_hybrid(79, 330, 44, 330), rel=1e-9)

    # The sessions' shares: integrated only, nothing to compare them with.
    for key, yes in INTEGRATED_YES.items():
        entry = report["comparison"][key]
        assert (entry["arms"]["integrated"]["n"], entry["arms"]["integrated"]["better"]) == (
            330, yes)
        assert entry["arms"]["comparison"]["n"] == 0
        # Not estimable: no statistics (null, or null inside), and a caveat saying why.
        assert (entry["fisher"] or {}).get("p") is None
        assert (entry["risk_ratio"] or {}).get("estimate") is None
        assert "arm_without_answers" in entry["caveat_codes"]
        overall = report["measures"][key]
        assert (overall["n"], overall["better_count"], overall["unanswered"]) == (330, yes, 330)
    # Matched, not randomised: the selection caveat; everyone answered in both arms.
    assert "not_randomised" in report["comparison_caveat_codes"]
    assert {arm: v["rate"] for arm, v in report["arm_response"]["arms"].items()} == {
        "integrated": 1.0, "comparison": 1.0}
    assert (report["measures"]["job_entry"]["n"],
            report["measures"]["job_entry"]["better_count"]) == (660, 123)


def test_the_standalone_html_report_compares_the_arms_and_states_the_assumptions(cli):
    """`report paired --format html` is a file on its own: the comparison, each arm's report
    and the chart's styles travel with it."""
    html = cli("report", "paired", "--study", SLUG, "--format", "html").stdout
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Comparison of arms" in text and "Within each arm" in text
    assert "Arm: integrated" in text and "Arm: comparison" in text
    assert "23.9 (19.7 to 28.8)" in text  # the integrated arm's job entries, one decimal
    assert "1.80 (1.29 to 2.51)" in text  # the risk ratio and Koopman's interval
    assert ".app-chart__first" in html  # the chart's colours come with the file
    report = json.loads(cli("report", "paired", "--study", SLUG, "--format", "json").stdout)
    assert "ASSUMES 330 clients in each arm" in report["study_notes"]
