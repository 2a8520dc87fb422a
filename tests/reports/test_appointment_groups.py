"""Participants keep their main channel, appointments attended and change in work ability
(migration 0017's triggers), and those kept values always equal what the appointments say.

The report's channel and appointments breakdowns read participants.main_channel and
participants.appointments_attended, its work ability table participants.workability_change;
the definitions (queries.main_channels, queries.attended_counts and
queries.workability_changes) are worked out from the appointments here after every kind of
write: ORM inserts, a bulk INSERT ... SELECT, updates of channel, attendance, date, score
(given, changed, taken away) and owner, deletes (one and many) and a participant's
deletion cascading. SQLite and PostgreSQL (row triggers there, statement triggers with
transition tables here).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import delete, func, select, text, update

from surveys.models import Appointment, Participant
from surveys.reports import queries
from tests.helpers import make_study

CHANNELS = ("telephone", "face_to_face_site", "face_to_face_neutral", "video")
ATTENDANCE = ("attended", "unable_to_attend", "failed_to_attend")


def _kept(session, study) -> dict[int, tuple[str | None, int, str]]:
    return {pid: (channel, attended, change) for pid, channel, attended, change
            in session.execute(
                select(Participant.id, Participant.main_channel,
                       Participant.appointments_attended, Participant.workability_change)
                .where(Participant.study_id == study.id))}


def _worked_out(session, study) -> dict[int, tuple[str | None, int, str]]:
    channels = queries.main_channels(study)
    attended = queries.attended_counts(study)
    changes = queries.workability_changes(study)
    rows = session.execute(
        select(Participant.id, channels.c.channel, func.coalesce(attended.c.attended, 0),
               changes.c.category)
        .outerjoin(channels, channels.c.participant_id == Participant.id)
        .outerjoin(attended, attended.c.participant_id == Participant.id)
        .join(changes, changes.c.participant_id == Participant.id)
        .where(Participant.study_id == study.id))
    return {pid: (channel, int(n), change) for pid, channel, n, change in rows}


def _check(session, study) -> None:
    session.flush()
    session.expire_all()
    assert _kept(session, study) == _worked_out(session, study)


def test_kept_groups_follow_every_write(session_factory):
    rng = random.Random(16)
    with session_factory() as session:
        study = make_study(session, "groups", waves=[{"code": "wave1"}])
        people = [Participant(study_id=study.id, ref=f"G-{i}", site="A",
                              completed_on=date(2026, 1, 5)) for i in range(40)]
        session.add_all(people)
        session.flush()
        _check(session, study)  # no appointments: no channel, none attended
        assert set(_kept(session, study).values()) == {(None, 0, "none")}

        # ORM inserts, a few per client, dates and channels at random (ties included).
        for person in people[:30]:
            for _ in range(rng.randint(1, 4)):
                session.add(Appointment(
                    participant_id=person.id, channel=rng.choice(CHANNELS),
                    attendance=rng.choice(ATTENDANCE),
                    appointment_on=date(2025, 10, 1) + timedelta(days=rng.randint(0, 3)),
                    workability=rng.choice([None, *range(11)])))
            session.flush()
        _check(session, study)

        # A tie between two channels goes to the one used most recently, then by name.
        tied = people[30]
        session.add_all([
            Appointment(participant_id=tied.id, channel="video", attendance="attended",
                        appointment_on=date(2025, 10, 1)),
            Appointment(participant_id=tied.id, channel="telephone", attendance="attended",
                        appointment_on=date(2025, 10, 2))])
        _check(session, study)
        assert _kept(session, study)[tied.id] == ("telephone", 2, "none")

        # One bulk INSERT ... SELECT for many clients at once.
        session.execute(text("""
            INSERT INTO appointments (participant_id, appointment_on, channel, attendance)
            SELECT id, :day, 'video', 'attended' FROM participants
            WHERE study_id = :study AND id % 3 = 0"""),
            {"day": date(2025, 11, 1), "study": study.id})
        _check(session, study)

        # Updates: channel, attendance, date, and an appointment moving to another client.
        some = session.scalars(select(Appointment.id).order_by(Appointment.id)).all()
        for appointment_id in rng.sample(some, 15):
            session.execute(update(Appointment).where(Appointment.id == appointment_id).values(
                channel=rng.choice(CHANNELS), attendance=rng.choice(ATTENDANCE)))
        session.execute(update(Appointment).where(Appointment.id == some[0]).values(
            appointment_on=date(2026, 1, 1)))
        session.execute(update(Appointment).where(Appointment.id == some[1]).values(
            participant_id=people[39].id))
        session.execute(update(Appointment).where(Appointment.channel == "video").values(
            attendance="attended"))  # many rows in one statement
        for appointment_id in rng.sample(some, 10):  # scores given, changed and taken away
            session.execute(update(Appointment).where(Appointment.id == appointment_id).values(
                workability=rng.choice([None, 0, 5, 10])))
        _check(session, study)

        # Deletes: one, then every telephone appointment, then a client with theirs.
        session.execute(delete(Appointment).where(Appointment.id == some[2]))
        _check(session, study)
        session.execute(delete(Appointment).where(Appointment.channel == "telephone"))
        _check(session, study)
        session.delete(people[5])
        _check(session, study)
        # Not vacuous: the writes left clients in every group of the work ability table.
        changes = {change for _, _, change in _kept(session, study).values()}
        assert changes == {"improved", "same", "deteriorated", "single", "none"}
        session.commit()


def test_the_channel_breakdown_reads_the_kept_column(session_factory):
    with session_factory() as session:
        study = make_study(session, "groups", waves=[{"code": "wave1"}])
        person = Participant(study_id=study.id, ref="C-1", site="A",
                             completed_on=date(2026, 1, 5))
        session.add(person)
        session.flush()
        session.add(Appointment(participant_id=person.id, channel="video",
                                attendance="failed_to_attend",
                                appointment_on=date(2025, 10, 1)))
        session.flush()
        channel = queries.dimension(study, "channel")
        attended = queries.dimension(study, "appointments")
        assert queries.group_people(session, channel) == {"video": 1}
        assert queries.group_people(session, attended) == {"0": 1}
