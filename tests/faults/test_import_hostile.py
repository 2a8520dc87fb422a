"""Imports given what hostile testing found (issue 11): partial re-imports, drafts, unknown
columns, absurd dates, endless files, repeats, references in other capitals, the formula
guard's apostrophe, invisible characters and broken quoting. Each is checked where people
meet it: the command line (exit status, one line on stderr) and, for crashes, the upload."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from instruments import load_instrument, parse_answer
from instruments.text import strip_invisible
from scheduler.jobs import dispatch
from surveys import csv_rows
from surveys.csv_rows import CsvFileError
from surveys.csv_safety import safe_cell, unguard_cell
from surveys.models import AuditEvent, Participant, Response, SiteReferral
from surveys.responses.importer import import_responses
from surveys.studies import resolve_study, wave_by_code
from tests.faults.hostile import examples, snapshot
from tests.helpers import PARTICIPANTS_HEADER, csrf_token, token_from
from tests.i18n.walk import open_and_start, page_text, staff_member, walk

START = date(2026, 3, 2)  # the frozen clock's day: the cohort completes on it


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(result) -> str:
    """The one-line reason of a refused command (the first line of stderr)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Unexpected error" not in result.output
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("Error: ")
    return result.stderr


def cohort(runner, tmp_path, text: str, *extra: str):
    return runner.invoke(args=["import-cohort", "--participants",
                               write(tmp_path, "participants.csv", text), *extra])


def responses(runner, tmp_path, text: str, wave: str = "wave2"):
    return runner.invoke(args=["import-responses", "--wave", wave,
                               write(tmp_path, "responses.csv", text)])


def participant(session_factory, ref: str) -> Participant:
    with session_factory() as s:
        found = s.scalar(select(Participant).where(Participant.ref == ref))
        s.expunge_all()
        return found


def all_responses(session_factory) -> list[Response]:
    with session_factory() as s:
        rows = s.scalars(select(Response).order_by(Response.id)).all()
        s.expunge_all()
        return rows


FULL = PARTICIPANTS_HEADER + (
    f"R-1,Hull,{START},en,r1@example.org,01632 960001,4,5,9\n"
    f"R-2,Hull,{START},cy,r2@example.org,01632 960002,6,6,6\n"
)


@pytest.fixture
def loaded(app, runner, tmp_path):
    assert cohort(runner, tmp_path, FULL).exit_code == 0


# --- 1. A re-import changes only the columns the file has --------------------------------


def test_a_reimport_with_fewer_columns_keeps_what_it_does_not_mention(
    app, runner, loaded, session_factory, settings, mailer, smtp, clock, tmp_path
):
    clock.advance(days=50)
    answered = responses(runner, tmp_path, "participant_ref,submitted_on,mode,workability\n"
                         "R-1,2026-04-14,telephone,7\n")
    assert answered.exit_code == 0, answered.output
    [before] = all_responses(session_factory)
    assert before.baseline_1 == 4  # workability's slot, copied by the database (0005, 0009)

    done = cohort(runner, tmp_path, f"participant_ref,site,completed_on\nR-1,Leeds,{START}\n")
    assert done.exit_code == 0, done.output
    assert "0 new and 1 updated" in done.output
    kept = participant(session_factory, "R-1")
    assert kept.site == "Leeds"
    assert (kept.email, kept.phone, kept.language) == ("r1@example.org", "+441632960001", "en")
    assert (kept.baseline_1, kept.baseline_2, kept.baseline_3) == (4, 5, 9)
    [after] = all_responses(session_factory)
    assert (after.baseline_1, after.baseline_2, after.baseline_3) == (4, 5, 9)
    assert participant(session_factory, "R-2").language == "cy"  # not in the file: untouched

    # A blank cell in a column the file has clears that value ("blank = not recorded").
    done = cohort(runner, tmp_path, "participant_ref,site,completed_on,email,workability_end\n"
                  f"R-1,Leeds,{START},,\n")
    assert done.exit_code == 0, done.output
    cleared = participant(session_factory, "R-1")
    assert (cleared.email, cleared.baseline_1) == (None, None)
    assert (cleared.phone, cleared.baseline_2) == ("+441632960001", 5)
    assert all_responses(session_factory)[0].baseline_1 is None


