"""The command line starts fast: `--help` and small commands load only what they need.

Statements about imports (which modules a real process has loaded), not timings: the
times are in benchmarks/bench_startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
# Loaded afterwards, by a process that ran the command through the console script's entry.
PROBE = """\
import json, sys
from surveys.cli import main
try:
    main(sys.argv[1:], prog_name="surveys")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
HEAVY = ("flask", "flask_sqlalchemy", "sqlalchemy", "sqlalchemy.orm", "scipy", "numpy",
         "pandas", "pyreadstat", "openpyxl", "babel", "jinja2", "surveys.models",
         "instruments", "jsonschema")
# What a small command (one that reads a little and prints it) must not load: the web app,
# the statistics, the instruments (they bring the JSON Schema validator), the scheduler.
WEB_AND_ANALYSIS = ("flask", "flask_sqlalchemy", "scipy", "numpy", "pandas", "pyreadstat",
                    "openpyxl", "babel", "jinja2", "surveys.web", "analysis", "instruments",
                    "jsonschema", "scheduler")


@pytest.fixture
def env(database_url, tmp_path) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYS_")}
    return {**base, "SURVEYS_DATABASE_URL": database_url,
            "SURVEYS_SECRET_KEY": "startup-test-" + "s" * 40,
            "SURVEYS_INSTANCE_DIR": str(tmp_path / "instance")}


def probe(args: list[str], env: dict, cwd: Path) -> tuple[int, set[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["modules"]), done.stdout


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


def test_help_imports_neither_the_database_layer_nor_the_web_app_nor_scipy(env, tmp_path):
    code, modules, out = probe(["--help"], env, tmp_path)
    assert code == 0
    assert loaded(modules, HEAVY) == []
    # Every command is still listed with its one-line help.
    for command in ("codebook", "create-user", "db", "demo", "dispatch", "erase-participant",
                    "export-pairs", "export-responses", "import-cohort", "import-referrals",
                    "import-responses", "links", "report", "run", "scheduler", "study"):
        assert f"\n  {command} " in out
    assert "Load clients who completed the intervention" in out


def test_a_group_help_is_as_light(env, tmp_path):
    code, modules, out = probe(["report", "--help"], env, tmp_path)
    assert code == 0 and loaded(modules, HEAVY) == []
    assert "paired" in out and "evaluation" in out and "comparison" in out


def test_a_small_command_loads_neither_the_web_app_nor_scipy(env, tmp_path):
    code, modules, _ = probe(["study", "show", "no-such-study"], env, tmp_path)
    assert code == 1  # "No study called ...": the database was read
    assert "sqlalchemy.orm" in modules
    assert loaded(modules, WEB_AND_ANALYSIS) == []


@pytest.mark.parametrize("args", [
    ["study", "show", "light"],
    ["links", "--study", "light", "--wave", "wave1"],
    ["links", "--wave", "wave1"],
], ids=" ".join)
def test_small_commands_that_succeed_load_only_the_database_layer(env, tmp_path,
                                                                  session_factory, args):
    from surveys.studies import create_study

    with session_factory() as session:
        create_study(session, "light", "Light")
        session.commit()
    code, modules, out = probe(args, env, tmp_path)
    assert code == 0, out
    assert "sqlalchemy.orm" in modules
    assert loaded(modules, WEB_AND_ANALYSIS) == []
    assert ("slug: light" in out) if args[0] == "study" else out.startswith("participant_ref,url")


@pytest.mark.parametrize("args", [
    ["report", "evaluation", "--study", "light", "--format", "json"],
    ["report", "evaluation", "--study", "light", "--format", "csv"],
    ["report", "paired", "--study", "light", "--format", "csv"],
], ids=" ".join)
def test_a_report_kept_in_the_cache_is_printed_without_the_statistics(env, tmp_path,
                                                                      session_factory, args):
    from surveys.reports.cache import bump
    from surveys.studies import create_study

    with session_factory() as session:
        create_study(session, "light", "Light")
        bump(session)  # the data's version, which the cache keys reports by
        session.commit()
    code, built, first = probe(args, env, tmp_path)  # computed, and kept
    assert code == 0, first
    assert "scipy" in built
    code, modules, again = probe(args, env, tmp_path)
    assert code == 0, again
    assert again.splitlines()[:-1] == first.splitlines()[:-1]  # the same report
    # Rendering a CSV needs the translations and the rounding rules, not the statistics.
    assert loaded(modules, ("flask", "jinja2", "surveys.web", "scipy", "numpy", "pandas",
                            "instruments", "jsonschema", "surveys.reports.evaluation")) == []


def test_a_bad_setting_still_stops_help_before_anything_loads(env, tmp_path):
    done = subprocess.run([str(BIN / "surveys"), "--help"],
                          env={**env, "SURVEYS_SMTP_PORT": "smtp"}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "Error: SURVEYS_SMTP_PORT must be a port number from 1 to 65535, not 'smtp'."]


def test_flask_app_commands_still_work(env, tmp_path):
    """`flask --app surveys ...` reaches the same commands through the web app."""
    empty = {**env, "SURVEYS_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    done = subprocess.run([str(BIN / "flask"), "--app", "surveys", "study", "show", "x"],
                          env=empty, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: The database has no schema yet: run `surveys db upgrade` first."]
