"""Telephone waves of the demo, replayed through the service's own code.

The real dispatcher issues each questionnaire onto the call list on the day it falls due;
each scripted call (surveys/demo/ffws.py `CallScript`) is recorded with
`surveys.invitations.calls.record_attempt`, which decides when the next call is due, and a
completed interview is filled in page by page and submitted as an interviewer's telephone
entry is (surveys.responses.questionnaire), so the response records mode, interviewer and
calls. A live wave's scripts stop at `now`: what is left is today's call list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from instruments import visible_pages
from scheduler.jobs import dispatch
from surveys.demo.ffws import CallScript
from surveys.invitations import calls, windows
from surveys.invitations.mailer import Mailer
from surveys.models import CallAttempt, CallOutcome, Invitation, InvitationStatus, Study, User, Wave
from surveys.reports.cache import one_stamp
from surveys.responses import questionnaire
from surveys.settings import Settings

# Call backs booked shortly before the demo was loaded, in local time: later today (those
# still ahead of `now`) and on the next calling day.
LATER_TODAY = (time(10, 30), time(11, 45), time(13, 15), time(14, 30), time(15, 45),
               time(17, 0), time(18, 15))
TOMORROW = (time(10, 0), time(11, 30), time(13, 0), time(14, 30), time(16, 0), time(17, 30))


def replay(session: Session, study: Study, scripts: dict[str, dict[str, CallScript]],
           now: datetime, settings: Settings, mailer: Mailer, interviewer: User,
           dispatch_at: Callable[[date], datetime]) -> None:
    """Run the dispatcher on each day questionnaires fall due, then make their calls."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    due_days = sorted(set(session.scalars(
        select(Invitation.due_on).join(Wave, Wave.id == Invitation.wave_id)
        .where(Wave.study_id == study.id).distinct())))
    passes = [dispatch_at(day) for day in due_days if dispatch_at(day) <= now] + [now]
    # Thousands of small writes: the report-cache stamp moves once, not at each savepoint.
    with one_stamp(session):
        _replay(session, study, scripts, now, passes, factory, settings, mailer, interviewer)
    session.commit()


def _replay(session: Session, study: Study, scripts: dict[str, dict[str, CallScript]],
            now: datetime, passes: list[datetime], factory: sessionmaker, settings: Settings,
            mailer: Mailer, interviewer: User) -> None:
    for at in passes:
        session.commit()  # the dispatcher works in its own transactions
        dispatch(factory, at, settings, mailer)
        issued = session.scalars(
            select(Invitation)
            .options(joinedload(Invitation.wave).joinedload(Wave.study),
                     joinedload(Invitation.participant))
            .join(Wave, Wave.id == Invitation.wave_id)
            .where(Wave.study_id == study.id, Invitation.issued_at == at,
                   Invitation.status == InvitationStatus.ISSUED)
            .order_by(Invitation.id)).all()
        interviews = []
        with session.no_autoflush:  # a pass's calls are written together, then interviews
            for inv in issued:
                script = scripts[inv.wave.code][inv.participant.ref]
                if (started := _play(session, inv, script, now, interviewer)) is not None:
                    interviews.append((inv, script, started))
        for inv, script, started in interviews:
            _interview(session, inv, script, started, interviewer)
    session.commit()


def _calling_day(study: Study, moment: datetime, days: int) -> datetime:
    """When calling hours open `days` local days after `moment`."""
    tz = windows.zone(study.time_zone)
    day = windows.local_today(study.time_zone, moment) + timedelta(days=days)
    return windows.next_open(study.send_window, study.time_zone,
                             datetime.combine(day, time(0), tzinfo=tz))


def _play(session: Session, inv: Invitation, script: CallScript, now: datetime,
          interviewer: User) -> datetime | None:
    """Make the script's calls, each when the service says the next one is due, up to now.
    Returns when the interview started, if the last call reached the client."""
    study = inv.wave.study
    previous = None
    for number, call in enumerate(script.calls):
        due = inv.next_call_at
        if due is None:
            return None
        if number == 0 and script.first_call_days:
            due = _calling_day(study, due, script.first_call_days)
        # A call back is made when asked; other calls some time into the calling day.
        delay = call.delay_minutes % 11 if previous == CallOutcome.CALL_BACK else \
            call.delay_minutes
        at = due + timedelta(minutes=delay)
        ends = at + timedelta(minutes=script.interview_minutes
                              if call.outcome == CallOutcome.COMPLETED else 0)
        if ends >= now:
            return None  # the rest is still to come
        call_back = None
        if call.outcome == CallOutcome.CALL_BACK:
            call_back = windows.next_open(study.send_window, study.time_zone,
                                          at + timedelta(minutes=call.call_back_minutes or 60))
        calls.record_attempt(session, inv, call.outcome, at, interviewer.id, call_back)
        if call.outcome == CallOutcome.COMPLETED:
            return at
        previous = call.outcome
    return None


