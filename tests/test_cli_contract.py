"""The command line as researchers script it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import participants_csv, person

SURVEYS = str(Path(sys.executable).with_name("surveys"))


@pytest.fixture
def cli(database_url, tmp_path):
    env = {
        **os.environ,
        "SURVEYS_DATABASE_URL": database_url,
        "SURVEYS_SECRET_KEY": "contract-test-secret",
        "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYS_BASE_URL": "http://surveys.test",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([SURVEYS, *args], env=env, capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


def test_db_upgrade_is_safe_to_run_twice(cli):
    assert "up to date" in cli("db", "upgrade").stdout
    assert "up to date" in cli("db", "upgrade").stdout


def test_bad_rows_are_all_named_and_nothing_is_imported(cli, tmp_path):
    from datetime import date

    bad = tmp_path / "participants.csv"
    bad.write_text(participants_csv(
        person("OK-1", date(2026, 1, 5)),
        ("BAD REF", "Hull", "2026-01-05", "en", "", "", 5, 5, 5),
        ("OK-2", "", "05/01/2026", "fr", "not-an-email", "", 11, "x", ""),
    ))
    done = cli("import-cohort", "--participants", str(bad), check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    for expected in ("line 3, column 'participant_ref'", "line 4, column 'site'",
                     "line 4, column 'completed_on'", "line 4, column 'language'",
                     "line 4, column 'email'", "line 4, column 'workability_end'",
                     "line 4, column 'confidence_end'"):
        assert expected in done.stderr
    # Nothing was imported: no study has any participant.
    good = tmp_path / "good.csv"
    good.write_text(participants_csv(person("OK-1", date(2026, 1, 5))))
    assert "1 new and 0 updated" in cli("import-cohort", "--participants", str(good)).stdout
    # Re-importing updates, never duplicates.
    assert "0 new and 1 updated" in cli("import-cohort", "--participants", str(good)).stdout


def test_missing_file_and_missing_columns_give_one_clear_line(cli, tmp_path):
    done = cli("import-cohort", "--participants", str(tmp_path / "nope.csv"), check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "nope.csv" in done.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("ref,site\nA,B\n")
    done = cli("import-cohort", "--participants", str(wrong), check=False)
    assert done.returncode != 0
    assert "lacks the required column(s) participant_ref, completed_on" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_demo_then_report_gives_the_published_paired_figures(cli):
    cli("demo")
    report = json.loads(cli("report", "paired", "--follow-up", "wave2", "--format", "json").stdout)
    assert report["follow_up"] == "wave2"
    assert (report["responses"], report["linked"]) == (34, 28)
    higher = {m: report["measures"][m]["improved"] for m in report["measures"]}
    assert higher == {"workability": 5, "confidence": 3, "importance": 3}
    assert all(report["measures"][m]["n"] == 28 for m in report["measures"])
    wilcoxon = report["measures"]["workability"]["wilcoxon"]
    assert {"p", "zero_method", "method"} <= set(wilcoxon)
    csv_out = cli("report", "paired", "--follow-up", "wave2", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("follow_up,responses,linked,measure")
    html = cli("report", "paired", "--follow-up", "wave2", "--format", "html").stdout
    assert "<table" in html and "Wilcoxon" in html
    # Loading the demo twice is refused with a reason, and --if-empty skips quietly.
    again = cli("demo", check=False)
    assert again.returncode != 0 and "already has studies" in again.stderr
    assert cli("demo", "--if-empty").returncode == 0


def test_links_lists_open_invitations_of_the_live_demo(cli):
    cli("demo")
    out = cli("links", "--wave", "wave1").stdout.splitlines()
    assert out[0] == "participant_ref,url"
    refs = [line.split(",")[0] for line in out[1:]]
    assert refs == ["LIVE-001", "LIVE-002", "LIVE-003"]
    assert all(line.split(",")[1].startswith("http://surveys.test/r/") for line in out[1:])
    unknown = cli("links", "--wave", "wave9", check=False)
    assert unknown.returncode != 0 and "no wave 'wave9'" in unknown.stderr


def test_commands_before_the_schema_exists_say_what_to_do(cli, tmp_path):
    env_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    done = subprocess.run([SURVEYS, "report", "paired", "--follow-up", "wave2"],
                          env={**os.environ, "SURVEYS_DATABASE_URL": env_url,
                               "SURVEYS_SECRET_KEY": "x"},
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode != 0
    assert "surveys db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


def test_answering_a_live_demo_link_changes_the_report(cli, database_url, tmp_path):
    """The README's story: links from `surveys links`, answered in a browser, move the report."""
    from surveys import create_app
    from surveys.invitations.mailer import OutboxMailer
    from surveys.settings import Settings
    from tests.helpers import WAVE2_ANSWERS
    from tests.test_core_loop import answer_everything

    cli("demo")
    before = json.loads(cli("report", "paired", "--study", "ehd-live", "--follow-up", "wave2",
                            "--format", "json").stdout)
    line = cli("links", "--study", "ehd-live", "--wave", "wave2").stdout.splitlines()[1]
    token = line.split(",")[1].rsplit("/", 1)[1]
    app = create_app({"SETTINGS": Settings(database_url=database_url,
                                           secret_key="contract-test-secret",
                                           base_url="http://surveys.test"),
                      "MAILER": OutboxMailer(tmp_path / "outbox")})
    answer_everything(app.test_client(), token, WAVE2_ANSWERS)
    after = json.loads(cli("report", "paired", "--study", "ehd-live", "--follow-up", "wave2",
                           "--format", "json").stdout)
    assert (before["responses"], after["responses"]) == (0, 1)
    assert after["measures"]["workability"]["n"] == 1
    assert len(cli("links", "--study", "ehd-live", "--wave", "wave2").stdout.splitlines()) == 3


def test_an_unexpected_fault_is_one_line_and_the_details_go_to_a_log(
    runner, app, monkeypatch, tmp_path
):
    """A bug of ours (not bad input) still gives one line and exit 1, never a traceback."""
    import scheduler.jobs

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setattr(scheduler.jobs, "dispatch", broken)
    result = runner.invoke(args=["dispatch"])
    assert result.exit_code == 1
    assert "Unexpected error (RuntimeError)" in result.output
    assert "Traceback" not in result.output
    log = (tmp_path / "cli-errors.log").read_text()
    assert "Traceback" in log and "something inside broke" in log


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_scheduler_stops_cleanly_on_ctrl_c_and_on_a_service_managers_signal(
    cli, database_url, tmp_path, sig
):
    cli("db", "upgrade")
    env = {**os.environ, "SURVEYS_DATABASE_URL": database_url,
           "SURVEYS_SECRET_KEY": "contract-test-secret", "SURVEYS_DISPATCH_INTERVAL": "1",
           "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance")}
    process = subprocess.Popen([SURVEYS, "scheduler"], env=env, cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert "Dispatcher running every 1 s" in process.stdout.readline()
        time.sleep(2.5)  # a few passes, so the signal can land while one is submitted
        process.send_signal(sig)
        assert process.wait(timeout=30) == 0, process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
