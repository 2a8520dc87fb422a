"""Bad settings stop every entry point with one line; erasure leaves nothing in the outbox.

Real `surveys` (and gunicorn) processes, as an operator starts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from surveys.db import make_engine
from surveys.models import Study
from tests.helpers import participants_csv, person

BIN = Path(sys.executable).parent
SURVEYS = str(BIN / "surveys")
OWN_VARS = ("SURVEYS_INSTANCE_DIR", "SURVEYS_INSTANCE_PATH", "SURVEYS_SMTP_HOST",
            "SURVEYS_DATABASE_URL", "SURVEYS_SECRET_KEY")

BAD_SETTINGS = [
    # (variable, value, what the one line must say)
    ("SURVEYS_DATABASE_URL", "not-a-url", "SURVEYS_DATABASE_URL is not a database URL"),
    ("SURVEYS_DATABASE_URL", "oracle+nodriver://u@h/db", "unknown database driver"),
    ("SURVEYS_DATABASE_URL", "mysql://u:p@127.0.0.1/db", "driver that is not installed"),
    ("SURVEYS_DATABASE_URL", "postgresql://u:secret-pw@127.0.0.1:1/db",
     "Cannot use the database in SURVEYS_DATABASE_URL"),
    ("SURVEYS_DATABASE_URL", "sqlite:////no/such/folder/x.sqlite3",
     "Cannot use the database in SURVEYS_DATABASE_URL"),
    ("SURVEYS_DISPATCH_INTERVAL", "abc", "SURVEYS_DISPATCH_INTERVAL must be a whole number"),
    ("SURVEYS_DISPATCH_INTERVAL", "-5", "SURVEYS_DISPATCH_INTERVAL must be a whole number"),
    ("SURVEYS_DISPATCH_INTERVAL", "0", "SURVEYS_DISPATCH_INTERVAL must be a whole number"),
    ("SURVEYS_SMTP_PORT", "smtp", "SURVEYS_SMTP_PORT must be a port number from 1 to 65535"),
    ("SURVEYS_SMTP_PORT", "70000", "SURVEYS_SMTP_PORT must be a port number from 1 to 65535"),
    ("SURVEYS_CONTACT_CLEANUP_MINUTES", "-1", "SURVEYS_CONTACT_CLEANUP_MINUTES must be"),
    ("SURVEYS_PROXY_HOPS", "two", "SURVEYS_PROXY_HOPS must be a whole number"),
    ("SURVEYS_BASE_URL", "surveys.example.org", "SURVEYS_BASE_URL must be an http://"),
    ("SURVEYS_MAIL_FROM", "nobody", "SURVEYS_MAIL_FROM must be one email address"),
]


@pytest.fixture
def env(database_url, tmp_path) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in OWN_VARS}
    return {**base, "SURVEYS_DATABASE_URL": database_url,
            "SURVEYS_SECRET_KEY": "settings-test-" + "s" * 40,
            "SURVEYS_INSTANCE_DIR": str(tmp_path / "instance"),
            "SURVEYS_BASE_URL": "http://surveys.test"}


def run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("name", "value", "says"), BAD_SETTINGS,
                         ids=[f"{n}={v}" for n, v, _ in BAD_SETTINGS])
def test_a_bad_setting_is_one_line_naming_the_variable(env, tmp_path, name, value, says):
    done = run([SURVEYS, "links", "--wave", "wave1"], {**env, name: value}, tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and says in lines[0]
    assert "secret-pw" not in done.stderr  # a password in the URL is never echoed
    assert done.stdout == ""


@pytest.mark.parametrize(("command", "name", "value"), [
    (["db", "upgrade"], "SURVEYS_DATABASE_URL", "not-a-url"),
    (["run", "--port", "1"], "SURVEYS_DATABASE_URL", "not-a-url"),
    (["run", "--port", "1"], "SURVEYS_DISPATCH_INTERVAL", "abc"),
    (["scheduler"], "SURVEYS_DISPATCH_INTERVAL", "abc"),
    (["dispatch"], "SURVEYS_SMTP_PORT", "-25"),
    (["--help"], "SURVEYS_DATABASE_URL", "not-a-url"),
    ([], "SURVEYS_DISPATCH_INTERVAL", "1.5"),
], ids=lambda c: " ".join(c) if isinstance(c, list) else str(c))
def test_every_command_stops_on_a_bad_setting_without_a_traceback(
    env, tmp_path, command, name, value
):
    done = run([SURVEYS, *command], {**env, name: value}, tmp_path)
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert name in done.stderr and "Traceback" not in done.stderr


def test_gunicorn_refuses_to_start_on_a_bad_setting(env, tmp_path):
    done = run([str(BIN / "gunicorn"), "-w", "1", "-b", "127.0.0.1:0", "surveys.wsgi:app"],
               {**env, "SURVEYS_DATABASE_URL": "not-a-url"}, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert any(line.startswith("Error: SURVEYS_DATABASE_URL is not a database URL")
               for line in done.stderr.splitlines())


def test_erasure_removes_the_clients_emails_from_the_outbox(env, database_url, tmp_path):
    outbox = tmp_path / "instance" / "outbox"
    done_on = date.today() - timedelta(days=3)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(participants_csv(
        person("OUT-1", done_on, email="erase.me@example.org"),
        person("OUT-2", done_on, email="Spent.Contact@example.org"),
        person("OUT-3", done_on, email="stays@example.org"),
    ))
    done = run([SURVEYS, "import-cohort", "--participants", str(cohort)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    # The dispatcher runs on the real clock: open the study's sending window all week, all
    # day, so the emails go whenever the test runs (windows have their own frozen-clock tests).
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(update(Study).values(send_window={
            "from": "00:00", "to": "24:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat",
                                                     "sun"]}))
    engine.dispose()
    done = run([SURVEYS, "dispatch"], env, tmp_path)
    assert done.returncode == 0, done.stderr

    def outbox_text() -> str:
        return "".join(p.read_text(errors="replace") for p in outbox.glob("*.eml"))

    assert "erase.me@example.org" in outbox_text() and "stays@example.org" in outbox_text()
    erased = run([SURVEYS, "erase-participant", "--ref", "OUT-1"], env, tmp_path)
    assert erased.returncode == 0, erased.stderr
    assert "emails removed from the outbox folder: 1" in erased.stdout
    assert "erase.me@example.org" not in outbox_text()
    assert "stays@example.org" in outbox_text()

    # Contact details already erased as spent: the emails are still found, by Message-ID.
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE participants SET email = NULL WHERE ref = 'OUT-2'"))
    engine.dispose()
    erased = run([SURVEYS, "erase-participant", "--ref", "OUT-2"], env, tmp_path)
    assert erased.returncode == 0, erased.stderr
    assert "emails removed from the outbox folder: 1" in erased.stdout
    assert "spent.contact@example.org" not in outbox_text().lower()
    assert len(list(outbox.glob("*.eml"))) == 1
