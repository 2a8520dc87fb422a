"""Wave names (issue 16): a wave's optional `label` in a study definition (file, show, apply
with audit, the study form, migration 0011), and reports that say the wave's name, not its
code; the paired report page's wave selector."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select, text

from surveys.migrate import alembic_config
from surveys.models import AuditEvent, Study, Wave
from surveys.studies.waves import name_from_code
from tests.helpers import csrf_token
from tests.test_study_arms import researcher_client
from tests.test_study_pages import form

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
STUDY = """\
slug: named-waves
name: Named waves pilot
programme: {en: Named waves, cy: Tonnau enwog}
languages: [en, cy]
measures:
  - id: workability
    kind: scale
    label: {en: Work ability, cy: Gallu i weithio}
waves:
  - code: start
    instrument: wave1
    offset_days: 0
  - code: follow
    label: {en: Six weeks on, cy: Chwe wythnos yn ddiweddarach}
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


def test_a_wave_label_round_trips_through_show_and_apply_and_a_change_is_audited(
        cli, tmp_path, session_factory):
    apply(cli, tmp_path, STUDY)
    shown = cli("study", "show", "named-waves").stdout
    assert ("- code: follow\n  label:\n    en: Six weeks on\n"
            "    cy: Chwe wythnos yn ddiweddarach\n  instrument: wave2\n") in shown
    # No label: none shown, so a study without labels shows exactly as before.
    assert "- code: start\n  instrument: wave1\n" in shown
    assert apply(cli, tmp_path, shown).stdout.splitlines()[1:] == ["- no changes"]
    assert cli("study", "show", "named-waves").stdout == shown

    changed = apply(cli, tmp_path, shown.replace("en: Six weeks on", "en: Six weeks later"))
    assert ("- wave follow: label en: Six weeks on, cy: Chwe wythnos yn ddiweddarach -> "
            "en: Six weeks later, cy: Chwe wythnos yn ddiweddarach") in changed.stdout
    with session_factory() as s:
        assert s.scalar(select(Wave.label).where(Wave.code == "follow"))["en"] == \
            "Six weeks later"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "study_apply")
                          .order_by(AuditEvent.id.desc())).first()
        assert event.detail["changes"][0].startswith("wave follow: label ")


def test_a_wave_label_without_a_study_language_is_refused_and_changes_nothing(
        cli, tmp_path, session_factory):
    done = apply(cli, tmp_path, STUDY.replace(", cy: Chwe wythnos yn ddiweddarach", ""),
                 check=False)
    assert done.returncode == 1
    assert "wave follow.label: has no Welsh (cy) text" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Study)) == 0


@pytest.mark.parametrize(("code", "name"), [
    ("wave2", "Wave 2"), ("w1", "Wave 1"), ("follow_up", "Follow up"), ("survey", "Survey"),
])
def test_a_wave_without_a_label_is_named_from_its_code(code, name):
    assert name_from_code(code) == name


# The study form --------------------------------------------------------------------------

WEB_STUDY = {"name": "Named waves pilot", "programme_en": "Named waves",
             "programme_cy": "Tonnau enwog", "languages": ["en", "cy"],
             "disclosure_threshold": "7", "arms": ""}
WEB_MEASURES = [{"id": "workability", "kind": "scale", "min": "0", "max": "10",
                 "label_en": "Work ability", "label_cy": "Gallu i weithio"}]


def _web_waves(follow_en: str, follow_cy: str) -> list[dict]:
    return [{"code": "start", "instrument": "wave1", "offset_days": "0", "reminder_days": "7",
             "close_days": "28"},
            {"code": "follow", "instrument": "wave2", "offset_days": "42",
             "reminder_days": "7", "close_days": "28", "label_en": follow_en,
             "label_cy": follow_cy}]


