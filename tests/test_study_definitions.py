"""Studies as configuration (contracts section 5), through the command line as researchers
script it: apply a definition, read it back, load a cohort and answers, read the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from scipy import stats

SURVEYS = str(Path(sys.executable).with_name("surveys"))

INSTRUMENT = """\
name: better_work_followup
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
  - id: scores
    questions:
      - id: workability
        type: scale_0_10
        text:
          en: How many points would you give your work ability now?
        scale_labels:
          low: {en: Completely unable to work}
          high: {en: Work ability at its best}
      - id: worry
        type: scale_0_10
        text:
          en: How much do you worry about your health at work?
"""

STUDY = """\
slug: better-work
name: Better Work Service pilot evaluation
programme: {en: Better Work Service}
languages: [en]
disclosure_threshold: 5
measures:
  - id: in_work
    kind: binary
    better: "yes"
    label: {en: In paid work}
  - id: workability
    kind: scale
    reliable_change: 2
    label: {en: Work ability (0 to 10)}
  - id: worry
    kind: scale
    better: lower
    label: {en: Worry about health at work (0 to 10)}
waves:
  - code: w1
    instrument: followup.yaml
    offset_days: 0
    reminder_days: [7]
    close_days: 28
  - code: w2
    instrument: followup.yaml
    offset_days: 30
    reminder_days: [5, 10]
    close_days: 21
  - code: w3
    instrument: followup.yaml
    offset_days: 90
    reminder_days: []
    close_days: 28