def _interview(session: Session, inv: Invitation, script: CallScript, at: datetime,
               interviewer: User) -> None:
    """The interviewer enters the client's answers page by page, then submits them."""
    answers = script.answers or {}
    response = questionnaire.start(session, inv, at, mode="telephone", entered_by=interviewer)
    instrument = questionnaire.instrument_for(inv)
    for page in visible_pages(instrument, answers):
        questionnaire.save_page(response, instrument, page,
                                {q.id: answers.get(q.id) for q in page.questions})
    missing = questionnaire.missing_required(instrument, response)
    if missing or not questionnaire.submit_by_telephone(
            session, response, instrument, inv, interviewer.id,
            at + timedelta(minutes=script.interview_minutes)):
        raise RuntimeError(f"demo interview {script.ref} {script.wave} not filed: {missing}")


def book_call_backs(session: Session, wave: Wave, now: datetime, interviewer: User,
                    overdue: int, later_today: int, tomorrow: int) -> int:
    """Clients who, on a call shortly before `now`, asked to be called back: some at a time
    already past (due now, the call back not yet made), some later today (those of
    LATER_TODAY still ahead of `now`), some on the next calling day. Returns how many."""
    study = wave.study
    anchor = _calling_before(study, now, minutes=150)
    local = windows.zone(study.time_zone)
    today = windows.local_today(study.time_zone, now)
    next_day = windows.local_today(study.time_zone, _calling_day(study, now, 1))
    ahead = [moment for moment in (datetime.combine(today, t, tzinfo=local)
                                   for t in LATER_TODAY)
             if moment > now + timedelta(minutes=15)
             and windows.is_open(study.send_window, study.time_zone, moment)][:later_today]
    ahead += [datetime.combine(next_day, t, tzinfo=local) for t in TOMORROW][:tomorrow]
    # (when the client asked, the time they asked for), a few minutes apart.
    bookings = [(anchor - timedelta(minutes=120 + 3 * n), anchor - timedelta(minutes=3 * n))
                for n in range(overdue)]
    bookings += [(anchor - timedelta(minutes=3 * n), target) for n, target in enumerate(ahead)]
    # Clients still being called, whose last call (if any) came before these.
    first = anchor - timedelta(minutes=150)
    last_call = (select(func.max(CallAttempt.at))
                 .where(CallAttempt.invitation_id == Invitation.id).scalar_subquery())
    candidates = session.scalars(
        select(Invitation).where(
            Invitation.wave_id == wave.id, Invitation.status == InvitationStatus.ISSUED,
            Invitation.next_call_at.is_not(None), Invitation.issued_at < first,
            or_(last_call.is_(None), last_call < first),
            Invitation.calls < wave.max_calls - 1, Invitation.closes_on > next_day)
        .order_by(Invitation.id).limit(len(bookings))).all()
    for inv, (booked_at, target) in zip(candidates, bookings, strict=False):
        calls.record_attempt(session, inv, CallOutcome.CALL_BACK, booked_at, interviewer.id,
                             target)
    session.flush()
    return min(len(candidates), len(bookings))


def _calling_before(study: Study, now: datetime, minutes: int) -> datetime:
    """The last moment, at least ten minutes before `now`, that had been inside calling
    hours for `minutes` (so several calls could be made one after another)."""
    moment = now - timedelta(minutes=10)
    for _ in range(8 * 24 * 12):  # five-minute steps, at most eight days back
        if all(windows.is_open(study.send_window, study.time_zone,
                               moment - timedelta(minutes=back))
               for back in range(0, minutes + 1, 30)):
            return moment
        moment -= timedelta(minutes=5)
    raise ValueError("the study's calling hours never open")
