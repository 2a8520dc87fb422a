"""Personal links survive the working directory, and a wrong secret key is refused, not replaced.

Real `surveys` processes against one database, run from different folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from surveys import tokens
from surveys.db import CHECKOUT, instance_dir, make_engine, make_session_factory
from surveys.models import Invitation
from tests.helpers import participants_csv, person

SURVEYS = str(Path(sys.executable).with_name("surveys"))
MISMATCH = ("Error: The secret key does not match this database's issued links; set "
            "SURVEYS_SECRET_KEY or SURVEYS_INSTANCE_DIR to the instance that issued them.")
INSTANCE_VARS = ("SURVEYS_INSTANCE_DIR", "SURVEYS_INSTANCE_PATH", "SURVEYS_SECRET_KEY",
                 "SURVEYS_SMTP_HOST", "SURVEYS_DATABASE_URL", "XDG_DATA_HOME")


@pytest.fixture
def surveys(database_url, tmp_path):
    """Run the console script from a folder of the test's choosing, with extra variables."""
    base = {k: v for k, v in os.environ.items() if k not in INSTANCE_VARS}
    base.update(SURVEYS_DATABASE_URL=database_url, SURVEYS_BASE_URL="http://surveys.test")

    def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
        cwd.mkdir(parents=True, exist_ok=True)
        return subprocess.run([SURVEYS, *args], env={**base, **env}, cwd=cwd,
                              capture_output=True, text=True, timeout=120)

    return run


def issue_links(surveys, tmp_path: Path, cwd: Path, **env: str) -> None:
    """Two clients without email (no mail is written anywhere), their wave1 links issued."""
    done_on = date.today() - timedelta(days=3)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(participants_csv(person("KEY-1", done_on), person("KEY-2", done_on)))
    for args in (("import-cohort", "--participants", str(cohort)), ("dispatch",)):
        done = surveys(*args, cwd=cwd, **env)
        assert done.returncode == 0, done.stderr


def assert_links_open(database_url: str, csv_text: str) -> None:
    """Every printed link's token is the one the database expects for an invitation."""
    rows = csv_text.strip().splitlines()
    assert rows[0] == "participant_ref,url" and len(rows) == 3, csv_text
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            for row in rows[1:]:
                token = row.split(",")[1].rsplit("/r/", 1)[1]
                inv = session.scalar(select(Invitation)
                                     .where(Invitation.token_hash == tokens.hash_token(token)))
                assert inv is not None, f"the link {row} opens nothing"
    finally:
        engine.dispose()


def test_the_default_instance_is_the_checkouts_whatever_the_working_directory(
    monkeypatch, tmp_path
):
    for name in INSTANCE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert instance_dir() == CHECKOUT / "instance"
    monkeypatch.setenv("SURVEYS_INSTANCE_DIR", "relative/inst")
    assert instance_dir() == tmp_path / "relative" / "inst"  # made absolute once, at start


def test_links_printed_from_another_folder_still_open(surveys, database_url, tmp_path):
    """No SURVEYS_SECRET_KEY, no instance variable: the key kept in the checkout's instance."""
    issue_links(surveys, tmp_path, cwd=tmp_path / "here")
    listed = surveys("links", "--wave", "wave1", cwd=tmp_path / "somewhere" / "else")
    assert listed.returncode == 0, listed.stderr
    assert_links_open(database_url, listed.stdout)
    assert not (tmp_path / "somewhere" / "else" / "instance").exists()


def test_another_instance_folder_is_refused_and_gets_no_new_key(surveys, tmp_path):
    issue_links(surveys, tmp_path, cwd=tmp_path / "a",
                SURVEYS_INSTANCE_DIR=str(tmp_path / "first"))
    other = tmp_path / "second"
    for args in (("links", "--wave", "wave1"), ("dispatch",), ("run", "--port", "1")):
        done = surveys(*args, cwd=tmp_path / "b", SURVEYS_INSTANCE_DIR=str(other))
        assert done.returncode != 0
        assert done.stdout == ""
        assert done.stderr.strip().splitlines() == [
            f"Error: There is no secret key in {other} but this database has issued links; "
            "set SURVEYS_SECRET_KEY or SURVEYS_INSTANCE_DIR to the instance that issued them."
        ]
    assert not (other / "secret_key").exists()


def test_a_secret_key_that_did_not_issue_the_links_is_refused(surveys, database_url, tmp_path):
    issue_links(surveys, tmp_path, cwd=tmp_path, SURVEYS_SECRET_KEY="the-key-that-issued-" * 3)
    for args in (("links", "--wave", "wave1"), ("scheduler",), ("db", "upgrade")):
        done = surveys(*args, cwd=tmp_path / "elsewhere", SURVEYS_SECRET_KEY="another-key-" * 5,
                       SURVEYS_INSTANCE_DIR=str(tmp_path / "inst"))
        assert done.returncode != 0 and done.stdout == ""
        assert done.stderr.strip().splitlines() == [MISMATCH]
    # The right key, from anywhere, lists working links.
    right = surveys("links", "--wave", "wave1", cwd=tmp_path / "elsewhere",
                    SURVEYS_SECRET_KEY="the-key-that-issued-" * 3)
    assert right.returncode == 0, right.stderr
    assert_links_open(database_url, right.stdout)


def test_the_web_app_refuses_to_start_with_a_wrong_key(surveys, database_url, tmp_path):
    issue_links(surveys, tmp_path, cwd=tmp_path, SURVEYS_SECRET_KEY="the-key-that-issued-" * 3)
    env = {k: v for k, v in os.environ.items() if k not in INSTANCE_VARS}
    env.update(SURVEYS_DATABASE_URL=database_url, SURVEYS_SECRET_KEY="another-key-" * 5,
               SURVEYS_INSTANCE_DIR=str(tmp_path / "inst"))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    done = subprocess.run([gunicorn, "-w", "1", "-b", "127.0.0.1:0", "surveys.wsgi:app"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert MISMATCH in done.stderr.splitlines()