"""


@pytest.fixture
def cli(runner, tmp_path, monkeypatch):
    """The commands in this process (the app fixture's database); one test below runs the
    same scenario as real processes, as researchers script it."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, check: bool = True):
        done = runner.invoke(args=list(args))
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert "Traceback" not in done.stderr
        if check:
            assert done.exit_code == 0, done.stderr
        return SimpleNamespace(returncode=done.exit_code, stdout=done.stdout, stderr=done.stderr)

    return run


@pytest.fixture
def processes(database_url, tmp_path):
    env = {**os.environ, "SURVEYS_DATABASE_URL": database_url,
           "SURVEYS_SECRET_KEY": "study-test-secret",
           "SURVEYS_INSTANCE_DIR": str(tmp_path / "instance"),
           "SURVEYS_BASE_URL": "http://surveys.test"}

    def run(*args: str, check: bool = True):
        done = subprocess.run([SURVEYS, *args], env=env, capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
        assert "Traceback" not in done.stderr
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.fixture
def study_file(tmp_path) -> Path:
    (tmp_path / "followup.yaml").write_text(INSTRUMENT)
    path = tmp_path / "better-work.yaml"
    path.write_text(STUDY)
    return path


# (ref, in_work_end, workability_end, worry_end) and the w3 answers (in_work, workability, worry)
PEOPLE = [
    ("BW-01", "no", 3, 8, "yes", 6, 5), ("BW-02", "no", 4, 7, "yes", 5, 7),
    ("BW-03", "no", 2, 9, "no", 2, 9), ("BW-04", "yes", 6, 4, "yes", 7, 3),
    ("BW-05", "no", 5, 6, "yes", 8, 2), ("BW-06", "yes", 7, 3, "no", 4, 6),
    ("BW-07", "no", 3, 8, "yes", 3, 8), ("BW-08", "no", 1, 10, "yes", 4, 6),
    ("BW-09", "no", 5, 5, "no", 5, 5), ("BW-10", "yes", 8, 2, "yes", 9, 1),
    ("BW-11", "no", 2, 7, "yes", 6, 4), ("BW-12", "no", 4, 6, "no", 3, 7),
]


def _load(cli, tmp_path, study_file):
    cli("db", "upgrade")
    applied = cli("study", "apply", str(study_file)).stdout
    assert "Created study 'better-work'" in applied
    cohort = tmp_path / "participants.csv"
    cohort.write_text(
        "participant_ref,site,completed_on,language,email,phone,in_work_end,workability_end,"
        "worry_end\n" + "".join(
            f"{ref},Leeds,2025-01-10,en,,,{iw},{wa},{wo}\n" for ref, iw, wa, wo, *_ in PEOPLE))
    cli("import-cohort", "--study", "better-work", "--participants", str(cohort))
    answers = tmp_path / "w3.csv"
    answers.write_text("participant_ref,submitted_on,mode,in_work,workability,worry\n" + "".join(
        f"{ref},2025-05-01,telephone,{a},{b},{c}\n" for ref, _, _, _, a, b, c in PEOPLE))
    cli("import-responses", "--study", "better-work", "--wave", "w3", str(answers))


def test_a_new_programme_is_set_up_loaded_and_reported_without_code(processes, tmp_path,
                                                                      study_file):
    cli = processes
    _load(cli, tmp_path, study_file)
    report = json.loads(cli("report", "paired", "--study", "better-work", "--follow-up", "w3",
                            "--format", "json").stdout)
    assert (report["follow_up"], report["responses"], report["linked"]) == ("w3", 12, 12)
    assert list(report["measures"]) == ["in_work", "workability", "worry"]

    in_work = report["measures"]["in_work"]
    pairs = [(b == "yes", a == "yes") for _, b, _, _, a, _, _ in PEOPLE]
    improved = sum(1 for b, a in pairs if a and not b)
    worse = sum(1 for b, a in pairs if b and not a)
    assert in_work["kind"] == "binary"
    assert (in_work["n"], in_work["improved"], in_work["deteriorated"]) == (12, improved, worse)
    assert in_work["same"] == 12 - improved - worse
    assert in_work["before_better"] == sum(b for b, _ in pairs)
    assert in_work["after_better"] == sum(a for _, a in pairs)
    assert in_work["mcnemar"]["method"] == "exact"
    assert in_work["mcnemar"]["p"] == pytest.approx(
        stats.binomtest(improved, improved + worse, 0.5).pvalue, abs=1e-12)

    for key, column, higher in (("workability", 2, True), ("worry", 3, False)):
        m = report["measures"][key]
        changes = [p[column + 3] - p[column] for p in PEOPLE]
        better = [c if higher else -c for c in changes]
        assert m["kind"] == "scale"
        assert (m["n"], m["improved"], m["deteriorated"]) == (
            12, sum(c > 0 for c in better), sum(c < 0 for c in better))
        assert m["mean_change"] == pytest.approx(sum(changes) / 12)
        nonzero = [c for c in changes if c]
        assert (m["wilcoxon"]["zero_method"], m["wilcoxon"]["method"]) == ("wilcox", "exact")
        # Tied changes: the exact distribution over every sign pattern, as SciPy's
        # permutation method enumerates it (its "exact" assumes untied ranks).
        expected = stats.wilcoxon(nonzero, method=stats.PermutationMethod(
            n_resamples=2 ** len(nonzero))).pvalue
        assert m["wilcoxon"]["p"] == pytest.approx(expected, abs=1e-9)
        positive = sum(c > 0 for c in nonzero)
        assert m["sign_test"]["p"] == pytest.approx(
            stats.binomtest(positive, len(nonzero), 0.5).pvalue, abs=1e-12)

    # The same report as CSV and HTML carries every measure.
    csv_text = cli("report", "paired", "--study", "better-work", "--follow-up", "w3",
                   "--format", "csv").stdout
    assert [line.split(",")[3] for line in csv_text.splitlines()[1:]] == [
        "in_work", "workability", "worry"]
    html = cli("report", "paired", "--study", "better-work", "--follow-up", "w3",
               "--format", "html").stdout
    assert "In paid work" in html and "Worry about health at work" in html


def test_show_prints_what_apply_takes_back_unchanged(cli, tmp_path, study_file):
    cli("db", "upgrade")
    cli("study", "apply", str(study_file))
    shown = cli("study", "show", "better-work").stdout
    assert "instrument: better_work_followup" in shown
    again = tmp_path / "again.yaml"
    again.write_text(shown)
    assert cli("study", "apply", str(again)).stdout.splitlines()[1:] == ["- no changes"]
    assert cli("study", "show", "better-work").stdout == shown
    # The instrument file is kept: the study no longer needs it.
    (tmp_path / "followup.yaml").unlink()
    assert cli("study", "apply", str(again)).returncode == 0


def test_a_change_that_would_orphan_answers_is_refused_and_changes_nothing(
        cli, tmp_path, study_file):
    _load(cli, tmp_path, study_file)
    before = cli("study", "show", "better-work").stdout
    for old, new, reason in (
        ("  - code: w3\n    instrument: followup.yaml\n    offset_days: 90\n"
         "    reminder_days: []\n    close_days: 28\n", "", "wave w3 cannot be removed"),
        ("    kind: binary\n    better: \"yes\"", "    kind: scale",
         "measure in_work cannot change from binary to scale"),
        ("    better: lower\n", "    better: lower\n    max: 5\n",
         "outside the new range 0 to 5"),
    ):
        changed = tmp_path / "changed.yaml"
        changed.write_text(STUDY.replace(old, new))
        done = cli("study", "apply", str(changed), check=False)
        assert done.returncode == 1
        assert reason in done.stderr and "nothing was changed" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert cli("study", "show", "better-work").stdout == before


def test_moving_a_wave_moves_questionnaires_not_yet_issued_and_adding_one_schedules_it(
        cli, tmp_path, study_file):
    cli("db", "upgrade")
    cli("study", "apply", str(study_file))
    cohort = tmp_path / "participants.csv"
    cohort.write_text("participant_ref,site,completed_on,status\n"
                      "A-1,Leeds,2026-02-20,completed\nA-2,Leeds,,dropped_out\n")
    cli("import-cohort", "--study", "better-work", "--participants", str(cohort))
    moved = STUDY.replace("offset_days: 90", "offset_days: 120") + (
        "  - code: w4\n    instrument: better_work_followup\n    offset_days: 365\n")
    changed = tmp_path / "changed.yaml"
    changed.write_text(moved)
    out = cli("study", "apply", str(changed)).stdout
    assert "wave w3: offset_days 90 -> 120" in out
    assert "wave w3: 1 questionnaires not yet issued moved" in out
    assert "wave w4: added" in out
    # Only the completer is surveyed.
    assert "1 questionnaires scheduled for the new waves" in out


@pytest.mark.parametrize("text, message", [
    ("slug: Bad Slug\n", "slug: needs 1-64 characters"),
    ("- just a list\n", "a study file is a set of settings"),
    (STUDY.replace("reminder_days: [7]", "remnder_days: [7]"),
     "unknown setting 'remnder_days' (did you mean 'reminder_days'?)"),
    (STUDY.replace("instrument: followup.yaml\n    offset_days: 0",
                   "instrument: missing.yaml\n    offset_days: 0"),
     "wave w1.instrument: no instrument file at missing.yaml"),
    (STUDY.replace("kind: binary", "kind: ordinal"), "must be scale or binary"),
    (STUDY.replace("languages: [en]", "languages: [en, cy]"), "Welsh"),
])
def test_a_bad_definition_gets_one_line_and_creates_nothing(cli, tmp_path, study_file, text,
                                                            message):
    cli("db", "upgrade")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = cli("study", "apply", str(bad), check=False)
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert cli("study", "show", "better-work", check=False).returncode == 1


def test_wave_channels_are_applied_shown_when_not_email_and_checked(cli, tmp_path, study_file):
    """Issue 15: a wave chooses email, sms or both; `study show` prints it only when it is
    not [email], so other definitions read back as before."""
    cli("db", "upgrade")
    cli("study", "apply", str(study_file))
    assert "channels" not in cli("study", "show", "better-work").stdout
    texted = tmp_path / "texted.yaml"
    texted.write_text(STUDY.replace("offset_days: 30\n", "offset_days: 30\n"
                                    "    channels: [sms, email]\n"))
    assert "wave w2: channels [email] -> [email, sms]" in cli("study", "apply",
                                                              str(texted)).stdout
    shown = cli("study", "show", "better-work").stdout
    assert shown.count("channels: [email, sms]") == 1
    again = tmp_path / "again.yaml"
    again.write_text(shown)
    assert cli("study", "apply", str(again)).stdout.splitlines()[1:] == ["- no changes"]
    for bad in ("[]", "[fax]", "[sms, sms]"):
        wrong = tmp_path / "wrong.yaml"
        wrong.write_text(STUDY.replace("offset_days: 30\n",
                                       f"offset_days: 30\n    channels: {bad}\n"))
        done = cli("study", "apply", str(wrong), check=False)
        assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
        assert "wave w2.channels: must list how the wave reaches clients: email, sms or both" \
            in done.stderr
    assert cli("study", "show", "better-work").stdout == shown
