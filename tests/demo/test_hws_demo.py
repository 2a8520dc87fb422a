"""`surveys demo` also loads the Health and Work Support pilot (study hws-pilot), and the
database gives back every published figure of its evaluation.

Source: ../shared/published-figures.md ("Health and Work Support pilot"). The expected
numbers are written out here on purpose, rather than read from surveys.demo.figures, so a
slip in either place shows up. Shares are counted straight from the participants and
responses tables; the paired McNemar p is recomputed from the raw pairs with SciPy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from scipy import stats
from sqlalchemy import func, select, text

from surveys.db import make_engine, make_session_factory
from surveys.demo import hws
from surveys.models import Base, Participant, Response, Study, Wave

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
SURVEYS = str(Path(sys.executable).with_name("surveys"))
SLUG = "hws-pilot"
WAVE = "survey"

DROPPED_OUT = 36  # per cent of all participants
AT_ENROLMENT = {"concerned_job": 34, "absent": 27}  # per cent of all participants, yes
AT_SURVEY = {"concerned_job": 12, "absent": 10, "made_difference": 76,  # of respondents
             "health_improved": 78}
HEALTH_CONTRIBUTED = 91  # per cent of those whose health improved


def pct(count: int, base: int) -> int:
    """Half-up whole percentage, computed independently of the demo code."""
    exact = Decimal(100 * count) / Decimal(base)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
        path = tmp_path_factory.mktemp("hws") / "demo.sqlite3"
        shutil.copy(_template_sqlite, path)
        url = f"sqlite:///{path}"
    folder = tmp_path_factory.mktemp("hws-cli")
    env = {**os.environ, "SURVEYS_DATABASE_URL": url,
           "SURVEYS_SECRET_KEY": "hws-demo-test-" + "x" * 32,
           "SURVEYS_INSTANCE_DIR": str(folder / "instance"),
           "SURVEYS_BASE_URL": "http://surveys.test"}

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([SURVEYS, *args], env=env, capture_output=True, text=True,
                              cwd=folder, timeout=600)
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
    assert found is not None, "surveys demo did not load the HWS pilot"
    return found


def slot_of(study: Study, key: str) -> int:
    (measure,) = [m for m in study.measures if m.key == key]
    return measure.slot


def submitted(db, study: Study) -> list[Response]:
    return list(db.scalars(
        select(Response).join(Wave, Wave.id == Response.wave_id)
        .where(Wave.study_id == study.id, Wave.code == WAVE, Response.status == "submitted")
    ))


def test_demo_loads_the_hws_pilot_as_defined_in_its_study_file(cli, study):
    assert "hws-pilot" in cli.loaded
    assert study.languages == ["en"]
    assert [(m.key, m.kind, m.better, m.baseline) for m in study.measures] == [
        ("concerned_job", "binary", "no", True), ("absent", "binary", "no", True)]
    assert [w.code for w in study.waves] == [WAVE]
    # The study file reads back as it was written (the `study show` round trip).
    shown = cli("study", "show", SLUG).stdout
    assert "instrument: hws_survey" in shown and "concerned_job" in shown


def test_a_third_of_all_participants_dropped_out(db, study):
    counts = dict(db.execute(
        select(Participant.status, func.count()).where(Participant.study_id == study.id)
        .group_by(Participant.status)).all())
    assert set(counts) == {"completed", "dropped_out"}
    total = sum(counts.values())
    assert pct(counts["dropped_out"], total) == DROPPED_OUT
    sites = set(db.scalars(select(Participant.site).distinct()
                           .where(Participant.study_id == study.id)))
    assert sites == {"Dundee", "Fife"}


def test_enrolment_shares_are_of_all_participants(db, study):
    total = db.scalar(select(func.count()).where(Participant.study_id == study.id))
    for key, published in AT_ENROLMENT.items():
        column = getattr(Participant, f"baseline_{slot_of(study, key)}")
        recorded = db.scalar(select(func.count()).where(Participant.study_id == study.id,
                                                        column.is_not(None)))
        yes = db.scalar(select(func.count()).where(Participant.study_id == study.id,
                                                   column == 1))
        assert recorded == total, key  # recorded for everyone enrolled, dropped out or not
        assert pct(yes, total) == published, key


def test_survey_shares_are_of_respondents_who_completed(db, study):
    responses = submitted(db, study)
    assert responses and all(r.participant is not None for r in responses)
    assert {r.participant.status for r in responses} == {"completed"}
    base = len(responses)
    for key, published in AT_SURVEY.items():
        yes = sum(1 for r in responses if r.answers.get(key) == "yes")
        assert all(r.answers.get(key) in ("yes", "no") for r in responses), key
        assert pct(yes, base) == published, key
    # The triggers scored the two measures from the answers (yes = 1).
    for key in hws.MEASURES:
        scored = sum(1 for r in responses if getattr(r, f"score_{slot_of(study, key)}") == 1)
        assert scored == sum(1 for r in responses if r.answers[key] == "yes"), key
    improved = [r for r in responses if r.answers["health_improved"] == "yes"]
    contributed = sum(1 for r in improved if r.answers.get("health_contributed") == "yes")
    assert pct(contributed, len(improved)) == HEALTH_CONTRIBUTED
    # Routed: asked only of those whose health improved.
    assert not any("health_contributed" in r.answers for r in responses
                   if r.answers["health_improved"] == "no")


def test_paired_mcnemar_of_respondents_matches_scipy_on_the_raw_pairs(cli, db, study):
    report = json.loads(cli("report", "paired", "--study", SLUG, "--follow-up", WAVE,
                            "--format", "json").stdout)
    responses = submitted(db, study)
    assert (report["responses"], report["linked"]) == (len(responses), len(responses))
    for key in hws.MEASURES:
        slot = slot_of(study, key)
        pairs = [(getattr(r.participant, f"baseline_{slot}"), r.answers[key] == "yes")
                 for r in responses]
        improved = sum(1 for before, after in pairs if before == 1 and not after)
        worse = sum(1 for before, after in pairs if before == 0 and after)
        assert improved and worse, f"{key}: the demo's pairs must change both ways"
        entry = report["measures"][key]
        assert entry["kind"] == "binary"
        assert (entry["n"], entry["improved"], entry["deteriorated"]) == (
            len(pairs), improved, worse)
        expected = stats.binomtest(improved, improved + worse, 0.5).pvalue
        assert entry["mcnemar"]["method"] == "exact"
        assert entry["mcnemar"]["p"] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_the_ehd_demo_stays_the_default_study(cli):
    report = json.loads(cli("report", "paired", "--follow-up", "wave2", "--format",
                            "json").stdout)
    assert (report["responses"], report["linked"]) == (34, 28)
    assert {m: report["measures"][m]["improved"] for m in report["measures"]} == {
        "workability": 5, "confidence": 3, "importance": 3}


@pytest.mark.parametrize("seed", [hws.DEFAULT_SEED, 1, 2025])
def test_the_generator_gives_back_the_published_shares_for_any_seed(seed):
    people = hws.participants_rows(seed)
    answers = hws.responses_rows(seed)
    assert pct(sum(p["status"] == "dropped_out" for p in people), len(people)) == DROPPED_OUT
    for key, published in AT_ENROLMENT.items():
        assert pct(sum(p[f"{key}_end"] == "yes" for p in people), len(people)) == published
    completers = {p["participant_ref"] for p in people if p["status"] == "completed"}
    assert {a["participant_ref"] for a in answers} <= completers
    assert all(bool(p["completed_on"]) == (p["status"] == "completed") for p in people)
    assert all("2018" <= p["completed_on"][:4] <= "2020" for p in people if p["completed_on"])
    for key, published in AT_SURVEY.items():
        assert pct(sum(a[key] == "yes" for a in answers), len(answers)) == published
    improved = [a for a in answers if a["health_improved"] == "yes"]
    assert pct(sum(a["health_contributed"] == "yes" for a in improved),
               len(improved)) == HEALTH_CONTRIBUTED


def test_paired_report_gives_the_published_shares_beside_the_paired_change(cli):
    """`surveys report paired` gives both published shares (all participants at enrolment,
    respondents at the survey), the paired McNemar change, and the two-groups caveat."""
    report = json.loads(cli("report", "paired", "--study", SLUG, "--follow-up", WAVE,
                            "--format", "json").stdout)
    for key in hws.MEASURES:
        entry = report["measures"][key]
        everyone = entry["baseline_all_participants"]
        answered = entry["follow_up_all_respondents"]
        assert pct(everyone["yes"], everyone["n"]) == AT_ENROLMENT[key], key
        assert pct(answered["yes"], answered["n"]) == AT_SURVEY[key], key
        assert everyone["n"] > entry["n"] == answered["n"]
        assert entry["mcnemar"]["p"] is not None
        assert "binary_different_groups" in entry["caveat_codes"]
    html = cli("report", "paired", "--study", SLUG, "--follow-up", WAVE, "--format",
               "html").stdout
    for key in hws.MEASURES:
        assert f"{AT_ENROLMENT[key]}% (" in html and f"{AT_SURVEY[key]}% (" in html


def test_evaluation_report_defaults_to_the_studys_own_wave(cli):
    report = json.loads(cli("report", "evaluation", "--study", "hws-pilot", "--format",
                            "json").stdout)
    assert report["follow_up"] == "survey"
    assert report["baseline_source"] == "cohort_file"
