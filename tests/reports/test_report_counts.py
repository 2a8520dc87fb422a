"""The counts PostgreSQL keeps for the evaluation report (migration 0018) always equal a
count from the rows, after every kind of write, and reports built from them are the
reports built from rows.

On the demo (loaded through the service's own paths: imports, the dispatcher, telephone
calls, submissions), inside one transaction that is rolled back: ORM inserts, updates and
deletes of each table, bulk SQL, a participant moving site and changing baseline in one
statement, opting out, calls, a wave's telephone settings, unlinking and erasing
responses, a participant deleted with everything of theirs. After each, the kept counts
(summed) must equal `report_counts_recount` (a count from rows); at the end, every demo
study's report, with no breakdown and by each breakdown, must be the same from either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update

from surveys.models import (
    Appointment,
    CallAttempt,
    Invitation,
    Participant,
    Response,
    Study,
    Wave,
    report_answer_sets,
    report_counts,
)
from surveys.reports import kept
from surveys.reports.evaluation import evaluation_report
from surveys.reports.queries import DIMENSIONS

postgresql_only = pytest.mark.skipif(
    not os.environ.get("SURVEYS_TEST_DATABASE_URL"),
    reason="PostgreSQL keeps the counts; SQLite counts from rows")
SURVEYS = str(Path(sys.executable).with_name("surveys"))

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def _summed(session) -> dict:
    t = report_counts.c
    keys = (t.study_id, t.dim, t.grp, t.figure, t.k1, t.k2, t.k3, t.k4)
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(
        select(*keys, func.sum(t.n)).group_by(*keys).having(func.sum(t.n) != 0))}


def _check(session, what: str) -> None:
    session.flush()
    before = _summed(session)
    for study_id in session.scalars(select(Study.id)):
        session.execute(select(func.report_counts_recount(study_id)))
    after = _summed(session)
    wrong = {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
             if before.get(k) != after.get(k)}
    assert not wrong, f"after {what}: kept, counted {sorted(wrong.items(), key=str)[:8]}"
    session.expire_all()


def _some(session, model, n: int, *where):
    return list(session.scalars(select(model).where(*where).order_by(model.id).limit(n)))


def _store_answer_sets(session) -> None:
    """A first report of each study stores its waves' answer sets (reports.kept), so the
    writes below keep "joint" counts too."""
    for study in session.scalars(select(Study).order_by(Study.id)):
        evaluation_report(session, study, follow_up=study.waves[-1].code)
    session.commit()
    assert session.scalar(select(func.count()).select_from(report_answer_sets)) > 0


def _writes(session) -> None:
    """Every kind of write the service (or an operator's SQL) makes, checked after each."""
    _store_answer_sets(session)
    _check(session, "loading the demo")
    study = session.scalar(select(Study).order_by(Study.id))
    wave = study.waves[0]
    people = _some(session, Participant, 6, Participant.study_id == study.id)

    newcomer = Participant(study_id=study.id, ref="KEPT-1", site=people[0].site,
                           language="cy", completed_on=date(2026, 1, 5))
    session.add(newcomer)
    session.flush()
    session.add_all([Appointment(participant_id=newcomer.id, appointment_on=date(2025, 10, d),
                                 channel=channel, attendance="attended", workability=d)
                     for d, channel in ((1, "video"), (2, "telephone"), (3, "video"))])
    _check(session, "a new participant with appointments")

    invitation = Invitation(participant_id=newcomer.id, wave_id=wave.id, due_on=date(2026, 2, 1),
                            status="issued")
    session.add(invitation)
    session.flush()
    session.add(Response(wave_id=wave.id, invitation_id=invitation.id,
                         participant_id=newcomer.id, participant_ref="KEPT-1",
                         status="submitted", instrument=wave.instrument,
                         instrument_version=wave.instrument_version or "1",
                         answers={"kept_question": "yes", "other": [1, 2]}))
    _check(session, "an invitation and its submitted response")
    session.execute(update(Invitation).where(Invitation.id == invitation.id)
                    .values(status="completed"))
    _check(session, "the invitation completed")

    for mode in ("telephone",):
        session.execute(update(Wave).where(Wave.id == wave.id).values(mode=mode, max_calls=2))
    session.execute(update(Invitation).where(Invitation.id.in_(
        [i.id for i in _some(session, Invitation, 4, Invitation.wave_id == wave.id,
                             Invitation.status.in_(("issued", "closed")))]))
        .values(calls=2, next_call_at=None))
    _check(session, "a wave made a telephone wave, calls made")
    for i, outcome in zip(_some(session, Invitation, 3, Invitation.wave_id == wave.id,
                                Invitation.calls > 0), ("refused", "wrong_number", "no_answer"),
                          strict=False):
        session.add(CallAttempt(invitation_id=i.id, participant_id=i.participant_id,
                                at=NOW, outcome=outcome))
    _check(session, "calls recorded")
    session.execute(update(Wave).where(Wave.id == wave.id).values(max_calls=5))
    session.execute(delete(CallAttempt).where(CallAttempt.outcome == "wrong_number"))
    _check(session, "the most calls raised, a call deleted")

    session.execute(update(Participant).where(Participant.id == people[1].id)
                    .values(site="Moved site", baseline_1=3, opted_out_at=NOW))
    _check(session, "a participant moving site, changing baseline and opting out at once")
    session.execute(update(Participant).where(Participant.study_id == study.id)
                    .values(language=func.coalesce(Participant.language, "en")))
    session.execute(update(Participant).where(Participant.id.in_([p.id for p in people[:3]]))
                    .values(arm="comparison", baseline_2=Participant.baseline_2 + 1))
    _check(session, "bulk updates of participants")

    appointment = session.scalar(select(Appointment).where(
        Appointment.participant_id == people[2].id).limit(1))
    if appointment is not None:
        appointment.channel = "video"
        appointment.attendance = "failed_to_attend"
        session.flush()
        _check(session, "an appointment's channel and attendance changed")
        session.delete(appointment)
        _check(session, "an appointment deleted")

    linked = _some(session, Response, 3, Response.participant_id.is_not(None),
                   Response.status == "submitted")
    session.execute(update(Response).where(Response.id == linked[0].id)
                    .values(participant_id=None))
    session.execute(update(Response).where(Response.id == linked[1].id)
                    .values(participant_ref=None, participant_id=None))
    session.execute(update(Response).where(Response.id == linked[2].id)
                    .values(status="in_progress"))
    _check(session, "responses unlinked, erased, reopened")
    session.execute(update(Response).where(Response.id == linked[0].id)
                    .values(participant_id=linked[1].participant_id))
    session.execute(update(Response).where(Response.id == linked[2].id)
                    .values(status="submitted", answers={"changed": "answer"}))
    _check(session, "a response linked again and resubmitted")

    session.execute(text("""
        INSERT INTO appointments (participant_id, appointment_on, channel, attendance,
                                  workability)
        SELECT id, DATE '2025-12-01', 'telephone', 'attended', 4 FROM participants
         WHERE study_id = :s"""), {"s": study.id})
    session.execute(text("UPDATE invitations SET status = 'closed' WHERE status = 'issued'"))
    _check(session, "bulk SQL: an appointment for everyone, open questionnaires closed")

    session.execute(delete(Response).where(Response.id == linked[0].id))
    session.delete(session.get(Participant, people[3].id))
    _check(session, "a response deleted, a participant deleted with all of theirs")


@postgresql_only
def test_kept_counts_follow_every_write(demo_sessions):
    with demo_sessions() as session:
        try:
            _writes(session)
        finally:
            session.rollback()


@postgresql_only
def test_folding_keeps_every_sum_in_one_row_per_key(demo_sessions):
    t = report_counts.c
    with demo_sessions() as session:
        try:
            _writes(session)  # each check recounts: everything is folded after it
            study = session.scalar(select(Study).order_by(Study.id))
            session.add(Participant(study_id=study.id, ref="FRESH-1", site="Fresh site",
                                    language="en", completed_on=date(2026, 1, 5)))
            session.flush()
            before = _summed(session)
            assert session.scalar(select(func.count()).where(~t.folded)) > 0
            kept.fold(session)
            assert _summed(session) == before
            assert session.scalar(select(func.count()).where(~t.folded)) == 0
            keys = (t.study_id, t.dim, t.grp, t.figure, t.k1, t.k2, t.k3, t.k4)
            assert session.scalar(select(func.count()).select_from(
                select(*keys).group_by(*keys).having(func.count() > 1).subquery())) == 0
        finally:
            session.rollback()


def _report(session, study, breakdown, from_rows: bool) -> dict:
    session.info[kept.COUNT_FROM_ROWS] = from_rows
    try:
        return evaluation_report(session, study, follow_up=study.waves[-1].code,
                                 breakdown=breakdown)
    finally:
        session.info.pop(kept.COUNT_FROM_ROWS, None)


def _same_reports(session, state: str) -> None:
    for study in session.scalars(select(Study).order_by(Study.id)):
        for breakdown in (None, *DIMENSIONS):
            if breakdown == "arm" and not study.arms:
                continue
            assert (_report(session, study, breakdown, from_rows=False)
                    == _report(session, study, breakdown, from_rows=True)), (
                state, study.slug, breakdown)


@postgresql_only
def test_reports_from_kept_counts_are_reports_from_rows(demo_sessions):
    t = report_counts.c
    with demo_sessions() as session:
        try:
            _writes(session)  # its last check recounts: everything is folded
            # Fresh rows on top, unfolded: a report sums them with the folded ones.
            study = session.scalar(select(Study).order_by(Study.id))
            moved = _some(session, Participant, 2, Participant.study_id == study.id,
                          Participant.site.is_not(None))
            session.execute(update(Participant).where(Participant.id == moved[0].id)
                            .values(site=moved[1].site, baseline_1=func.coalesce(
                                Participant.baseline_1, 0) + 1))
            session.execute(update(Response).where(Response.participant_id == moved[1].id)
                            .values(score_1=func.coalesce(Response.score_1, 5) + 2))
            session.flush()
            assert session.scalar(select(func.count()).where(~t.folded)) > 0
            _same_reports(session, "with fresh rows")
            kept.fold(session)
            assert session.scalar(select(func.count()).where(~t.folded)) == 0
            _same_reports(session, "folded")
        finally:
            session.rollback()


def test_a_figure_not_read_is_an_error_not_zero(demo_sessions):
    with demo_sessions() as session:
        study = session.scalar(select(Study).order_by(Study.id))
        counts = kept.KeptCounts(study, [("attrition", "", [])], figures=("attrition",))
        assert counts.rows("attrition") == []
        with pytest.raises(LookupError, match="'answer' was not read"):
            counts.rows("answer")


def _check_counts(demo_url, tmp_path, *args):
    env = {**os.environ, "SURVEYS_DATABASE_URL": demo_url,
           "SURVEYS_SECRET_KEY": "report-tests-" + "x" * 32,  # the demo's (conftest)
           "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance")}
    return subprocess.run([SURVEYS, "report", "check-counts", *args], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


@postgresql_only
def test_check_counts_finds_a_wrong_count_and_repairs_it_only_when_asked(
        demo_url, demo_sessions, tmp_path):
    done = _check_counts(demo_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ehd-2024: all " in done.stdout and "agree with the rows" in done.stdout
    with demo_sessions() as session:
        study_id = session.scalar(select(Study.id).where(Study.slug == "ehd-2024"))
        session.execute(report_counts.insert().values(
            study_id=study_id, dim="", figure="people", n=5))
        session.commit()

    done = _check_counts(demo_url, tmp_path, "--study", "ehd-2024")
    assert done.returncode == 1
    assert done.stdout.strip() == ("ehd-2024: 1 of " + done.stdout.split(" of ")[1].split()[0]
                                   + " kept figures differ from the rows; run again with "
                                   "--repair to recount them.")
    assert _check_counts(demo_url, tmp_path).returncode == 1  # nothing was changed

    done = _check_counts(demo_url, tmp_path, "--repair")
    assert done.returncode == 0 and "ehd-2024: 1 of " in done.stdout
    assert "recounted" in done.stdout
    done = _check_counts(demo_url, tmp_path)
    assert done.returncode == 0 and "differ" not in done.stdout


def test_check_counts_on_sqlite_says_there_is_nothing_to_check(demo_url, tmp_path):
    if os.environ.get("SURVEYS_TEST_DATABASE_URL"):
        pytest.skip("SQLite only")
    done = _check_counts(demo_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("This database counts every report from its rows: "
                           "there are no kept counts to check.\n")
