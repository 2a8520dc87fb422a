"""Response import (contracts section 3) from the command line and the web upload, and the
row-level response export that mirrors it (CSV on stdout, and a researcher-only download)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from instruments import load_instrument
from scheduler.jobs import dispatch
from surveys.csv_safety import safe_cell, write_csv
from surveys.models import AuditEvent, Invitation, Participant, Response
from tests.helpers import csrf_token, participants_csv, person, token_from
from tests.i18n.walk import open_and_start, page_text, send_answers, staff_member, walk

FIXED = ["participant_ref", "submitted_on", "mode"]


def sample_cell(question) -> str:
    """A valid CSV cell for any question, chosen from its type alone."""
    values = question.choice_values()
    if question.type == "scale_0_10":
        return "7"
    if question.type == "multiple_choice":
        return ";".join(values[:2])
    if question.type == "free_text":
        return "Text, with a comma and \"quotes\""
    return values[0]


def expected_value(question, cell: str):
    if question.type == "scale_0_10":
        return int(cell)
    if question.type == "multiple_choice":
        return cell.split(";")
    if question.type == "free_text":
        return cell
    return cell


def responses_csv(questions, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED, *(q.id for q in questions)])
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def cohort(runner, tmp_path, clock):
    path = tmp_path / "participants.csv"
    path.write_text(participants_csv(
        person("R-1", clock().date(), scores=(4, 5, 9)),
        person("R-2", clock().date(), scores=(6, 6, 6)),
        person("R-3", clock().date(), email="r3@example.org"),
    ))
    assert runner.invoke(args=["import-cohort", "--participants", str(path)]).exit_code == 0


@pytest.fixture
def later(clock):
    """The clock a few weeks on: wave two (due 2026-04-13) has been answered by telephone."""
    clock.advance(days=50)


def stored(session_factory) -> list[Response]:
    with session_factory() as s:
        rows = s.scalars(select(Response).order_by(Response.id)).all()
        s.expunge_all()
        return rows


def test_every_question_id_of_the_wave_is_accepted_and_unlinked_rows_are_kept(
    app, runner, cohort, session_factory, settings, mailer, clock, tmp_path
):
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)  # wave two issued to everyone
    clock.advance(days=7)  # the telephone answers below were taken since
    wave2 = load_instrument("wave2")
    questions = wave2.questions()
    assert {"workability", "confidence", "importance"} <= {q.id for q in questions}
    full = ["R-1", "2026-04-14", "telephone", *(sample_cell(q) for q in questions)]
    scores_only = ["R-2", "2026-04-15", "web", *("5" if q.type == "scale_0_10" else ""
                                                 for q in questions)]
    unlinked = ["NOT-IN-COHORT", "2026-04-16", "telephone",
                *("8" if q.type == "scale_0_10" else "" for q in questions)]
    path = tmp_path / "responses.csv"
    path.write_text(responses_csv(questions, [full, scores_only, unlinked]))

    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(path)])
    assert result.exit_code == 0, result.output
    assert "Stored 3 wave2 responses: 2 linked, 1 could not be linked" in result.output

    by_ref = {r.participant_ref: r for r in stored(session_factory)}
    assert set(by_ref) == {"R-1", "R-2", "NOT-IN-COHORT"}
    every = by_ref["R-1"]
    assert every.answers == {q.id: expected_value(q, sample_cell(q)) for q in questions}
    assert isinstance(every.answers["steps_reasons"], list)  # "a;b" -> ["a", "b"]
    assert (every.mode, every.source, every.instrument_version) == (
        "telephone", "import", wave2.version)
    assert by_ref["NOT-IN-COHORT"].participant_id is None
    assert by_ref["NOT-IN-COHORT"].answers == {"workability": 8, "confidence": 8,
                                               "importance": 8}
    with session_factory() as s:
        completed = s.scalars(
            select(Participant.ref).join(Invitation, Invitation.participant_id == Participant.id)
            .where(Invitation.status == "completed")).all()
    assert sorted(completed) == ["R-1", "R-2"]

    report = runner.invoke(args=["report", "paired", "--follow-up", "wave2", "--format", "json"])
    data = json.loads(report.output)
    assert (data["responses"], data["linked"]) == (3, 2)
    assert data["measures"]["workability"]["n"] == 2


def test_multiple_choice_cells_take_semicolons_and_any_case(
    app, runner, cohort, later, session_factory, tmp_path
):
    path = tmp_path / "responses.csv"
    path.write_text("participant_ref,submitted_on,mode,steps_taken,steps_reasons\n"
                    "R-1,2026-04-14,telephone,SOME,Other; HEALTH\n")
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(path)])
    assert result.exit_code == 0, result.output
    [response] = stored(session_factory)
    # Stored in the instrument's order, whatever the order in the cell.
    assert response.answers == {"steps_taken": "some", "steps_reasons": ["health", "other"]}


def test_each_answer_is_checked_against_its_type_and_the_file_is_all_or_nothing(
    app, runner, cohort, later, session_factory, tmp_path
):
    path = tmp_path / "responses.csv"
    path.write_text(
        "participant_ref,submitted_on,mode,workability,confidence,steps_taken,steps_reasons,"
        "seen_work_coach,work_coach_relationship,comments\n"
        "R-1,2026-04-14,telephone,7,6,all,health,yes,improved,fine\n"  # a good row
        f"R-2,14/04/2026,fax,11,7.5,maybe,health;dragons,perhaps,better,{'x' * 1001}\n"
        "R-3,2026-04-14,web,-1,ten,,,,,\n"
    )
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(path)])
    assert result.exit_code == 1
    errors = result.stderr
    assert "Traceback" not in errors
    for expected in (
        "responses.csv line 3, column 'submitted_on': '14/04/2026' is not an ISO date",
        "responses.csv line 3, column 'mode': 'fax' must be 'web' or 'telephone'",
        "responses.csv line 3, column 'workability': '11': Enter a number from 0 to 10",
        "responses.csv line 3, column 'confidence': '7.5': Enter a whole number from 0 to 10",
        "responses.csv line 3, column 'steps_taken': 'maybe': Select one of the answers shown",
        "responses.csv line 3, column 'steps_reasons': 'health;dragons': Select one of the "
        "answers shown",
        "responses.csv line 3, column 'seen_work_coach': 'perhaps': Select one of the answers",
        "responses.csv line 3, column 'work_coach_relationship': 'better': Select one of the",
        "responses.csv line 3, column 'comments': ",
        "characters or fewer",
        "responses.csv line 4, column 'workability': '-1': Enter a number from 0 to 10",
        "responses.csv line 4, column 'confidence': 'ten': Enter a whole number from 0 to 10",
    ):
        assert expected in errors, expected
    assert "line 2" not in errors  # the good row has no problem...
    assert stored(session_factory) == []  # ...but nothing at all was imported


def test_a_column_that_is_not_a_question_of_the_wave_is_refused_with_the_right_ids(
    app, runner, cohort, later, session_factory, tmp_path
):
    path = tmp_path / "responses.csv"
    path.write_text("participant_ref,submitted_on,mode,workability,satisfaction\n"
                    "R-1,2026-04-14,telephone,7,satisfied\n")
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(path)])
    assert result.exit_code == 1
    assert "column(s) satisfaction are not questions of wave2" in result.stderr
    assert "steps_reasons" in result.stderr  # the ids it would take
    assert stored(session_factory) == []


def test_researchers_upload_responses_on_the_web(
    app, client, runner, cohort, later, session_factory, tmp_path
):
    staff_member(client, session_factory, "researcher")
    good = ("participant_ref,submitted_on,mode,workability,confidence,importance,steps_reasons\n"
            "R-1,2026-04-14,telephone,7,6,8,health;other\n"
            "STRANGER-1,2026-04-14,telephone,3,3,3,\n")
    form = client.get("/staff/studies/default/responses").get_data(as_text=True)

    def upload(text: str, name: str = "phone-answers.csv"):
        return client.post("/staff/studies/default/responses", data={
            "csrf_token": csrf_token(form), "wave": "wave2",
            "responses": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")

    bad = upload(good.replace("7,6,8", "7,6,80"), "bad.csv")
    assert bad.status_code == 400
    shown = page_text(bad)
    assert "The file was not imported" in shown
    assert "bad.csv line 2, column 'importance': '80': Enter a number from 0 to 10" in shown
    assert stored(session_factory) == []

    done = upload(good)
    assert done.status_code == 302
    assert ("2 responses stored: 1 linked to a participant, 1 could not be linked."
            in page_text(client.get(done.headers["Location"])))
    assert {r.participant_ref for r in stored(session_factory)} == {"R-1", "STRANGER-1"}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "response_import")) == 1

    evaluator = app.test_client()
    staff_member(evaluator, session_factory, "evaluator")
    assert evaluator.get("/staff/studies/default/responses").status_code == 403


# --- Row-level export -----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+2", "+44 7700 900123", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_a_spreadsheet_would_run_get_a_leading_apostrophe(cell):
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell,shown", [("7", "7"), (7, "7"), ("", ""), (None, ""),
                                        ("a=b", "a=b"), ("Llanelli", "Llanelli")])
def test_other_cells_are_written_as_they_are(cell, shown):
    assert safe_cell(cell) == shown


def test_write_csv_makes_every_cell_safe():
    assert write_csv([["a", "=b"], ["-1", "c,d"]]) == "a,'=b\n'-1,\"c,d\"\n"


def export(runner, *args) -> list[dict]:
    result = runner.invoke(args=["export-responses", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_researchers_export_a_waves_responses_one_row_each(
    app, client, runner, cohort, session_factory, settings, mailer, smtp, clock, tmp_path
):
    # One web response (R-3, by email), two imported, one of them unlinked.
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)
    wave2_mail = [m for m in smtp.to("r3@example.org")][-1]
    _, first = open_and_start(client, token_from(wave2_mail))
    walk(client, first, {"workability": "9", "confidence": "8", "importance": "7",
                         "steps_taken": "none", "steps_reasons": ["no_places", "other"],
                         "steps_reasons_other": "=HYPERLINK(\"http://evil.example\")",
                         "more_steps_planned": "some", "seen_work_coach": "no"})
    assert send_answers(client).headers["Location"].endswith("/q/done")
    clock.advance(days=3)
    path = tmp_path / "responses.csv"
    path.write_text("participant_ref,submitted_on,mode,workability,comments\n"
                    "R-1,2026-04-14,telephone,4,+ felt better\n"
                    "-ODD-REF,2026-04-15,telephone,2,@mention\n")
    assert runner.invoke(args=["import-responses", "--wave", "wave2", str(path)]).exit_code == 0

    rows = export(runner, "--wave", "wave2")
    wave2 = load_instrument("wave2")
    assert list(rows[0]) == ["participant_ref", "submitted_on", "mode", "instrument_version",
                             *(q.id for q in wave2.questions())]
    assert [r["participant_ref"] for r in rows] == ["R-3", "R-1", "'-ODD-REF"]  # by date
    web = rows[0]
    assert (web["submitted_on"], web["mode"], web["instrument_version"]) == (
        "2026-04-13", "web", wave2.version)
    assert (web["workability"], web["steps_taken"], web["steps_reasons"]) == (
        "9", "none", "no_places;other")
    assert web["steps_reasons_other"] == "'=HYPERLINK(\"http://evil.example\")"
    assert web["steps_helped"] == "" and web["discussed_plan"] == ""  # routed past
    assert rows[1]["comments"] == "'+ felt better" and rows[2]["comments"] == "'@mention"
    assert export(runner, "--wave", "wave1") == []  # nobody answered wave one
    assert runner.invoke(args=["export-responses", "--wave", "wave1"]).stdout.startswith(
        "participant_ref,submitted_on,mode,instrument_version,satisfaction,")

    # The same file from the researchers' page, with a byte order mark for spreadsheets.
    staff = app.test_client()
    staff_member(staff, session_factory, "researcher")
    download = staff.get("/staff/studies/default/responses.csv?wave=wave2")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    disposition = download.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="responses-default-wave2.csv"'
    body = download.get_data(as_text=True)
    assert body.startswith("\ufeff")
    assert body[1:] == runner.invoke(args=["export-responses", "--wave", "wave2"]).stdout
    assert staff.get("/staff/studies/default/responses.csv?wave=wave9").status_code == 404
    with session_factory() as s:
        exports = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert {e.detail.get("report") for e in exports} == {"responses"}

    # Row-level data: evaluators (aggregates only) and anonymous visitors cannot have it.
    evaluator = app.test_client()
    staff_member(evaluator, session_factory, "evaluator")
    assert evaluator.get("/staff/studies/default/responses.csv?wave=wave2").status_code == 403
    anonymous = app.test_client().get("/staff/studies/default/responses.csv?wave=wave2")
    assert anonymous.status_code == 302 and "/staff/sign-in" in anonymous.headers["Location"]


def test_export_responses_is_a_command_with_a_one_line_error(database_url, tmp_path):
    surveys = str(Path(sys.executable).with_name("surveys"))
    env = {**os.environ, "SURVEYS_DATABASE_URL": database_url,
           "SURVEYS_SECRET_KEY": "export-test-secret",
           "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance")}
    participants = tmp_path / "p.csv"
    participants.write_text(participants_csv(person("X-1", date(2026, 1, 5))))
    run = [surveys, "import-cohort", "--participants", str(participants)]
    assert subprocess.run(run, env=env, capture_output=True, timeout=300).returncode == 0
    done = subprocess.run([surveys, "export-responses", "--wave", "wave2"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "participant_ref,submitted_on,mode,instrument_version,"
        + ",".join(q.id for q in load_instrument("wave2").questions())]
    bad = subprocess.run([surveys, "export-responses", "--wave", "wave7"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1] == (
        "Error: Study 'default' has no wave 'wave7' (its waves: wave1, wave2).")