# --- 2. A paper or telephone answer for a client who started online ---------------------


def _start_online(client, smtp, email: str, answers: dict) -> None:
    """Open the wave-two link and answer pages without submitting: a draft."""
    _, first = open_and_start(client, token_from(smtp.to(email)[-1]))
    walk(client, first, answers, stop_before="confidence")


def test_an_imported_answer_replaces_an_unfinished_online_draft(
    app, runner, loaded, session_factory, settings, mailer, smtp, clock, tmp_path
):
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)  # wave two issued
    _start_online(app.test_client(), smtp, "r1@example.org", {"workability": "2"})
    _start_online(app.test_client(), smtp, "r2@example.org", {"workability": "3"})
    [draft, _] = all_responses(session_factory)
    assert (draft.status, draft.participant_ref) == ("in_progress", "R-1")
    clock.advance(days=3)

    done = responses(runner, tmp_path, "participant_ref,submitted_on,mode,workability\n"
                     "R-1,2026-04-15,telephone,9\n")
    assert done.exit_code == 0, done.output
    assert "Stored 1 wave2 responses: 1 linked" in done.output
    assert "Unfinished online answers replaced by the imported ones for: R-1." in done.output
    mine = [r for r in all_responses(session_factory) if r.participant_ref == "R-1"]
    assert len(mine) == 1
    assert (mine[0].status, mine[0].source, mine[0].mode, mine[0].answers) == (
        "submitted", "import", "telephone", {"workability": 9})
    assert mine[0].submitted_on == date(2026, 4, 15)
    with session_factory() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "response_import"))
        assert event.detail["drafts_replaced"] == ["R-1"]

    # A submitted response is never replaced: that row is refused, by line, with the reason.
    again = responses(runner, tmp_path, "participant_ref,submitted_on,mode,workability\n"
                      "R-1,2026-04-15,telephone,4\n")
    assert "line 2, column 'participant_ref': 'R-1' already has a submitted wave2 response" in (
        refused(again))

    # The same on the web upload: no error page, the replacement said in the notice.
    staff = app.test_client()
    staff_member(staff, session_factory, "researcher")
    form = staff.get("/staff/studies/default/responses").get_data(as_text=True)
    posted = staff.post("/staff/studies/default/responses", data={
        "csrf_token": csrf_token(form), "wave": "wave2",
        "responses": (io.BytesIO(b"participant_ref,submitted_on,mode,workability\n"
                                 b"R-2,2026-04-15,web,5\n"), "paper.csv")},
        content_type="multipart/form-data")
    assert posted.status_code == 302, page_text(posted)[:2000]
    shown = page_text(staff.get(posted.headers["Location"]))
    assert "Unfinished online answers replaced by the imported ones for: R-2." in shown
    assert [r.status for r in all_responses(session_factory)] == ["submitted", "submitted"]


# --- 3. Unknown and misspelt columns ----------------------------------------------------


def test_unknown_columns_are_refused_in_every_import_with_a_suggestion(
    app, runner, loaded, session_factory, tmp_path
):
    result = cohort(runner, tmp_path, "participant_ref,site,completed_on,workabilty_end\n"
                    f"R-1,Hull,{START},3\n")
    message = refused(result)
    assert "column(s) workabilty_end are not columns of this file" in message
    assert "Did you mean 'workability_end' for 'workabilty_end'?" in message
    assert participant(session_factory, "R-1").baseline_1 == 4  # workability_end

    appointments = write(tmp_path, "appointments.csv",
                         "participant_ref,appointment_on,channel,attendence\n"
                         f"R-1,{START},video,attended\n")
    message = refused(runner.invoke(args=[
        "import-cohort", "--participants", write(tmp_path, "p.csv", FULL),
        "--appointments", appointments]))
    assert "appointments.csv" in message and "attendence" in message
    assert "Did you mean 'attendance' for 'attendence'?" in message

    referrals = write(tmp_path, "referrals.csv",
                      "site,eligible_referrals,successfully_closed,ftee\nHull,10,5,1\n")
    message = refused(runner.invoke(args=["import-referrals", referrals]))
    assert "column(s) ftee" in message and "Did you mean 'fte' for 'ftee'?" in message
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SiteReferral)) == 0


