"""The streaming, set-based cohort import keeps the contract: all or nothing, bad rows named."""

from datetime import date

import pytest
from sqlalchemy import func, select

from surveys.cohort.importer import CHUNK, ImportRejected, import_cohort
from surveys.models import Appointment, Invitation, Participant
from surveys.studies import resolve_study
from tests.helpers import participants_csv, person

DAY = date(2026, 3, 2)
APPOINTMENTS = "participant_ref,appointment_on,channel,attendance,workability\n"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_every_bad_row_is_named_in_reading_order_and_nothing_is_written(session_factory):
    people = participants_csv(
        person("A-1", DAY), person("A-2", DAY, scores=(5, 11, 7)), person("A-1", DAY),
        ("", "Hull", "2026-13-01", "en", "", "", 1, 2, 3),
    )
    visits = APPOINTMENTS + "A-1,2026-01-05,telephone,attended,4\nZ-9,2026-01-06,post,attended,\n"
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        with pytest.raises(ImportRejected) as caught:
            import_cohort(s, study, people, visits)
        p_errors, a_errors = caught.value.errors
        assert p_errors.problems == [
            (3, "confidence_end", "'11' is not a whole number from 0 to 10"),
            (4, "participant_ref", "'A-1' appears twice in the file (first on line 2)"),
            (5, "participant_ref", "is required"),
            (5, "completed_on", "'2026-13-01' is not an ISO date (YYYY-MM-DD)"),
        ]
        assert [(line, column) for line, column, _ in a_errors.problems] == [
            (3, "participant_ref"), (3, "channel")]
        assert count(s, Participant) == count(s, Invitation) == count(s, Appointment) == 0


def test_reimport_updates_moves_unissued_invitations_and_replaces_appointments(session_factory):
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        first = import_cohort(s, study, participants_csv(person("B-1", DAY), person("B-2", DAY)),
                              APPOINTMENTS + "B-1,2026-01-05,telephone,attended,4\n"
                              "B-1,2026-01-12,video,attended,5\n")
        s.commit()
        assert (first.created, first.updated, first.appointments) == (2, 0, 2)
        assert first.invitations_scheduled == 2 * len(study.waves)
        later = date(2026, 3, 9)
        again = import_cohort(s, study, participants_csv(person("B-1", later, scores=(1, 2, 3)),
                                                         person("B-3", DAY)),
                              APPOINTMENTS + "B-1,2026-01-19,telephone,attended,6\n")
        s.commit()
        assert (again.created, again.updated, again.invitations_scheduled) == (
            1, 1, len(study.waves))
        b1 = s.scalar(select(Participant).where(Participant.ref == "B-1"))
        assert (b1.completed_on, b1.baseline_1) == (later, 1)  # workability_end
        assert [a.workability for a in b1.appointments] == [6]
        dues = sorted(s.scalars(select(Invitation.due_on).where(
            Invitation.participant_id == b1.id)))
        assert dues[0] == later
        assert count(s, Participant) == 3


def test_more_rows_than_one_chunk_from_a_file_path(session_factory, tmp_path):
    n = CHUNK + 7
    path = tmp_path / "participants.csv"
    path.write_text(participants_csv(*[person(f"C-{i}", DAY) for i in range(n)]))
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        result = import_cohort(s, study, path)
        s.commit()
        assert result.created == n == count(s, Participant)
        ids = s.scalars(select(Participant.id).order_by(Participant.ref)).all()
        assert len(set(ids)) == n
