"""Arms as researchers see them (issue 13): `randomised` in a study definition (file, show,
apply, web form, migration 0010), the cohort page's participants per arm and its filter, and
the evaluation report broken down by arm under the same disclosure rules as by site."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

from analysis.disclosure import SUPPRESSED
from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.migrate import alembic_config
from surveys.models import AuditEvent, Study, User
from surveys.responses.importer import import_responses
from surveys.studies import create_study, wave_by_code
from tests.helpers import PARTICIPANTS_HEADER, csrf_token
from tests.reports.conftest import cell, find_table
from tests.security.conftest import act_as
from tests.test_study_pages import form

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
PASSWORD = "a long and proper passphrase 2024"

STUDY = """\
slug: arms-pilot
name: Arms pilot
programme: {en: Arms pilot}
languages: [en]
arms: [integrated, comparison]
randomised: true
measures:
  - id: workability
    kind: scale
    label: {en: Work ability}
waves:
  - code: follow
    instrument: wave2
    offset_days: 42
"""


@pytest.fixture
def cli(app, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def run(*args: str, check: bool = True):
        done = runner.invoke(args=list(args))
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert "Traceback" not in done.stderr
        if check:
            assert done.exit_code == 0, done.stderr
        return SimpleNamespace(returncode=done.exit_code, stdout=done.stdout, stderr=done.stderr)

    return run


def apply(cli, tmp_path: Path, source: str, check: bool = True):
    path = tmp_path / f"study-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(source)
    return cli("study", "apply", str(path), check=check)


# Definitions -----------------------------------------------------------------------------


def test_randomised_round_trips_through_show_and_apply_and_a_change_is_audited(
        cli, tmp_path, session_factory):
    apply(cli, tmp_path, STUDY)
    shown = cli("study", "show", "arms-pilot").stdout
    assert "arms: [integrated, comparison]\nrandomised: true\n" in shown
    assert apply(cli, tmp_path, shown).stdout.splitlines()[1:] == ["- no changes"]
    assert cli("study", "show", "arms-pilot").stdout == shown
    with session_factory() as s:
        assert s.scalar(select(Study.randomised)) is True

    changed = apply(cli, tmp_path, shown.replace("randomised: true", "randomised: false"))
    assert "- randomised: true -> false" in changed.stdout
    with session_factory() as s:
        assert s.scalar(select(Study.randomised)) is False
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "study_apply")
                          .order_by(AuditEvent.id.desc()).limit(1)).one()
        assert event.detail["changes"] == ["randomised: true -> false"]
    assert "randomised: false\n" in cli("study", "show", "arms-pilot").stdout


def test_randomised_defaults_to_false_and_is_shown_only_for_a_study_with_arms(cli, tmp_path):
    apply(cli, tmp_path, STUDY.replace("randomised: true\n", ""))
    assert "randomised: false\n" in cli("study", "show", "arms-pilot").stdout
    plain = STUDY.replace("randomised: true\n", "").replace(
        "arms: [integrated, comparison]\n", "").replace("arms-pilot", "plain")
    apply(cli, tmp_path, plain)
    shown = cli("study", "show", "plain").stdout
    assert "randomised" not in shown and "arms" not in shown
    assert apply(cli, tmp_path, shown).stdout.splitlines()[1:] == ["- no changes"]


@pytest.mark.parametrize("old, new, message", [
    ("arms: [integrated, comparison]\n", "",
     "randomised: applies only to a study with arms: list them under arms"),
    ("randomised: true", "randomised: maybe", "randomised: must be true or false (got 'maybe')"),
    ("randomised: true", "randomised: 1", "randomised: must be true or false (got 1)"),
])
def test_a_bad_randomised_gets_one_line_and_creates_nothing(cli, tmp_path, session_factory,
                                                            old, new, message):
    done = apply(cli, tmp_path, STUDY.replace(old, new), check=False)
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Study)) == 0


def test_removing_the_arms_of_a_randomised_study_needs_randomised_dropped_too(cli, tmp_path):
    apply(cli, tmp_path, STUDY)
    no_arms = STUDY.replace("arms: [integrated, comparison]\n", "")
    assert "applies only to a study with arms" in apply(cli, tmp_path, no_arms,
                                                        check=False).stderr
    out = apply(cli, tmp_path, no_arms.replace("randomised: true\n", "")).stdout
    assert "- arms: [integrated, comparison] -> []" in out
    assert "- randomised: true -> false" in out


# The web form ---------------------------------------------------------------------------


WEB_STUDY = {"name": "Arms pilot", "programme_en": "Arms pilot", "languages": ["en"],
             "disclosure_threshold": "7", "arms": "integrated, comparison"}
WEB_MEASURES = [{"id": "workability", "kind": "scale", "min": "0", "max": "10",
                 "label_en": "Work ability"}]
WEB_WAVES = [{"code": "follow", "instrument": "wave2", "offset_days": "42",
              "reminder_days": "7", "close_days": "28"}]


def researcher_client(app, session_factory):
    with session_factory() as s:
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    client = app.test_client()
    act_as(client, session_factory, "researcher")
    return client


def checked(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_the_study_form_sets_randomised_with_the_arms(app, cli, tmp_path, session_factory):
    apply(cli, tmp_path, STUDY.replace("randomised: true\n", ""))
    client = researcher_client(app, session_factory)
    html = client.get("/staff/studies/arms-pilot/edit").get_data(as_text=True)
    assert "Were participants allocated to the arms at random?" in html
    assert checked(html, "randomised") == "no"

    saved = client.post("/staff/studies/arms-pilot/edit", data=form(
        csrf_token(html), study={**WEB_STUDY, "randomised": "yes"}, measures=WEB_MEASURES,
        waves=WEB_WAVES), content_type="multipart/form-data", follow_redirects=True)
    assert saved.status_code == 200
    page = saved.get_data(as_text=True)
    assert "randomised: false -&gt; true" in page
    assert "integrated, comparison (allocated at random)" in page
    with session_factory() as s:
        assert s.scalar(select(Study.randomised)) is True
    html = client.get("/staff/studies/arms-pilot/edit").get_data(as_text=True)
    assert checked(html, "randomised") == "yes"

    # Randomised with no arms: refused with the file's message, nothing changed.
    refused = client.post("/staff/studies/arms-pilot/edit", data=form(
        csrf_token(html), study={**WEB_STUDY, "arms": "", "randomised": "yes"},
        measures=WEB_MEASURES, waves=WEB_WAVES), content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "randomised: applies only to a study with arms" in refused.get_data(as_text=True)
    with session_factory() as s:
        assert s.execute(select(Study.arms, Study.randomised)).one() == (
            ["integrated", "comparison"], True)


# Migration 0010 -------------------------------------------------------------------------


def _migrated_default(url: str) -> tuple:
    """A study stored at 0009, then the upgrade: (its randomised, a new row's default)."""
    command.upgrade(alembic_config(url), "0009")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    insert = ("INSERT INTO studies (slug, name, programme, languages, arms, "
              "disclosure_threshold) VALUES (:slug, 'S', '{}', '[\"en\"]', :arms, 7)")
    try:
        with engine.begin() as conn:
            conn.execute(text(insert), {"slug": "old", "arms": '["a", "b"]'})
        command.upgrade(alembic_config(url), "head")
        with engine.begin() as conn:
            conn.execute(text(insert), {"slug": "new", "arms": "[]"})
            rows = dict(conn.execute(text("SELECT slug, randomised FROM studies")).all())
            refused = None
            try:
                with conn.begin_nested():
                    conn.execute(text("UPDATE studies SET randomised = NULL"))
            except Exception as error:  # noqa: BLE001 - the driver's integrity error
                refused = type(error).__name__
        return rows["old"], rows["new"], refused
    finally:
        engine.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite upgrade runs in the SQLite pass")
def test_migration_0010_gives_every_study_randomised_false_on_sqlite(tmp_path):
    old, new, refused = _migrated_default(f"sqlite:///{tmp_path / 'up.sqlite3'}")
    assert (bool(old), bool(new)) == (False, False) and old is not None
    assert refused == "IntegrityError"  # not null


@pytest.mark.skipif(not PG_URL, reason="needs SURVEYS_TEST_DATABASE_URL (PostgreSQL)")
def test_migration_0010_gives_every_study_randomised_false_on_postgresql():
    name = f"arms_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        base, _, _ = PG_URL.rpartition("/")
        assert _migrated_default(f"{base}/{name}") == (False, False, "IntegrityError")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# The cohort page ------------------------------------------------------------------------


ARM_SIZES = {"integrated": 10, "comparison": 4}


def load_arms(session_factory, clock, slug: str = "arms", arms=ARM_SIZES) -> None:
    """An EHD-design study; every client answered wave2 (varied scores)."""
    today = clock().date()
    completed = (today - timedelta(days=60)).isoformat()
    rows, answers, n = [], [], 0
    for arm, size in arms.items():
        for _ in range(size):
            n += 1
            rows.append(f"{slug[0].upper()}{n:03d},Hull,{completed},en,,,{n % 11},"
                        f"{(n * 3) % 11},{(n * 7) % 11}" + (f",{arm}" if arm else "") + "\n")
            answers.append(f"{slug[0].upper()}{n:03d},{today},telephone,{(n * 5) % 11},"
                           f"{(n * 2) % 11},{(n * 9) % 11}\n")
    header = PARTICIPANTS_HEADER.rstrip("\n") + (",arm\n" if any(arms) else "\n")
    with session_factory() as s:
        study = create_study(s, slug, f"Study {slug}", arms=[a for a in arms if a])
        import_cohort(s, study, header + "".join(rows))
        import_responses(s, study, wave_by_code(study, "wave2"),
                         "participant_ref,submitted_on,mode,workability,confidence,importance\n"
                         + "".join(answers))
        for role in ("evaluator", "researcher"):
            if s.scalar(select(User).where(User.role == role)) is None:
                create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()


def as_role(app, session_factory, role: str):
    client = app.test_client()
    act_as(client, session_factory, role)
    return client


def listed_refs(html: str) -> list[str]:
    return re.findall(
        r'<th scope="row" class="govuk-table__header">(?:<a [^>]*>)?([A-Z]\d{3})<', html)


def test_the_cohort_page_counts_participants_per_arm_and_filters_by_arm(
        app, session_factory, clock):
    load_arms(session_factory, clock)
    client = as_role(app, session_factory, "researcher")
    page = client.get("/staff/studies/arms/cohort")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Participants in each arm" in html
    counts = re.findall(r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>',
                        html.split("Participants in each arm")[1].split("</table>")[0])
    assert counts == ["10", "4"]
    # Links and hidden headers are markup, not escaped text.
    assert '<a class="govuk-link" href="/staff/studies/arms/cohort?arm=integrated">' in html
    assert "&lt;" not in html.split("Participants in each arm")[1]
    assert "Participants were not allocated to the arms at random." in html
    assert len(listed_refs(html)) == 14 and "14 participants" in html

    only = client.get("/staff/studies/arms/cohort?arm=comparison").get_data(as_text=True)
    assert listed_refs(only) == ["A011", "A012", "A013", "A014"]
    assert "4 participants in arm comparison" in only
    assert "Show participants in every arm" in only

    unknown = client.get("/staff/studies/arms/cohort?arm=control")
    assert unknown.status_code == 400
    assert ("There is no arm called &#39;control&#39; in this study. Its arms are: "
            "integrated, comparison.") in unknown.get_data(as_text=True)


def test_a_study_without_arms_shows_nothing_about_arms_on_its_cohort_page(
        app, session_factory, clock):
    load_arms(session_factory, clock, slug="plain", arms={None: 3})
    client = as_role(app, session_factory, "researcher")
    html = client.get("/staff/studies/plain/cohort").get_data(as_text=True)
    # Random CSRF tokens may spell "arm": read the page without them.
    words = re.sub(r'name="csrf_token" value="[^"]*"', "", html).lower().replace("alarm", "")
    assert ">Arm<" not in html and "arm" not in words
    refused = client.get("/staff/studies/plain/cohort?arm=integrated")
    assert refused.status_code == 400
    assert "This study has no arms, so there is nothing to filter by." in refused.get_data(
        as_text=True)


# The evaluation report by arm ------------------------------------------------------------


BY_ARM = "wave2-workability"  # a follow-up question's table, split by arm
PAIRED_BY_ARM = "paired-workability-by-arm"


def test_the_evaluation_report_breaks_down_by_arm_under_the_evaluator_rule(
        app, session_factory, clock, runner):
    load_arms(session_factory, clock)
    researcher = as_role(app, session_factory, "researcher")
    report = researcher.get("/api/studies/arms/reports/evaluation?breakdown=arm").get_json()
    assert (report["breakdown"], report["breakdown_label"]) == ("arm", "Arm")
    table = find_table(report, BY_ARM)
    keys = [c["key"] for c in table["columns"] if c["kind"] == "count"]
    assert keys[:2] == ["integrated:count", "comparison:count"]  # the study's order
    assert cell(report, BY_ARM, "total", "integrated:count") == 10
    assert cell(report, BY_ARM, "total", "comparison:count") == 4
    assert cell(report, BY_ARM, "total", "_all:count") == 14
    assert cell(report, PAIRED_BY_ARM, "total", "comparison:count") == 4
    page = researcher.get("/reports/arms/evaluation?breakdown=arm").get_data(as_text=True)
    assert '<option value="arm" selected>Arm</option>' in page

    # Evaluators: the comparison arm (4 people, threshold 7) is hidden, as a small site is.
    evaluator = as_role(app, session_factory, "evaluator")
    hidden = evaluator.get("/api/studies/arms/reports/evaluation?breakdown=arm").get_json()
    assert cell(hidden, BY_ARM, "total", "comparison:count") == SUPPRESSED
    assert cell(hidden, BY_ARM, "total", "integrated:count") == SUPPRESSED  # secondary
    assert cell(hidden, PAIRED_BY_ARM, "total", "comparison:count") == SUPPRESSED
    published = researcher.get(
        "/api/studies/arms/reports/evaluation?breakdown=arm&publication=1").get_json()
    assert cell(published, BY_ARM, "total", "comparison:count") == SUPPRESSED

    done = runner.invoke(args=["report", "evaluation", "--study", "arms", "--breakdown", "arm"])
    assert done.exit_code == 0, done.stderr
    assert '"breakdown": "arm"' in done.stdout


def test_arm_is_offered_only_to_a_study_with_arms(app, session_factory, clock, runner):
    load_arms(session_factory, clock, slug="plain", arms={None: 3})
    researcher = as_role(app, session_factory, "researcher")
    page = researcher.get("/reports/plain/evaluation").get_data(as_text=True)
    assert '<option value="site"' in page and '<option value="arm"' not in page
    assert researcher.get("/api/studies/plain/reports/evaluation?breakdown=arm"
                          ).status_code == 400
    done = runner.invoke(args=["report", "evaluation", "--study", "plain", "--breakdown", "arm"])
    assert done.exit_code == 1
    assert done.stderr.strip() == "Error: Study 'plain' has no arms to break down by."


# Notes: what a reader of the study's reports should know (the demo's assumptions) ----------

NOTES = ("notes: |-\n  Comparison group size ASSUMED: 330 in each arm.\n"
         "  Shares: integrated arm only.\n")


def test_notes_round_trip_and_show_on_the_study_and_report_pages(
        app, cli, tmp_path, session_factory):
    applied = apply(cli, tmp_path, STUDY.replace("measures:\n", NOTES + "measures:\n"))
    shown = cli("study", "show", "arms-pilot").stdout
    assert NOTES in shown
    assert apply(cli, tmp_path, shown).stdout.splitlines()[1:] == ["- no changes"]
    assert applied.returncode == 0
    changed = apply(cli, tmp_path, shown.replace("330 in each", "300 in each"))
    assert "notes: changed" in changed.stdout

    client = researcher_client(app, session_factory)
    study_page = client.get("/staff/studies/arms-pilot").get_data(as_text=True)
    assert "Comparison group size ASSUMED: 300 in each arm." in study_page
    report = client.get("/api/studies/arms-pilot/reports/paired").get_json()
    assert report["study_notes"].splitlines() == [
        "Comparison group size ASSUMED: 300 in each arm.", "Shares: integrated arm only."]
    page = client.get("/reports/arms-pilot/paired").get_data(as_text=True)
    assert "The study's notes" in page and "Shares: integrated arm only." in page

    # The form keeps them; cleared there, they are removed.
    html = client.get("/staff/studies/arms-pilot/edit").get_data(as_text=True)
    assert "Shares: integrated arm only.</textarea>" in html
    saved = client.post("/staff/studies/arms-pilot/edit", data=form(
        csrf_token(html), study={**WEB_STUDY, "notes": ""}, measures=WEB_MEASURES,
        waves=WEB_WAVES), content_type="multipart/form-data", follow_redirects=True)
    assert "notes: removed" in saved.get_data(as_text=True)
    with session_factory() as s:
        assert s.scalar(select(Study.notes)) is None


def test_notes_that_are_not_text_or_too_long_are_refused_in_one_line(
        cli, tmp_path, session_factory):
    for bad in ("notes: [a, b]\n", "notes: " + "x" * 4001 + "\n"):
        done = apply(cli, tmp_path, STUDY.replace("measures:\n", bad + "measures:\n"),
                     check=False)
        assert done.returncode == 1
        assert "notes: must be text of at most 4000 characters" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Study)) == 0
