"""A mail server that refuses or is down: retried with backoff, then shown as failed to
researchers after the last try; never silently dropped, never sent twice."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.invitations.mailer import SmtpMailer
from surveys.models import Invitation
from surveys.studies import resolve_study
from tests.conftest import free_port
from tests.helpers import participants_csv, person
from tests.security.conftest import act_as


def load_one(session_factory, clock, email="retry@example.org") -> None:
    with session_factory() as s:
        import_cohort(s, resolve_study(s, None, create=True),
                      participants_csv(person("M-1", clock().date(), email=email)))
        s.commit()


def wave1(session_factory) -> Invitation:
    with session_factory() as s:
        return s.scalar(select(Invitation).where(Invitation.wave.has(code="wave1"),
                                                 Invitation.participant.has(ref="M-1")))


def run_until_given_up(session_factory, settings, mailer, clock) -> list[tuple]:
    """Dispatch at each retry time; return (seconds since start, attempts, status) per try."""
    start = clock()
    seen = []
    for _ in range(10):
        report = dispatch(session_factory, clock(), settings, mailer)
        inv = wave1(session_factory)
        if report.failed_attempts:
            seen.append((int((clock() - start).total_seconds()), inv.attempts,
                         inv.delivery_status))
        if inv.delivery_status != "pending":
            break
        # Just before the next try nothing happens; at it, one more attempt.
        clock.set(inv.next_attempt_at - timedelta(seconds=1))
        assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 0
        clock.set(inv.next_attempt_at)
    return seen


def test_a_refusing_server_gets_three_tries_then_researchers_see_failed(
    app, session_factory, settings, mailer, smtp, clock, world
):
    smtp.refuse = True
    load_one(session_factory, clock)
    tries = run_until_given_up(session_factory, settings, mailer, clock)
    # Backoff 60 s then 120 s; the third failure is the last (retry limit 3).
    assert tries == [(0, 1, "pending"), (60, 2, "pending"), (180, 3, "failed")]
    assert "554" in wave1(session_factory).last_error
    # The server recovers: a failed email stays failed (a researcher decides), not resent.
    smtp.refuse = False
    clock.advance(days=1)
    dispatch(session_factory, clock(), settings, mailer)
    assert smtp.to("retry@example.org") == []
    researcher = app.test_client()
    act_as(researcher, session_factory, "researcher")
    page = researcher.get("/staff/studies/default/invitations?status=failed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "M-1" in html and "failed" in html and "554" in html
    dashboard = researcher.get("/staff/").get_data(as_text=True)
    assert "could not be delivered after every retry" in dashboard


def test_a_server_that_is_down_is_retried_the_same_way(
    session_factory, settings, smtp, clock
):
    down = dataclasses.replace(settings, smtp_port=free_port())
    load_one(session_factory, clock)
    tries = run_until_given_up(session_factory, down, SmtpMailer("127.0.0.1", down.smtp_port,
                                                                timeout=2), clock)
    assert [t[1:] for t in tries] == [(1, "pending"), (2, "pending"), (3, "failed")]
    assert "Connection" in wave1(session_factory).last_error or "refused" in wave1(
        session_factory).last_error


def test_a_server_that_comes_back_before_the_last_try_gets_the_email_once(
    session_factory, settings, mailer, smtp, clock
):
    smtp.refuse = True
    load_one(session_factory, clock)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 1
    smtp.refuse = False
    clock.advance(seconds=60)
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    clock.advance(days=1)
    dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("retry@example.org")) == 1
    assert wave1(session_factory).delivery_status == "sent"


def answer_by_web(app, smtp, address: str = "retry@example.org") -> None:
    from tests.helpers import WAVE1_ANSWERS, token_from
    from tests.test_core_loop import answer_everything

    answer_everything(app.test_client(), token_from(smtp.to(address)[0]), WAVE1_ANSWERS)


def reminder_held_by_an_outage(session_factory, settings, mailer, smtp, clock) -> None:
    """The invitation is delivered; on day 7 the reminder is queued but the server refuses."""
    load_one(session_factory, clock)
    dispatch(session_factory, clock(), settings, mailer)
    smtp.refuse = True
    clock.advance(days=7)
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.reminders, report.failed_attempts) == (1, 1)
    smtp.refuse = False


def test_a_reminder_retried_after_an_outage_is_not_sent_once_the_client_answered(
    app, session_factory, settings, mailer, smtp, clock
):
    reminder_held_by_an_outage(session_factory, settings, mailer, smtp, clock)
    answer_by_web(app, smtp)
    clock.advance(seconds=60)  # the retry is due
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.sent, report.cancelled) == (0, 1)
    clock.advance(days=1)
    dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("retry@example.org")) == 1  # the invitation alone
    inv = wave1(session_factory)
    assert (inv.status, inv.delivery_status, inv.last_error) == (
        "completed", "cancelled", "answered")


def test_a_reminder_still_waiting_when_the_link_closes_is_not_sent(
    session_factory, settings, mailer, smtp, clock
):
    reminder_held_by_an_outage(session_factory, settings, mailer, smtp, clock)
    clock.advance(days=22)  # the service was down until after the closing date
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.closed, report.sent, report.cancelled) == (1, 0, 1)
    assert len(smtp.to("retry@example.org")) == 1
    inv = wave1(session_factory)
    assert (inv.status, inv.delivery_status, inv.last_error) == ("closed", "cancelled", "closed")


def test_an_invitation_email_held_by_an_outage_is_not_sent_after_a_telephone_answer(
    session_factory, settings, mailer, smtp, clock
):
    from surveys.responses.importer import import_responses
    from surveys.studies import wave_by_code

    smtp.refuse = True
    load_one(session_factory, clock)
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 1
    smtp.refuse = False
    with session_factory() as s:  # answered by telephone meanwhile
        study = resolve_study(s, None)
        import_responses(s, study, wave_by_code(study, "wave1"),
                         "participant_ref,submitted_on,mode\n"
                         f"M-1,{clock().date()},telephone\n")
        s.commit()
    clock.advance(seconds=60)
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.sent, report.cancelled) == (0, 1)
    assert smtp.to("retry@example.org") == []


def test_a_reminder_held_by_an_outage_is_not_sent_after_the_client_is_erased(
    session_factory, settings, mailer, smtp, clock
):
    from surveys.privacy import erase_participant

    reminder_held_by_an_outage(session_factory, settings, mailer, smtp, clock)
    with session_factory() as s:
        erase_participant(s, resolve_study(s, None), "M-1")
        s.commit()
    clock.advance(seconds=60)
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    assert len(smtp.to("retry@example.org")) == 1