# --- 4. Implausible dates ---------------------------------------------------------------


@pytest.mark.parametrize("day,reason", [
    ("9999-12-31", "9999-12-31 is in the future (today is 2026-03-02)"),
    ("2026-03-03", "2026-03-03 is in the future (today is 2026-03-02)"),
    ("1999-12-31", "1999-12-31 is before 2000-01-01; check the year"),
    ("0001-01-01", "0001-01-01 is before 2000-01-01"),
])
def test_implausible_completion_dates_are_refused_on_the_command_line_and_the_web(
    app, runner, loaded, session_factory, tmp_path, day, reason
):
    text = PARTICIPANTS_HEADER + f"X-1,Hull,{day},en,,,1,2,3\n"
    message = refused(cohort(runner, tmp_path, text))
    assert f"line 2, column 'completed_on': {reason}" in message
    appointments = write(tmp_path, "appointments.csv",
                         "participant_ref,appointment_on,channel,attendance\n"
                         f"X-1,{day},video,attended\n")
    message = refused(runner.invoke(args=[
        "import-cohort", "--participants",
        write(tmp_path, "p.csv", PARTICIPANTS_HEADER + f"X-1,Hull,{START},en,,,1,2,3\n"),
        "--appointments", appointments]))
    assert f"appointments.csv line 2, column 'appointment_on': {reason}" in message

    staff = app.test_client()
    staff_member(staff, session_factory, "researcher")
    form = staff.get("/staff/studies/default/cohort").get_data(as_text=True)
    posted = staff.post("/staff/studies/default/cohort", data={
        "csrf_token": csrf_token(form),
        "participants": (io.BytesIO(text.encode()), "cohort.csv")},
        content_type="multipart/form-data")
    assert posted.status_code == 400
    assert f"cohort.csv line 2, column 'completed_on': {reason}" in page_text(posted)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 2  # R-1 and R-2


def test_implausible_response_dates_are_refused(app, runner, loaded, clock, tmp_path):
    clock.advance(days=50)  # 2026-04-21
    message = refused(responses(
        runner, tmp_path, "participant_ref,submitted_on,mode,workability\n"
        "R-1,9999-12-31,telephone,3\n"
        "R-2,2026-02-27,telephone,3\n"
        "NEW-1,1990-01-01,telephone,3\n"))
    assert "line 2, column 'submitted_on': 9999-12-31 is in the future" in message
    assert ("line 3, column 'submitted_on': 2026-02-27 is before 'R-2''s wave2 questionnaire "
            "was due (2026-04-13)") in message
    assert "line 4, column 'submitted_on': 1990-01-01 is before 2000-01-01" in message


def test_a_follow_up_dated_before_its_invitation_was_due_is_refused(
    app, runner, loaded, session_factory, clock, tmp_path
):
    clock.advance(days=50)  # 2026-04-21; wave two fell due on 2026-04-13
    header = "participant_ref,submitted_on,mode,workability\n"
    message = refused(responses(runner, tmp_path, header + "R-1,2026-04-13,telephone,7\n"
                                "R-2,2026-04-12,telephone,3\n"))
    assert ("responses.csv line 3, column 'submitted_on': 2026-04-12 is before 'R-2''s wave2 "
            "questionnaire was due (2026-04-13)") in message.splitlines()
    assert "line 2" not in message  # answered on the day it fell due: nothing wrong
    assert all_responses(session_factory) == []
    # On the due date it is accepted, linked to the client.
    done = responses(runner, tmp_path, header + "R-2,2026-04-13,telephone,3\n")
    assert done.exit_code == 0, done.output
    [stored] = all_responses(session_factory)
    assert (stored.participant_ref, stored.submitted_on) == ("R-2", date(2026, 4, 13))
    assert stored.participant_id == participant(session_factory, "R-2").id


