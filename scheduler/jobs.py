"""One dispatcher pass: short transactions, each safe to run in several processes at once."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from surveys import audit, chores, invitations, privacy, throttle
from surveys.invitations.emails import build_email
from surveys.invitations.mailer import Mailer
from surveys.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    closed: int = 0
    issued: int = 0
    out_of_window: int = 0
    lapsed: int = 0
    reminders: int = 0
    sent: int = 0
    failed_attempts: int = 0
    cancelled: int = 0  # claimed but not sent: answered, closed or no address by then
    contacts_erased: int = 0


def dispatch(
    session_factory: sessionmaker, now: datetime, settings: Settings, mailer: Mailer
) -> DispatchReport:
    report = DispatchReport()
    with session_factory() as session, session.begin():
        report.closed = invitations.close_expired(session, now)
    after = None  # where the last batch ended: each batch reads on from there
    while True:
        with session_factory() as session, session.begin():
            result = invitations.issue_due(session, now, settings.secret_key, after=after)
        after = result.last
        report.issued += result.issued
        report.out_of_window += result.out_of_window
        report.lapsed += result.lapsed
        if result.issued + result.out_of_window + result.lapsed == 0:
            break
    while True:
        with session_factory() as session, session.begin():
            queued = invitations.queue_reminders(session, now)
        report.reminders += queued
        if not queued:
            break
    deliver(session_factory, now, settings, mailer, report)
    tidy(session_factory, now, settings, report)
    if any(vars(report).values()):
        log.info("dispatch at %s: %s", now.isoformat(), report)
    return report


def tidy(session_factory: sessionmaker, now: datetime, settings: Settings,
         report: DispatchReport) -> None:
    """Erase contact details no invitation needs any more (at most once per
    `contact_cleanup_minutes`, in one process); forget old failed attempts."""
    every = timedelta(minutes=settings.contact_cleanup_minutes)
    with session_factory() as session, session.begin():
        if chores.claim(session, "contact_cleanup", now, every):
            report.contacts_erased = privacy.erase_spent_contact_details(session, now)
        if report.contacts_erased:
            audit.record(session, now, None, "contact_details_erased", actor="scheduler",
                         participants=report.contacts_erased)
        throttle.purge(session, now)


def message_id(secret: str, inv) -> str:
    """The same Message-ID for every try of one message, so a copy resent after a
    crash between sending and recording it is recognisably the same message
    (mail systems that de-duplicate by Message-ID show it once)."""
    seed = f"{inv.nonce}:{inv.delivery_kind}"  # one invitation and at most one reminder
    digest = hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()[:40]
    return f"<{digest}@surveys.invalid>"


def deliver(
    session_factory: sessionmaker,
    now: datetime,
    settings: Settings,
    mailer: Mailer,
    report: DispatchReport,
) -> None:
    """Send pending emails one row at a time, committing after each.

    A crash can at worst resend the one message in flight; a refusing or absent
    mail server schedules a retry with backoff and, after the last, marks the
    invitation failed for researchers to see. Each claimed row is checked again
    before sending (invitations.cancel_reason): nothing goes to a client who has
    answered, for a closed link, or to an erased address.
    """
    while True:
        with session_factory() as session, session.begin():
            claimed = invitations.claim_deliveries(session, now, limit=1)
            if not claimed:
                return
            inv = claimed[0]
            reason = invitations.cancel_reason(session, inv, now)
            if reason is not None:
                invitations.cancel_delivery(inv, reason)
                report.cancelled += 1
                continue
            participant = inv.participant
            error = None
            try:
                message = build_email(
                    kind=inv.delivery_kind,
                    to=participant.email,
                    sender=settings.mail_from,
                    language=participant.language,
                    link=invitations.link_for(settings.base_url, settings.secret_key, inv),
                    closes_on=inv.closes_on,
                    wave=inv.wave,
                )
                message.replace_header("Message-ID", message_id(settings.secret_key, inv))
                mailer.send(message)
            except Exception as exc:  # any mail failure is retried, never lost
                error = f"{type(exc).__name__}: {exc}"
                log.warning("email for invitation %s failed: %s", inv.id, error)
            invitations.record_delivery(
                inv,
                now,
                error,
                retry_limit=settings.mail_retry_limit,
                base_seconds=settings.mail_retry_base_seconds,
            )
            if error is None:
                report.sent += 1
            else:
                report.failed_attempts += 1