def test_the_study_form_edits_each_waves_name(app, cli, tmp_path, session_factory):
    apply(cli, tmp_path, STUDY)
    client = researcher_client(app, session_factory)
    html = client.get("/staff/studies/named-waves/edit").get_data(as_text=True)
    assert 'value="Six weeks on"' in html and 'name="waves-1-label_cy"' in html

    saved = client.post("/staff/studies/named-waves/edit", data=form(
        csrf_token(html), study=WEB_STUDY, measures=WEB_MEASURES,
        waves=_web_waves("Follow-up survey", "Arolwg dilynol")),
        content_type="multipart/form-data", follow_redirects=True)
    assert saved.status_code == 200
    with session_factory() as s:
        assert s.scalar(select(Wave.label).where(Wave.code == "follow")) == {
            "en": "Follow-up survey", "cy": "Arolwg dilynol"}

    # An English name without the Welsh one: the file's message, nothing changed.
    refused = client.post("/staff/studies/named-waves/edit", data=form(
        csrf_token(html), study=WEB_STUDY, measures=WEB_MEASURES,
        waves=_web_waves("Later", "")), content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "wave follow.label: has no Welsh (cy) text" in refused.get_data(as_text=True)
    with session_factory() as s:
        assert s.scalar(select(Wave.label).where(Wave.code == "follow"))["en"] == \
            "Follow-up survey"


# Migration 0011 --------------------------------------------------------------------------


def _migrated(url: str) -> tuple:
    """A wave stored at 0010, then the upgrade: (its label, a labelled wave's read back)."""
    command.upgrade(alembic_config(url), "0010")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO studies (slug, name, programme, languages, arms, "
                              "disclosure_threshold) VALUES ('old', 'S', '{}', '[\"en\"]', "
                              "'[]', 7)"))
            conn.execute(text("INSERT INTO waves (study_id, code, instrument, offset_days, "
                              "reminder_days, close_days) VALUES (1, 'wave2', 'wave2', 42, "
                              "'[7]', 28)"))
        command.upgrade(alembic_config(url), "head")
        with engine.begin() as conn:
            old = conn.execute(text("SELECT label FROM waves")).scalar()
            conn.execute(text("UPDATE waves SET label = :label"),
                         {"label": '{"en": "Six weeks on"}'})
            new = conn.execute(text("SELECT label FROM waves")).scalar()
        return old, new
    finally:
        engine.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite upgrade runs in the SQLite pass")
def test_migration_0011_leaves_existing_waves_without_a_label_on_sqlite(tmp_path):
    old, new = _migrated(f"sqlite:///{tmp_path / 'up.sqlite3'}")
    assert old is None and "Six weeks on" in str(new)


@pytest.mark.skipif(not PG_URL, reason="needs SURVEYS_TEST_DATABASE_URL (PostgreSQL)")
def test_migration_0011_leaves_existing_waves_without_a_label_on_postgresql():
    name = f"waves_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        base, _, _ = PG_URL.rpartition("/")
        old, new = _migrated(f"{base}/{name}")
        assert old is None and "Six weeks on" in str(new)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# Reports ---------------------------------------------------------------------------------


@pytest.fixture
def named(app, cli, tmp_path, session_factory):
    apply(cli, tmp_path, STUDY)
    return researcher_client(app, session_factory)


def test_reports_say_the_waves_name_and_json_keeps_its_code(named):
    page = named.get("/reports/named-waves/paired?follow_up=follow").get_data(as_text=True)
    assert "Follow-up wave: Six weeks on." in page
    data = named.get("/api/studies/named-waves/reports/paired?follow_up=follow").get_json()
    assert (data["follow_up"], data["follow_up_label"]) == ("follow", "Six weeks on")
    # A wave without a label is named from its code.
    data = named.get("/api/studies/named-waves/reports/paired?follow_up=start").get_json()
    assert (data["follow_up"], data["follow_up_label"]) == ("start", "Start")

    welsh = named.get("/reports/named-waves/paired?follow_up=follow&lang=cy")
    assert "Chwe wythnos yn ddiweddarach" in welsh.get_data(as_text=True)

    book = load_workbook(io.BytesIO(named.get(
        "/reports/named-waves/evaluation.xlsx?follow_up=follow&lang=en").data), read_only=True)
    texts = [v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for v in row if isinstance(v, str)]
    assert any("Six weeks on" in v for v in texts)
    assert not [v for v in texts if v.endswith(" to follow") or "(follow)" in v]
    evaluation = named.get("/reports/named-waves/evaluation?follow_up=follow").get_data(
        as_text=True)
    assert ">Six weeks on</option>" in evaluation


def test_the_paired_page_selects_a_wave_and_keeps_its_options(named):
    page = named.get("/reports/named-waves/paired?follow_up=follow&publication=1")
    html = page.get_data(as_text=True)
    assert 'id="follow-up-selector"' in html
    assert '<option value="start">Start</option>' in html
    assert '<option value="follow" selected>Six weeks on</option>' in html
    assert '<input type="hidden" name="publication" value="1">' in html
    # The form's request: the other wave, still for publication.
    chosen = named.get("/reports/named-waves/paired?publication=1&follow_up=start")
    assert chosen.status_code == 200
    assert "Follow-up wave: Start." in chosen.get_data(as_text=True)
    assert named.get("/reports/named-waves/paired?follow_up=nope").status_code == 404