# --- 5. Files read as a stream, with a size cap -----------------------------------------


class Endless(io.RawIOBase):
    """A file that never ends (like /dev/zero, but valid rows), counting what was read."""

    def __init__(self, head: bytes, line: bytes) -> None:
        self.head, self.line, self.read_bytes = head, line, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        assert self.read_bytes < 64 * 1024 * 1024, "read far past the size limit"
        pos = self.read_bytes - len(self.head)
        if pos < 0:
            data = self.head[self.read_bytes:]
        else:
            skip = pos % len(self.line)
            data = (self.line * (len(buffer) // len(self.line) + 2))[skip:]
        data = data[: len(buffer)]
        buffer[: len(data)] = data
        self.read_bytes += len(data)
        return len(data)


def test_an_endless_responses_file_stops_at_the_size_limit(
    app, session_factory, loaded, monkeypatch
):
    monkeypatch.setattr(csv_rows, "MAX_BYTES", 4 * 1024 * 1024)
    stream = Endless(b"participant_ref,submitted_on,mode,workability\n",
                     b"NEW-1,2026-03-01,telephone,3\n")
    with session_factory() as s:
        study = resolve_study(s, None)
        with pytest.raises(CsvFileError, match="larger than 200 MB"):
            import_responses(s, study, wave_by_code(study, "wave2"), stream, today=START)
        assert s.scalar(select(func.count()).select_from(Response)) == 0
    assert stream.read_bytes <= 4 * 1024 * 1024 + csv_rows.BLOCK


@pytest.mark.parametrize("command", [["import-responses", "--wave", "wave2"],
                                     ["import-referrals"]])
def test_dev_zero_stops_at_once_with_one_line(command, database_url, tmp_path):
    surveys = str(Path(sys.executable).with_name("surveys"))
    env = {"SURVEYS_DATABASE_URL": database_url, "SURVEYS_SECRET_KEY": "zero-test-secret",
           "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    participants = write(tmp_path, "p.csv", FULL)
    assert subprocess.run([surveys, "import-cohort", "--participants", participants],
                          env=env, capture_output=True, timeout=120).returncode == 0
    began = time.monotonic()
    done = subprocess.run([surveys, *command, "/dev/zero"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert time.monotonic() - began < 60
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: zero: the file contains binary data, not CSV text."]


# --- 6. The same responses file twice ---------------------------------------------------


def test_the_same_responses_file_imported_twice_adds_nothing(
    app, runner, loaded, session_factory, clock, tmp_path
):
    clock.advance(days=50)
    text = ("participant_ref,submitted_on,mode,workability,comments\n"
            "R-1,2026-04-14,telephone,7,fine\n"
            "PAPER-9,2026-04-14,telephone,3,\"kept, unlinked\"\n"
            "PAPER-10,2026-04-15,web,5,\n")
    first = responses(runner, tmp_path, text)
    assert "Stored 3 wave2 responses: 1 linked, 2 could not be linked" in first.output
    again = responses(runner, tmp_path, text)
    assert again.exit_code == 0, again.output
    assert "Stored 0 wave2 responses" in again.output
    assert "3 rows were already stored and were skipped." in again.output
    assert len(all_responses(session_factory)) == 3

    # A new row in the same file goes in; a row repeated within a file is kept (two
    # clients may give the same unknown reference) and is not added again either.
    more = responses(runner, tmp_path, text + "PAPER-11,2026-04-16,telephone,1,\n")
    assert "Stored 1 wave2 responses: 0 linked, 1 could not be linked" in more.output
    twice = ("participant_ref,submitted_on,mode,workability\n"
             "PAPER-12,2026-04-16,telephone,2\nPAPER-12,2026-04-16,telephone,2\n")
    assert "Stored 2 wave2 responses" in responses(runner, tmp_path, twice).output
    assert "2 rows were already stored" in responses(runner, tmp_path, twice).output
    assert len(all_responses(session_factory)) == 6


# --- 7. References differing only in capitals -------------------------------------------


def test_references_differing_only_in_capitals_are_one_person(
    app, runner, session_factory, tmp_path
):
    message = refused(cohort(runner, tmp_path, PARTICIPANTS_HEADER
                             + f"sec-i51,Hull,{START},en,,,1,2,3\n"
                             + f"SEC-I51,Hull,{START},en,,,1,2,3\n"))
    assert ("line 3, column 'participant_ref': 'SEC-I51' appears twice in the file as "
            "'sec-i51'") in message
    assert cohort(runner, tmp_path, PARTICIPANTS_HEADER
                  + f"sec-i51,Hull,{START},en,,,1,2,3\n").exit_code == 0
    message = refused(cohort(runner, tmp_path, PARTICIPANTS_HEADER
                             + f"Sec-I51,Leeds,{START},en,,,1,2,3\n"))
    assert ("line 2, column 'participant_ref': 'Sec-I51' differs only in capitals from "
            "'sec-i51', already in the study") in message
    with session_factory() as s:
        assert s.scalars(select(Participant.ref)).all() == ["sec-i51"]
    # The same spelling still updates that participant.
    assert cohort(runner, tmp_path, PARTICIPANTS_HEADER
                  + f"sec-i51,Leeds,{START},en,,,1,2,3\n").exit_code == 0


# --- 8. The formula guard's apostrophe does not survive a round trip --------------------


@pytest.mark.parametrize("text", ["+ref3", "=1+2", "-3", "@me", "\t=1"])
def test_unguard_cell_undoes_safe_cell(text):
    assert unguard_cell(safe_cell(text)) == text


@pytest.mark.parametrize("text", ["'tis", "'", "''", "don't", "'7"])
def test_an_apostrophe_before_ordinary_text_is_kept(text):
    assert unguard_cell(text) == text


def test_an_exported_file_imports_back_as_it_was(
    app, runner, loaded, session_factory, clock, tmp_path
):
    clock.advance(days=50)
    assert responses(runner, tmp_path, "participant_ref,submitted_on,mode,workability,comments\n"
                     "-ODD-REF,2026-04-15,telephone,2,+ felt better\n"
                     "R-1,2026-04-15,telephone,4,=1+1\n").exit_code == 0
    exported = runner.invoke(args=["export-responses", "--wave", "wave2"])
    assert "'+ felt better" in exported.stdout and "'-ODD-REF" in exported.stdout
    # Exported and imported again: skipped as already stored, the same rows...
    again = responses(runner, tmp_path, exported.stdout)
    assert "2 rows were already stored" in again.output, again.output
    # ...and into an empty wave, the text as typed.
    with session_factory() as s:
        s.execute(delete(Response))
        s.commit()
    assert responses(runner, tmp_path, exported.stdout).exit_code == 0
    by_ref = {r.participant_ref: r.answers for r in all_responses(session_factory)}
    assert by_ref == {"-ODD-REF": {"workability": 2, "comments": "+ felt better"},
                      "R-1": {"workability": 4, "comments": "=1+1"}}


# --- 9. Invisible characters ------------------------------------------------------------


@pytest.mark.parametrize("typed,kept", [
    ("evil\u202etxt.exe", "eviltxt.exe"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("\u2066isolated\u2069 and\u00ad soft", "isolated and soft"),
    ("Ŵŷ ŵ, café, naïve", "Ŵŷ ŵ, café, naïve"),
    ("👍🏽 👩\u200d👩\u200d👧 🏳\ufe0f\u200d🌈", "👍🏽 👩\u200d👩\u200d👧 🏳\ufe0f\u200d🌈"),
    ("🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
     "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"),  # the Welsh flag
    ("a\u200db", "ab"),  # a joiner between letters hides nothing worth keeping
    ("line\r\nbreak\x07\tand tab", "line\nbreak\tand tab"),
])
def test_invisible_characters_go_and_real_text_stays(typed, kept):
    assert strip_invisible(typed) == kept


def test_free_text_typed_on_a_form_loses_invisible_characters():
    comments = next(q for q in load_instrument("wave2").questions() if q.id == "comments")
    assert parse_answer(comments, "fine\u202e \u200bthanks 👍") == ("fine thanks 👍", None)


def test_imported_cells_lose_invisible_characters(
    app, runner, session_factory, clock, tmp_path
):
    assert cohort(runner, tmp_path, PARTICIPANTS_HEADER
                  + f"\u200bZ-1,Hu\u200bll\u202e,{START},en,,,1,2,3\n").exit_code == 0
    assert participant(session_factory, "Z-1").site == "Hull"
    clock.advance(days=50)
    assert responses(runner, tmp_path, "participant_ref,submitted_on,mode,comments\n"
                     "Z-1,2026-04-15,telephone,Da iawn\u2066 ŵ 👍\u200b\n").exit_code == 0
    assert all_responses(session_factory)[0].answers == {"comments": "Da iawn ŵ 👍"}


# --- 10. Messages that say what is wrong ------------------------------------------------


def test_an_unterminated_quote_is_reported_where_it_starts(app, runner, tmp_path):
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on\n"
                             f"A-1,Hull,{START}\n"
                             f"A-2,\"Hull,{START}\n"
                             f"A-3,Leeds,{START}\n"))
    assert "participants.csv line 3: unterminated quote" in message
    assert "completed_on" not in message


def test_a_semicolon_separated_file_gets_a_hint(app, runner, tmp_path):
    message = refused(cohort(runner, tmp_path, "participant_ref;site;completed_on\n"
                             f"A-1;Hull;{START}\n"))
    assert message.strip().endswith(
        "The file seems to use ';' between columns; save it as CSV with commas.")


@pytest.mark.parametrize("site", ["Hull\nLeeds", "Hull\tLeeds", "Hull\rLeeds"])
def test_a_site_on_two_lines_is_refused(app, runner, session_factory, tmp_path, site):
    quoted = '"' + site + '"'
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on\n"
                             f"A-1,{quoted},{START}\n"))
    assert "column 'site': must be on one line, without line breaks or tabs" in message
    referrals = write(tmp_path, "r.csv", "site,eligible_referrals,successfully_closed,note\n"
                      f"Hull,10,5,{quoted}\n")
    message = refused(runner.invoke(args=["import-referrals", referrals]))
    assert "column 'note': must be on one line" in message


# --- 11. Whole hostile files: headers, encodings, separators, dates, quotes --------------

KNOWN = {
    "cohort": ["participant_ref", "site", "completed_on", "language", "email", "phone",
               "workability_end", "confidence_end", "importance_end", "status"],
    "appointments": ["participant_ref", "appointment_on", "channel", "attendance",
                     "workability"],
    "responses": ["participant_ref", "submitted_on", "mode", "workability", "confidence",
                  "comments", "instrument_version"],
    "referrals": ["site", "eligible_referrals", "successfully_closed", "fte", "note",
                  "in_progress"],
}
MISSPELT = ["workabilty_end", "Site", "participant ref", "completed on", "", "attendence",
            "submited_on", "ftee", "participant_ref\u200b", "arm", "Status"]
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "9999-12-31", "0001-01-01", "1999-12-31",
        "2026-02-30", "02/03/2026", "", "2026-3-1"]
CELLS = {
    "participant_ref": ["R-1", "r-1", "R-2", "NEW-1", "new-1", "A B", "", "=cmd", "'-X"],
    "site": ["Hull", "Hull\nLeeds", "Caerdydd ŵ", "Hu\u202ell", "", "'=x"],
    "language": ["en", "cy", "", "fr"],
    "status": ["", "completed", "dropped_out", "In_Progress", "done"],
    "email": ["", "a@example.org", "@"],
    "phone": ["", "01632 960000", "x"],
    "channel": ["video", "telephone", "fax"],
    "attendance": ["attended", "failed_to_attend", ""],
    "mode": ["web", "telephone", "fax"],
    "comments": ["fine", "line\nbreak", "\u202eevil", "👍", "'+ok"],
    "note": ["", "virtual cover", "two\nlines"],
    "fte": ["", "0.7", "x"],
}
SCORES = ["0", "10", "11", "", "-1", "7"]


@st.composite
def whole_file(draw, kind: str) -> bytes:
    known = KNOWN[kind]
    clean = draw(st.integers(0, 3)) == 0  # some files are good, to show they still import
    if clean:
        header = [*known[:3], *draw(st.lists(st.sampled_from(known[3:]), unique=True))]
    else:
        header = draw(st.lists(st.sampled_from(known + MISSPELT), min_size=0, max_size=9))
        if draw(st.booleans()):
            header = [*known[:3], *header]  # the required columns, then anything
    separator = "," if clean else draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    rows = [header]
    for number in range(draw(st.integers(1 if clean else 0, 4))):
        row = []
        for name in header:
            if clean and name == "participant_ref":
                row.append(f"NEW-{number}" if kind != "appointments" else "R-1")
            elif clean and name == "site":
                row.append(f"Site {number}")
            elif name.endswith("_on"):
                row.append(draw(st.sampled_from(DAYS[:2] if clean else DAYS)))
            elif name in CELLS:
                row.append(draw(st.sampled_from(CELLS[name][:1] if clean else CELLS[name])))
            elif clean and name.endswith(("referrals", "closed")):
                row.append("5")
            else:
                row.append(draw(st.sampled_from(SCORES[:2] if clean else SCORES)))
        rows.append(row)
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
               ).writerows(rows)
    text = out.getvalue()
    if text and not clean and draw(st.integers(0, 4)) == 0:  # a stray quote somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"] if clean else [
        "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "utf-16-le", "cp1252"]))
    return text.encode(encoding, errors="replace")


