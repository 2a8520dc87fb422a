"""`surveys demo` also loads the Fit for Work Service pilots (study ffws-pilots): eleven pilot
areas, two telephone-first waves worked through interviewers' call lists, a finished first
wave of over 300 interviews and a live second wave with a call list today.

Source: ../shared/seeds/003_9490e0e44c16a1b0.txt and ../shared/published-figures.md ("Fit
for Work Service pilots"): 11 areas, "a two-wave telephone survey", the first wave "of over
300 FFWS clients". The rest is invented by the demo (surveys/demo/ffws/README.md). The
expected numbers are written out here on purpose, rather than read from
surveys.demo.ffws, so a slip in either place shows up. Counts come straight from the
tables; the demo runs on the real clock, as a researcher runs it, so the live wave is
checked against the time it was loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from surveys import create_app
from surveys.db import make_engine, make_session_factory
from surveys.demo import ffws
from surveys.invitations import calls, windows
from surveys.invitations.mailer import OutboxMailer
from surveys.models import (
    Base,
    CallAttempt,
    Invitation,
    Participant,
    Response,
    Study,
    User,
    Wave,
)
from surveys.models.user import user_studies
from surveys.settings import Settings
from tests.helpers import sign_in

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
SURVEYS = str(Path(sys.executable).with_name("surveys"))
SLUG = "ffws-pilots"
INTERVIEWER = "interviewer@example.org"
PASSWORD = "demo-password-2024"
SITES = [f"Pilot area {letter}" for letter in "ABCDEFGHIJK"]  # invented: the seed names none
COHORT = 520
MAX_CALLS = 6
WAVE1 = {"completed": 312, "refused": 78, "wrong_number": 41, "not_reached": 89}
OUTCOMES = {"no_answer", "call_back", "refused", "wrong_number", "completed"}
SECRET = "ffws-demo-test-" + "x" * 32


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
        path = tmp_path_factory.mktemp("ffws") / "demo.sqlite3"
        shutil.copy(_template_sqlite, path)
        url = f"sqlite:///{path}"
    folder = tmp_path_factory.mktemp("ffws-cli")
    env = {**os.environ, "SURVEYS_DATABASE_URL": url, "SURVEYS_SECRET_KEY": SECRET,
           "SURVEYS_INSTANCE_DIR": str(folder / "instance"),
           "SURVEYS_BASE_URL": "http://surveys.test"}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([SURVEYS, *args], env=env, capture_output=True, text=True,
                              cwd=folder, timeout=600)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    run.url = url
    run.started = datetime.now(UTC)
    run.loaded = run("demo").stdout
    run.finished = datetime.now(UTC)
    return run


@pytest.fixture(scope="module")
def engine(cli):
    engine = make_engine(cli.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def db(engine):
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture(scope="module")
def study(db) -> Study:
    found = db.scalar(select(Study).where(Study.slug == SLUG))
    assert found is not None, "surveys demo did not load the Fit for Work Service pilots"
    return found


def wave(study: Study, code: str) -> Wave:
    (found,) = [w for w in study.waves if w.code == code]
    return found


def invitations(db, study: Study, code: str) -> list[Invitation]:
    return list(db.scalars(select(Invitation).where(Invitation.wave_id == wave(study, code).id)))


def attempts_by_invitation(db, study: Study, code: str) -> dict[int, list[CallAttempt]]:
    found = defaultdict(list)
    for a in db.scalars(select(CallAttempt).join(Invitation).where(
            Invitation.wave_id == wave(study, code).id).order_by(CallAttempt.id)):
        found[a.invitation_id].append(a)
    return found


def test_demo_loads_ffws_as_defined_in_its_study_file(cli, study):
    assert "ffws-pilots" in cli.loaded and INTERVIEWER in cli.loaded
    assert "312 interviews of 520 clients" in cli.loaded
    assert study.languages == ["en"]
    assert study.programme == {"en": "Fit for Work Service"}
    assert [(w.code, w.mode, w.max_calls, w.reminder_days, w.offset_days, w.close_days)
            for w in study.waves] == [("wave1", "telephone", 6, [], 28, 42),
                                      ("wave2", "telephone", 6, [], 196, 42)]
    assert [(m.key, m.kind, m.baseline) for m in study.measures] == [
        ("back_at_work", "binary", False), ("health", "scale", True)]
    assert "Pilot area A to Pilot area K" in study.notes and "invented" in study.notes
    shown = cli("study", "show", SLUG).stdout
    assert shown.count("mode: telephone") == 2 and shown.count("max_calls: 6") == 2
    assert "instrument: ffws_wave1" in shown and "instrument: ffws_wave2" in shown


def test_eleven_pilot_areas_and_520_clients_reached_by_telephone(db, study):
    people = list(db.scalars(select(Participant).where(Participant.study_id == study.id)))
    assert len(people) == COHORT
    assert sorted({p.site for p in people}) == SITES
    assert all(p.email is None for p in people)  # telephone-first: no email channel
    # Phone numbers from Ofcom's drama ranges, kept while a call may still be made.
    still_called = {i.participant_id for i in invitations(db, study, "wave2")
                    if i.status in ("scheduled", "issued")}
    assert still_called
    for p in people:
        if p.id in still_called:
            assert p.phone and p.phone.startswith(("+447700900", "+441632960")), p.ref
    (health,) = [m for m in study.measures if m.key == "health"]
    baselines = [getattr(p, f"baseline_{health.slot}") for p in people]
    assert all(b is not None and 0 <= b <= 10 for b in baselines)  # health_end, 0-10


def test_the_first_wave_finished_with_over_300_telephone_interviews(db, study):
    first = invitations(db, study, "wave1")
    assert len(first) == COHORT
    assert Counter(i.status for i in first) == {"completed": 312, "closed": COHORT - 312}
    interviewer = db.scalar(select(User).where(User.email == INTERVIEWER))
    responses = list(db.scalars(select(Response).where(
        Response.wave_id == wave(study, "wave1").id)))
    assert len(responses) == 312 > 300
    by_invitation = {i.id: i for i in first}
    for r in responses:
        inv = by_invitation[r.invitation_id]
        assert (r.status, r.mode, r.source, r.entered_by_id) == (
            "submitted", "telephone", "form", interviewer.id)
        assert 1 <= r.calls == inv.calls <= MAX_CALLS
        assert inv.due_on <= r.submitted_on <= inv.closes_on
        assert set(r.answers) == {"back_at_work", "health", "service_helped"}


def test_every_first_wave_call_ended_as_designed(db, study):
    first = {i.id: i for i in invitations(db, study, "wave1")}
    attempts = attempts_by_invitation(db, study, "wave1")
    assert set(attempts) == set(first)  # everyone was called
    endings = Counter()
    for inv_id, made in attempts.items():
        last = made[-1].outcome
        if last in ("completed", "refused", "wrong_number"):
            endings[last] += 1
        else:
            assert len(made) == MAX_CALLS and first[inv_id].next_call_at is None
            endings["not_reached"] += 1
    assert endings == WAVE1
    assert {a.outcome for made in attempts.values() for a in made} == OUTCOMES


@pytest.mark.parametrize("code", ["wave1", "wave2"])
def test_calls_follow_the_call_list_rules(db, study, code, cli):
    """Each attempt went through record_attempt: counted on the questionnaire, in time
    order, inside the questionnaire's window, never after the call that ended it; a call
    back names a later time; every call was made by the demo interviewer."""
    interviewer = db.scalar(select(User).where(User.email == INTERVIEWER))
    found = {i.id: i for i in invitations(db, study, code)}
    for inv_id, made in attempts_by_invitation(db, study, code).items():
        inv = found[inv_id]
        assert len(made) == inv.calls <= MAX_CALLS
        times = [a.at for a in made]
        assert times == sorted(times) and inv.issued_at <= times[0]
        assert all(a.at < cli.finished for a in made)
        assert windows.local_today(study.time_zone, times[-1]) <= inv.closes_on
        assert all(a.outcome in ("no_answer", "call_back") for a in made[:-1])
        assert all(a.interviewer_id == interviewer.id for a in made)
        for a in made:
            if a.outcome == "call_back":
                assert a.call_back_at is not None and a.call_back_at > a.at
            else:
                assert a.call_back_at is None


def test_the_second_wave_is_live_with_a_call_list_today(db, study, cli):
    second = wave(study, "wave2")
    statuses = Counter(i.status for i in invitations(db, study, "wave2"))
    # Some issued and answered already, some still to fall due.
    assert statuses["completed"] > 0 and statuses["issued"] > 0 and statuses["scheduled"] > 0
    due = calls.due_now(db, second, cli.finished, size=COHORT)
    assert due.total > 0
    # Call backs booked shortly before loading, for a time still ahead (later today or on
    # the next calling day), and a missed one already due.
    ahead = db.scalars(select(CallAttempt).join(Invitation).where(
        Invitation.wave_id == second.id, Invitation.status == "issued",
        CallAttempt.outcome == "call_back", CallAttempt.call_back_at > cli.finished)).all()
    assert len(ahead) >= 5
    assert all(a.call_back_at - cli.started < timedelta(days=4) for a in ahead)
    overdue = [row for row in due.rows if row.last_outcome == "call_back"]
    assert overdue
    # Attempts with every outcome already recorded in the live wave, except those that
    # can only come later.
    outcomes = {a.outcome for made in attempts_by_invitation(db, study, "wave2").values()
                for a in made}
    assert outcomes == OUTCOMES


def test_the_evaluation_report_funnel_shows_the_call_outcomes(cli):
    report = json.loads(cli("report", "evaluation", "--study", SLUG).stdout)
    (missing,) = [s for s in report["sections"] if s["id"] == "missing"]
    (rates,) = [t for t in missing["tables"] if t["id"] == "response-rates"]
    rows = {row["key"]: row["cells"] for row in rates["rows"]}
    assert {key: rows[key]["wave1:count"] for key in (
        "completed", "refused", "wrong_number", "not_reached", "closed", "issued")} == {
        "completed": 312, "refused": 78, "wrong_number": 41, "not_reached": 89,
        "closed": 0, "issued": 0}
    assert rows["completed"]["wave1:percent"] == 60  # 312 of 520
    assert rows["completed"]["wave2:count"] > 0 and rows["scheduled"]["wave2:count"] > 0


def test_the_interviewer_works_only_this_studys_call_list(cli, db, engine, study,
                                                          tmp_path_factory):
    interviewer = db.scalar(select(User).where(User.email == INTERVIEWER))
    assert interviewer.role == "interviewer"
    assert db.scalars(select(user_studies.c.study_id).where(
        user_studies.c.user_id == interviewer.id)).all() == [study.id]
    app = create_app({
        "SETTINGS": Settings(database_url=cli.url, secret_key=SECRET,
                             base_url="http://surveys.test"),
        "ENGINE": engine, "MAILER": OutboxMailer(tmp_path_factory.mktemp("ffws-outbox")),
        "TESTING": True})
    client = app.test_client()
    signed_in = sign_in(client, INTERVIEWER, PASSWORD)
    assert signed_in.headers["Location"].endswith("/staff/calls")
    listing = client.get("/staff/calls").get_data(as_text=True)
    assert "Fit for Work Service pilots evaluation" in listing
    assert "Working Links" not in listing
    # The call list opens on the live wave, not the finished first wave's empty list.
    page = client.get(f"/staff/studies/{SLUG}/calls").get_data(as_text=True)
    assert "Call list: Second telephone interview" in page
    assert 'id="due"' in page and "FFWS-" in page
    assert client.get("/staff/studies/ehd-2024/calls").status_code == 404
    assert client.get("/staff/").status_code == 403


@pytest.mark.parametrize("seed", [ffws.DEFAULT_SEED, 1, 2010])
def test_the_generator_gives_back_the_design_for_any_seed(seed):
    today = date(2026, 3, 2)
    people = ffws.participants_rows(today, seed)
    assert len(people) == COHORT
    assert Counter(p["site"] for p in people).keys() == set(SITES)
    first, second = ffws.scripts("wave1", seed), ffws.scripts("wave2", seed)
    assert Counter(s.ending for s in first.values()) == WAVE1
    for scripts in (first, second):
        assert set(scripts) == {p["participant_ref"] for p in people}
        for s in scripts.values():
            assert 1 <= len(s.calls) <= MAX_CALLS
            assert [c.outcome for c in s.calls][-1] in OUTCOMES
            assert (s.answers is not None) == (s.ending == "completed")
            if s.ending == "not_reached":
                assert len(s.calls) == MAX_CALLS
                assert {c.outcome for c in s.calls} <= {"no_answer", "call_back"}
    # A wrong number stays wrong six months on.
    assert {r for r, s in first.items() if s.ending == "wrong_number"} == {
        r for r, s in second.items() if s.ending == "wrong_number"}
    for p in people:
        completed = date.fromisoformat(p["completed_on"])
        assert completed.weekday() < 5
        assert -14 <= (completed + timedelta(days=196) - today).days <= 10
    assert ffws.participants_rows(today, seed) == people  # deterministic
