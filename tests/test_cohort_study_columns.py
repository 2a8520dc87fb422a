"""The cohort file of any study (contracts section 5): its measures' `<key>_end` columns
(scale or yes/no, outcome-only measures have none), `arm` when it has arms, and `status`
(only completers are surveyed). The response import stores yes/no answers, and the
database derives the measures' scores from them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.jobs import dispatch
from surveys.models import Invitation, Participant, Response
from surveys.studies import create_study
from tests.helpers import make_study

START = date(2026, 3, 2)  # the frozen clock's day
HEADER = "participant_ref,site,completed_on,arm,status,seen_work_coach_end,workability_end\n"


@pytest.fixture
def study(app, session_factory):
    """Two yes/no measures (one asked at follow-up only), a scale in slot 3, two arms, and a
    follow-up six weeks on with the shipped wave2 instrument (whose yes_no questions are
    seen_work_coach and steps_helped)."""
    with session_factory() as s:
        make_study(s, "pilot", arms=["integrated", "comparison"], measures=[
            {"key": "seen_work_coach", "kind": "binary", "better": "yes"},
            {"key": "steps_helped", "kind": "binary", "better": "yes", "baseline": False},
            {"key": "workability"},
        ], waves=[{"code": "follow", "instrument": "wave2", "offset_days": 42}])
        s.commit()
    return "pilot"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def cohort(runner, tmp_path, text: str, study: str = "pilot"):
    return runner.invoke(args=["import-cohort", "--participants",
                               write(tmp_path, "participants.csv", text), "--study", study])


def refused(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Unexpected error" not in result.output
    assert result.stderr.startswith("Error: ")
    return result.stderr


def people(session_factory) -> dict[str, Participant]:
    with session_factory() as s:
        found = {p.ref: p for p in s.scalars(select(Participant))}
        s.expunge_all()
        return found


def invitations(session_factory) -> dict[str, list[str]]:
    with session_factory() as s:
        rows = s.execute(select(Participant.ref, Invitation.status)
                         .join(Invitation, Invitation.participant_id == Participant.id)).all()
    out: dict[str, list[str]] = {}
    for ref, status in rows:
        out.setdefault(ref, []).append(status)
    return out


def test_a_study_reads_its_own_baseline_columns_into_the_measures_slots(
    runner, study, session_factory, tmp_path
):
    done = cohort(runner, tmp_path, HEADER + f"A-1,Hull,{START},integrated,,Yes,7\n"
                  f"A-2,Hull,{START},Comparison,completed,no,\n")
    assert done.exit_code == 0, done.output
    assert "2 new and 0 updated participants, 0 appointments, 2 questionnaires" in done.output
    a1, a2 = people(session_factory)["A-1"], people(session_factory)["A-2"]
    assert (a1.baseline_1, a1.baseline_2, a1.baseline_3, a1.arm) == (1, None, 7, "integrated")
    assert (a2.baseline_1, a2.baseline_3, a2.arm, a2.status) == (0, None, "comparison",
                                                                "completed")


def test_bad_baseline_values_are_named_by_line_and_column(
    runner, study, session_factory, tmp_path
):
    message = refused(cohort(runner, tmp_path, HEADER
                             + f"A-1,Hull,{START},integrated,,maybe,7\n"
                             + f"A-2,Hull,{START},integrated,,1,11\n"
                             + f"A-3,Hull,{START},integrated,,yes,{'9' * 5000}\n"))
    assert "line 2, column 'seen_work_coach_end': 'maybe' must be yes or no" in message
    assert "line 3, column 'seen_work_coach_end': '1' must be yes or no" in message
    assert "line 3, column 'workability_end': '11' is not a whole number from 0 to 10" in message
    assert "line 4, column 'workability_end': '99999999999999999999' is not a whole" in message
    assert people(session_factory) == {}


def test_only_baseline_measures_have_an_end_column(runner, study, session_factory, tmp_path):
    # steps_helped is asked at follow-up only: it has no baseline to load.
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on,arm,"
                             f"steps_helped_end\nA-1,Hull,{START},integrated,yes\n"))
    assert "column(s) steps_helped_end are not columns of this file" in message
    # ...and the EHD's columns are not this study's.
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on,arm,"
                             f"confidence_end\nA-1,Hull,{START},integrated,5\n"))
    assert "column(s) confidence_end are not columns of this file" in message
    assert "seen_work_coach_end, workability_end" in message  # what it can have
    assert people(session_factory) == {}


def test_the_arm_is_required_in_a_study_with_arms_and_unknown_in_one_without(
    runner, study, session_factory, tmp_path
):
    message = refused(cohort(runner, tmp_path, f"participant_ref,site,completed_on\n"
                             f"A-1,Hull,{START}\n"))
    assert "lacks the required column(s) arm" in message
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on,arm\n"
                             f"A-1,Hull,{START},integrated\nA-2,Hull,{START},control\n"
                             f"A-3,Hull,{START},\n"))
    assert ("line 3, column 'arm': 'control' must be one of integrated, comparison"
            in message)
    assert "line 4, column 'arm': is required" in message
    assert "line 2" not in message
    # An EHD study has no arms: the column is not one of its file's.
    with session_factory() as s:
        create_study(s, "ehd", "EHD evaluation")
        s.commit()
    message = refused(cohort(runner, tmp_path, "participant_ref,site,completed_on,arm\n"
                             f"E-1,Hull,{START},integrated\n", study="ehd"))
    assert "column(s) arm are not columns of this file" in message
    assert people(session_factory) == {}


def test_only_completers_are_scheduled_and_others_need_no_completion_date(
    runner, study, session_factory, tmp_path
):
    done = cohort(runner, tmp_path, HEADER + f"C-1,Hull,{START},integrated,,yes,5\n"
                  "D-1,Hull,,integrated,dropped_out,no,\n"
                  "P-1,Leeds,2026-02-01,comparison,in_progress,yes,3\n")
    assert done.exit_code == 0, done.output
    assert "3 new and 0 updated participants, 0 appointments, 1 questionnaires" in done.output
    stored = people(session_factory)
    assert {ref: (p.status, p.completed_on) for ref, p in stored.items()} == {
        "C-1": ("completed", START), "D-1": ("dropped_out", None),
        "P-1": ("in_progress", date(2026, 2, 1))}
    assert stored["D-1"].baseline_1 == 0  # everyone enrolled has their baseline
    assert invitations(session_factory) == {"C-1": ["scheduled"]}

    # A completer needs the date; a date given is checked whatever the status.
    message = refused(cohort(runner, tmp_path, HEADER + "C-2,Hull,,integrated,,yes,5\n"
                             "D-2,Hull,2026-13-01,integrated,dropped_out,no,\n"
                             f"X-1,Hull,{START},integrated,finished,no,\n"))
    assert "line 2, column 'completed_on': is required when the status is completed" in message
    assert "line 3, column 'completed_on': '2026-13-01' is not an ISO date" in message
    assert ("line 4, column 'status': 'finished' must be one of completed, dropped_out, "
            "in_progress") in message

    # Completing later: the invitations come then.
    done = cohort(runner, tmp_path, "participant_ref,site,completed_on,arm,status\n"
                  f"P-1,Leeds,{START},comparison,completed\n")
    assert "0 new and 1 updated participants, 0 appointments, 1 questionnaires" in done.output
    assert invitations(session_factory) == {"C-1": ["scheduled"], "P-1": ["scheduled"]}


def test_a_file_without_a_status_column_is_a_file_of_completers(
    runner, study, session_factory, tmp_path
):
    assert cohort(runner, tmp_path, "participant_ref,site,completed_on,arm,status\n"
                  "P-1,Leeds,,comparison,in_progress\n").exit_code == 0
    assert invitations(session_factory) == {}
    done = cohort(runner, tmp_path, "participant_ref,site,completed_on,arm\n"
                  f"P-1,Leeds,{START},comparison\n")
    assert done.exit_code == 0, done.output
    assert people(session_factory)["P-1"].status == "completed"
    assert invitations(session_factory) == {"P-1": ["scheduled"]}


def test_a_completer_not_yet_sent_anything_can_be_marked_dropped_out_but_not_once_sent(
    runner, study, session_factory, settings, mailer, clock, tmp_path
):
    header = "participant_ref,site,completed_on,arm,status\n"
    assert cohort(runner, tmp_path, header + f"C-1,Hull,{START},integrated,\n"
                  f"C-2,Hull,{START},integrated,\n").exit_code == 0
    # Not sent yet: dropping out takes their unsent invitations away.
    done = cohort(runner, tmp_path, header + f"C-2,Hull,{START},integrated,dropped_out\n")
    assert done.exit_code == 0, done.output
    assert invitations(session_factory) == {"C-1": ["scheduled"]}

    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)  # C-1's follow-up is issued
    assert invitations(session_factory) == {"C-1": ["issued"]}
    message = refused(cohort(runner, tmp_path, header + f"C-2,Hull,{START},integrated,\n"
                             f"C-1,Hull,{START},integrated,in_progress\n"))
    assert ("line 3, column 'status': 'C-1' was already sent a questionnaire as a client who "
            "completed, so cannot become 'in_progress'") in message
    assert "line 2" not in message
    assert people(session_factory)["C-1"].status == "completed"
    assert invitations(session_factory) == {"C-1": ["issued"]}  # and C-2 not rescheduled


def test_yes_no_answers_are_imported_and_become_the_measures_scores(
    runner, study, session_factory, clock, tmp_path
):
    assert cohort(runner, tmp_path, HEADER + f"A-1,Hull,{START},integrated,,yes,7\n"
                  "D-1,Hull,,comparison,dropped_out,no,4\n").exit_code == 0
    clock.advance(days=50)
    path = write(tmp_path, "responses.csv",
                 "participant_ref,submitted_on,mode,seen_work_coach,steps_taken,steps_helped,"
                 "workability\n"
                 "A-1,2026-04-20,telephone,No,some,YES,8\n"
                 "D-1,2026-04-20,telephone,yes,,,2\n"  # no completion date: still linked
                 "NEW-1,2026-04-20,telephone,no,some,no,\n")
    done = runner.invoke(args=["import-responses", "--study", "pilot", "--wave", "follow",
                               path])
    assert done.exit_code == 0, done.output
    assert "Stored 3 follow responses: 2 linked, 1 could not be linked" in done.output
    with session_factory() as s:
        rows = {r.participant_ref: r for r in s.scalars(select(Response))}
        a1, d1, new = rows["A-1"], rows["D-1"], rows["NEW-1"]
        assert a1.answers == {"seen_work_coach": "no", "steps_taken": "some",
                              "steps_helped": "yes", "workability": 8}
        # Slots: seen_work_coach 1, steps_helped 2 (no baseline), workability 3.
        assert (a1.baseline_1, a1.score_1, a1.baseline_2, a1.score_2, a1.baseline_3,
                a1.score_3) == (1, 0, None, 1, 7, 8)
        assert (d1.baseline_1, d1.score_1, d1.baseline_3, d1.score_3) == (0, 1, 4, 2)
        assert (new.participant_id, new.score_1, new.score_2, new.baseline_1) == (
            None, 0, 0, None)

    bad = write(tmp_path, "bad.csv", "participant_ref,submitted_on,mode,seen_work_coach\n"
                "NEW-2,2026-04-20,telephone,maybe\nNEW-3,2026-04-20,telephone,1\n")
    message = refused(runner.invoke(args=["import-responses", "--study", "pilot", "--wave",
                                          "follow", bad]))
    assert "line 2, column 'seen_work_coach': 'maybe': Select one of the answers" in message
    assert "line 3, column 'seen_work_coach': '1': Select one of the answers" in message
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 3
