"""The dispatcher: due dates, reminders, closing, retries, and nothing issued twice."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from scheduler.jobs import dispatch
from scheduler.runner import _tick, make_scheduler
from surveys.cohort.importer import import_cohort
from surveys.models import Invitation
from surveys.studies import resolve_study
from tests.helpers import participants_csv, person


def load(session_factory, *people) -> None:
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        import_cohort(s, study, participants_csv(*people))
        s.commit()


def statuses(session_factory) -> dict[tuple[str, str], tuple[str, str]]:
    with session_factory() as s:
        return {
            (inv.participant.ref, inv.wave.code): (inv.status, inv.delivery_status)
            for inv in s.scalars(select(Invitation))
        }


def test_reminder_after_seven_days_then_closing_after_twenty_eight(
    session_factory, settings, mailer, smtp, clock
):
    load(session_factory, person("R-1", clock().date(), email="r1@example.org"))
    dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("r1@example.org")) == 1
    clock.advance(days=6)
    dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("r1@example.org")) == 1
    clock.advance(days=1)
    assert dispatch(session_factory, clock(), settings, mailer).reminders == 1
    dispatch(session_factory, clock(), settings, mailer)
    messages = smtp.to("r1@example.org")
    assert len(messages) == 2 and messages[1]["Subject"].startswith("Reminder")
    clock.advance(days=22)  # day 29: the link has closed
    assert dispatch(session_factory, clock(), settings, mailer).closed == 1
    assert statuses(session_factory)[("R-1", "wave1")][0] == "closed"


def test_refused_email_is_retried_with_backoff_then_shown_as_failed(
    session_factory, settings, mailer, smtp, clock
):
    smtp.refuse = True
    load(session_factory, person("F-1", clock().date(), email="f1@example.org"))
    report = dispatch(session_factory, clock(), settings, mailer)
    assert report.issued == 1 and report.failed_attempts == 1
    # The next try waits 60 s, then 120 s; the third failure is the last (limit 3).
    clock.advance(seconds=30)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 0
    clock.advance(seconds=30)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 1
    clock.advance(seconds=120)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 1
    assert statuses(session_factory)[("F-1", "wave1")] == ("issued", "failed")
    clock.advance(days=1)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 0
    assert smtp.messages == []


def test_mail_server_down_then_back_delivers_once(session_factory, settings, clock, smtp):
    from surveys.invitations.mailer import SmtpMailer

    load(session_factory, person("D-1", clock().date(), email="d1@example.org"))
    down = SmtpMailer("127.0.0.1", 9, timeout=2)  # nothing listens on the discard port
    assert dispatch(session_factory, clock(), settings, down).failed_attempts == 1
    clock.advance(minutes=2)
    up = SmtpMailer("127.0.0.1", smtp.port)
    assert dispatch(session_factory, clock(), settings, up).sent == 1
    assert dispatch(session_factory, clock(), settings, up).sent == 0
    assert len(smtp.to("d1@example.org")) == 1


def test_a_restart_loses_nothing_and_issues_nothing_twice(
    session_factory, settings, mailer, smtp, clock
):
    start = clock().date()
    load(session_factory, *(person(f"P-{i}", start - timedelta(days=i), email=f"p{i}@example.org")
                            for i in range(5)))
    first = dispatch(session_factory, clock(), settings, mailer)
    assert first.issued == 5 and first.sent == 5
    # A second process, or the same one after a restart, finds nothing left to do.
    second = dispatch(session_factory, clock(), settings, mailer)
    assert (second.issued, second.sent) == (0, 0)
    with session_factory() as s:
        hashes = s.scalars(select(Invitation.token_hash).where(Invitation.token_hash.is_not(None)))
        assert len(set(hashes.all())) == 5


def test_a_cohort_imported_after_its_window_is_not_issued_late(session_factory, settings, mailer,
                                                                clock):
    load(session_factory, person("L-1", clock().date() - timedelta(days=100)))
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.issued, report.lapsed) == (0, 2)


def test_changing_the_schedule_moves_unissued_invitations(session_factory, clock):
    from surveys.invitations import reschedule_wave
    from surveys.studies import wave_by_code

    load(session_factory, person("M-1", date(2026, 3, 2)))
    with session_factory() as s:
        study = resolve_study(s, None)
        wave = wave_by_code(study, "wave2")
        wave.offset_days = 28
        assert reschedule_wave(s, study, wave) == 1
        s.commit()
        due = s.scalar(select(func.max(Invitation.due_on)))
    assert due == date(2026, 3, 30)


def _answer_by_web(app, smtp, address: str) -> None:
    from tests.helpers import WAVE1_ANSWERS, token_from
    from tests.test_core_loop import answer_everything

    answer_everything(app.test_client(), token_from(smtp.to(address)[0]), WAVE1_ANSWERS)


def test_a_reminder_queued_before_the_answer_is_not_sent_and_researchers_see_why(
    app, session_factory, settings, mailer, smtp, clock
):
    from surveys import invitations
    from surveys.models import User
    from tests.security.conftest import act_as

    load(session_factory, person("Q-1", clock().date(), email="q1@example.org"))
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=7)
    with session_factory() as s:  # e.g. another dispatcher process, a moment earlier
        assert invitations.queue_reminders(s, clock()) == 1
        s.commit()
    _answer_by_web(app, smtp, "q1@example.org")
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.sent, report.cancelled) == (0, 1)
    assert len(smtp.to("q1@example.org")) == 1  # the invitation only, no reminder
    assert statuses(session_factory)[("Q-1", "wave1")] == ("completed", "cancelled")
    clock.advance(days=1)
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    with session_factory() as s:
        from surveys.accounts import create_user

        create_user(s, "r@example.org", "a long and proper passphrase 2024", "researcher")
        s.commit()
        assert s.scalar(select(func.count()).select_from(User)) == 1
    staff = app.test_client()
    act_as(staff, session_factory, "researcher")
    html = staff.get("/staff/studies/default/invitations").get_data(as_text=True)
    assert "not sent" in html and "Reminder: already answered" in html


class _SignalMidPass:
    """A mail server that is sent one message, then the process is told to stop (the
    service manager's signal arrives while the pass is sending)."""

    def __init__(self, mailer, stop: threading.Event, hang: threading.Event | None = None):
        self.mailer, self.stop, self.hang = mailer, stop, hang

    def send(self, message) -> None:
        self.mailer.send(message)
        self.stop.set()
        if self.hang is not None:  # and the mail server then stops answering
            self.hang.wait(timeout=10)


def test_a_pass_told_to_stop_ends_after_the_message_in_hand_and_the_next_sends_the_rest(
    session_factory, settings, mailer, smtp, clock
):
    load(session_factory, *(person(f"S-{i}", clock().date(), email=f"s{i}@example.org")
                            for i in range(4)))
    stop = threading.Event()
    stopped = dispatch(session_factory, clock(), settings, _SignalMidPass(mailer, stop),
                       stop=stop)
    assert (stopped.issued, stopped.sent) == (4, 1)
    assert len(smtp.messages) == 1
    rest = dispatch(session_factory, clock(), settings, mailer)
    assert (rest.issued, rest.sent) == (0, 3)
    assert sorted(m["To"] for m in smtp.messages) == [f"s{i}@example.org" for i in range(4)]


def test_stopping_the_scheduler_waits_for_the_pass_in_hand_but_not_for_ever(
    session_factory, settings, mailer, smtp, clock
):
    load(session_factory, person("W-1", clock().date(), email="w1@example.org"))
    hang = threading.Event()
    dispatcher = make_scheduler(session_factory, clock, settings, mailer)
    hanging = _SignalMidPass(mailer, dispatcher.stop_requested, hang)
    worker = threading.Thread(target=_tick, args=(dispatcher, session_factory, clock,
                                                  settings, hanging))
    worker.start()
    try:
        assert dispatcher.stop_requested.wait(timeout=30)  # the pass is sending
        assert dispatcher.stop(grace=0.2) is False  # a hung send is not waited for
        hang.set()
        assert dispatcher.stop(grace=30) is True
    finally:
        hang.set()
        worker.join()
    assert len(smtp.to("w1@example.org")) == 1
    # Once stopping, no further pass starts.
    _tick(dispatcher, session_factory, clock, settings, mailer)
    assert len(smtp.messages) == 1