KINDS = st.sampled_from(sorted(KNOWN)).flatmap(
    lambda kind: st.tuples(st.just(kind), whole_file(kind)))
TABLES = ("participants", "appointments", "invitations", "responses", "site_referrals")


def test_every_whole_file_is_imported_or_refused_in_one_line_changing_nothing(
    app, runner, loaded, session_factory, engine
):
    from surveys.cohort.importer import ImportRejected, import_cohort
    from surveys.cohort.referrals import import_referrals

    def run_import(s, kind: str, data: bytes) -> None:
        study = resolve_study(s, None)
        if kind == "cohort":
            import_cohort(s, study, data, today=START)
        elif kind == "appointments":
            import_cohort(s, study, FULL, data, today=START)
        elif kind == "responses":
            import_responses(s, study, wave_by_code(study, "wave1"), data, today=START)
        else:
            import_referrals(s, study, data)

    seen: dict[str, int] = {}

    @given(kind_and_file=KINDS)
    @examples(80)
    def run(kind_and_file):
        kind, data = kind_and_file
        before = snapshot(engine, TABLES)
        with session_factory() as s:
            try:
                run_import(s, kind, data)
            except (ImportRejected, CsvFileError) as exc:
                headline = str(exc).splitlines()[0]
                assert headline.strip() and ".csv" in headline, str(exc)
                assert not (s.new or s.dirty or s.deleted), "a refused import left changes"
                s.rollback()
                assert snapshot(engine, TABLES) == before
                seen["refused"] = seen.get("refused", 0) + 1
                return
            s.rollback()  # imported: kept out of the next example's way
            seen["imported"] = seen.get("imported", 0) + 1

    run()
    assert seen.get("refused", 0) >= 10 and seen.get("imported", 0) >= 1, seen


def test_a_long_line_without_a_line_end_is_refused_in_one_line():
    """Lines are split by finding their ends: a pattern matching whole lines was tried again
    at every position of an unterminated line, so a few megabytes took hours."""
    data = ("participant_ref,site,completed_on\n" + "x" * 4_000_000).encode()
    header, rows = csv_rows.open_rows(data, "p.csv", ["participant_ref"],
                                      ["participant_ref", "site", "completed_on"])
    with pytest.raises(CsvFileError) as refused:
        list(rows)
    assert str(refused.value) == "p.csv line 2: a cell is longer than 131,072 characters."
    crlf = csv_rows.open_rows(b"a,b\r\n1,2\r3,4\n5,6\r\n", "f.csv", ["a"], ["a", "b"])[1]
    assert list(crlf) == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"}),
                          (4, {"a": "5", "b": "6"})]
