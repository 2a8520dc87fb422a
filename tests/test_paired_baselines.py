"""The paired report's baselines are copies kept by the database: they must never go stale.

Each linked response carries its participant's stored end scores (migration 0005), so
the report reads one table. These tests change the data every way the service can and
check the copies, and the report, follow: on SQLite here and on PostgreSQL in its pass.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from surveys.cohort.importer import import_cohort
from surveys.models import Participant, Response
from surveys.privacy import erase_participant
from surveys.reports.paired_change import paired_report
from surveys.responses.importer import import_responses
from surveys.studies import create_study, wave_by_code
from tests.helpers import participants_csv, person

DAY = date(2026, 1, 5)
ANSWERS = "participant_ref,submitted_on,mode,workability,confidence,importance\n"


def baselines(s, ref: str) -> tuple:
    return s.execute(
        select(Response.baseline_1, Response.baseline_2,
               Response.baseline_3).where(Response.participant_ref == ref)
    ).one()


def setup(s):
    study = create_study(s, "copies", "Copied baselines")
    import_cohort(s, study, participants_csv(
        person("A-1", DAY, scores=(2, 3, 4)), person("A-2", DAY, scores=(6, 6, 6))))
    import_responses(s, study, wave_by_code(study, "wave2"),
                     ANSWERS + "A-1,2026-02-20,web,5,3,4\nA-2,2026-02-20,web,6,6,6\n"
                     "NOBODY,2026-02-20,web,9,9,9\n")
    s.commit()
    return study


def test_a_linked_response_gets_its_participants_end_scores(session_factory):
    with session_factory() as s:
        study = setup(s)
        assert baselines(s, "A-1") == (2, 3, 4)
        assert baselines(s, "A-2") == (6, 6, 6)
        assert baselines(s, "NOBODY") == (None, None, None)
        work = paired_report(s, study, "wave2")["measures"]["workability"]
        assert (work["n"], work["improved"], work["same"]) == (2, 1, 1)


def test_a_corrected_cohort_file_moves_the_baseline_and_the_report(session_factory):
    with session_factory() as s:
        study = setup(s)
        # The practitioner's stored score for A-1 was 2; the corrected file says 7.
        import_cohort(s, study, participants_csv(person("A-1", DAY, scores=(7, 3, 4))))
        s.commit()
        assert baselines(s, "A-1") == (7, 3, 4)
        work = paired_report(s, study, "wave2")["measures"]["workability"]
        assert (work["improved"], work["same"], work["deteriorated"]) == (0, 1, 1)


def test_linking_later_copies_and_unlinking_clears(session_factory):
    with session_factory() as s:
        study = setup(s)
        a2 = s.scalar(select(Participant.id).where(Participant.ref == "A-2"))
        s.execute(update(Response).where(Response.participant_ref == "NOBODY")
                  .values(participant_id=a2))
        s.commit()
        assert baselines(s, "NOBODY") == (6, 6, 6)
        s.execute(update(Response).where(Response.participant_ref == "NOBODY")
                  .values(participant_id=None))
        s.commit()
        assert baselines(s, "NOBODY") == (None, None, None)
        assert paired_report(s, study, "wave2")["linked"] == 2


def test_erasure_leaves_no_copy_of_the_scores(session_factory):
    with session_factory() as s:
        study = setup(s)
        erase_participant(s, study, "A-1")
        s.commit()
        kept = s.execute(select(Response.participant_id, Response.baseline_1,
                                Response.baseline_2, Response.baseline_3)
                         .where(Response.score_1 == 5)).one()
        assert tuple(kept) == (None, None, None, None)
        report = paired_report(s, study, "wave2")
        assert (report["responses"], report["linked"]) == (3, 1)
