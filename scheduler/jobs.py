"""One dispatcher pass: short transactions, each safe to run in several processes at once."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys import audit, chores, invitations, phones, privacy, throttle
from surveys.i18n import client_language, programme_name
from surveys.invitations import notify
from surveys.invitations.emails import build_email
from surveys.invitations.mailer import Mailer, OutboxMailer
from surveys.models import Message, MessageStatus
from surveys.reports import kept
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
    receipts: int = 0  # messages whose outcome GOV.UK Notify reported


def dispatch(
    session_factory: sessionmaker,
    now: datetime,
    settings: Settings,
    mailer: Mailer,
    *,
    stop: threading.Event | None = None,
) -> DispatchReport:
    """One pass. When `stop` is set (the process is shutting down) the pass ends after the
    transaction in hand: every step is its own short transaction, so what is left is
    simply done by the next pass, in this process or another."""
    report = DispatchReport()
    stopping = stop.is_set if stop is not None else (lambda: False)
    with session_factory() as session, session.begin():
        report.closed = invitations.close_expired(session, now)
    after = None  # where the last batch ended: each batch reads on from there
    while not stopping():
        with session_factory() as session, session.begin():
            result = invitations.issue_due(session, now, settings.secret_key, after=after)
        after = result.last
        report.issued += result.issued
        report.out_of_window += result.out_of_window
        report.lapsed += result.lapsed
        if result.issued + result.out_of_window + result.lapsed == 0:
            break
    while not stopping():
        with session_factory() as session, session.begin():
            queued = invitations.queue_reminders(session, now)
        report.reminders += queued
        if not queued:
            break
    deliver(session_factory, now, settings, mailer, report, stopping)
    if not stopping():
        report.receipts = notify.poll_receipts(session_factory, now, settings)
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
    with session_factory() as session, session.begin():
        kept.fold(session)


def message_id(secret: str, inv) -> str:
    """The same Message-ID for every try of one message, so a copy resent after a
    crash between sending and recording it is recognisably the same message
    (mail systems that de-duplicate by Message-ID show it once)."""
    return message_id_for(secret, inv.nonce, inv.delivery_kind, invitations.slot_sequence(inv))


def message_id_for(secret: str, nonce: str, kind: str, sequence: int) -> str:
    """The Message-ID of one message of an invitation (Message.kind and sequence): erasure
    finds the outbox copies of a participant's emails by these."""
    seed = f"{nonce}:{kind}"
    if kind == "resend" or (kind == "reminder" and sequence > 1):
        # Each copy sent again has its own (the invitation and the first reminder keep
        # the IDs they always had).
        seed += f":{sequence}"
    digest = hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()[:40]
    return f"<{digest}@surveys.invalid>"


def deliver(
    session_factory: sessionmaker,
    now: datetime,
    settings: Settings,
    mailer: Mailer,
    report: DispatchReport,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Send pending messages one invitation at a time, committing after each: over each of
    the wave's channels the participant has (send_channels), by SMTP or GOV.UK Notify.

    A crash can at worst resend the one message in flight; a refusing or absent
    mail server schedules a retry with backoff and, after the last, marks the
    invitation failed for researchers to see. Each claimed row is checked again
    before sending (invitations.cancel_reason): nothing goes to a client who has
    answered, for a closed link, or to an erased address.
    """
    while not stopping():
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
            held = invitations.hold_until(session, inv, now)  # the study's window is shut
            if held is not None:
                inv.next_attempt_at = held
                continue
            error, went = send_channels(session, inv, now, settings, mailer)
            if went is None:  # nothing can go: every channel failed for good
                invitations.fail_delivery(inv, error)
                report.failed_attempts += 1
                continue
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


def send_channels(session: Session, inv, now: datetime, settings: Settings,
                  mailer: Mailer) -> tuple[str | None, bool | None]:
    """Send the claimed message over each of the wave's channels the participant has, one
    Message row per channel; a channel that already went (or failed for good) for this
    invitation, kind and number (Message.sequence) is not sent again.

    Returns (an error to retry after, or None; whether the slot is done: True, or None
    when no channel could ever go, e.g. an SMS wave meeting a landline)."""
    kind = inv.delivery_kind
    sequence = invitations.slot_sequence(inv)
    rows = {m.channel: m for m in session.scalars(
        select(Message).where(Message.invitation_id == inv.id, Message.kind == kind,
                              Message.sequence == sequence))}
    participant = inv.participant
    errors: list[str] = []
    final: list[str] = []
    went = False
    for channel in invitations.channels_for(inv):
        row = rows.get(channel)
        if row is not None and row.status not in RETRIED:
            if row.status in FAILED_FOR_GOOD:
                final.append(row.error or row.status)
            else:
                went = True
            continue
        if row is not None and row.error == notify.NO_SETTINGS:
            final.append(row.error)  # recorded once; settings change needs a restart
            continue
        provider, ref, status, error = _send_one(channel, inv, settings, mailer, sequence)
        if row is None:
            row = Message(invitation_id=inv.id, participant_id=participant.id, kind=kind,
                          sequence=sequence, channel=channel, created_at=now)
            session.add(row)
        row.provider, row.provider_ref, row.status = provider, ref, status
        row.error, row.updated_at = (error or None) and error[:500], now
        if status in FAILED_FOR_GOOD or error == notify.NO_SETTINGS:
            final.append(error or status)
        elif error is not None:
            log.warning("%s for invitation %s failed: %s", channel, inv.id, error)
            errors.append(f"{CHANNEL_NAMES[channel]}: {error}")
        else:
            went = True
    if errors:
        return "; ".join(errors), False
    if went:
        return None, True
    return "; ".join(final) or "nothing could be sent", None


RETRIED = {MessageStatus.TECHNICAL_FAILURE, MessageStatus.TEMPORARY_FAILURE}
FAILED_FOR_GOOD = {MessageStatus.PERMANENT_FAILURE}
CHANNEL_NAMES = {"email": "email", "sms": "text message"}


def _send_one(channel: str, inv, settings: Settings, mailer: Mailer,
              sequence: int) -> tuple[str, str | None, str, str | None]:
    """(provider, provider_ref, status, error) of one try on one channel."""
    participant = inv.participant
    link = invitations.link_for(settings.base_url, settings.secret_key, inv)
    stop_link = invitations.stop_link_for(settings.base_url, settings.secret_key, inv)
    if channel == "email" and settings.email_provider != "notify":
        provider = "outbox" if isinstance(mailer, OutboxMailer) else "smtp"
        ref = message_id(settings.secret_key, inv)
        try:
            message = build_email(
                kind=inv.delivery_kind,
                to=participant.email,
                sender=settings.mail_from,
                language=participant.language,
                link=link,
                stop_link=stop_link,
                closes_on=inv.closes_on,
                wave=inv.wave,
            )
            message.replace_header("Message-ID", ref)
            mailer.send(message)
        except Exception as exc:  # any mail failure is retried, never lost
            return provider, ref, MessageStatus.TECHNICAL_FAILURE, f"{type(exc).__name__}: {exc}"
        return provider, ref, MessageStatus.SENT, None
    template = (settings.notify_sms_template_id if channel == "sms"
                else settings.notify_email_template_id)
    if not settings.notify_api_key or not template:
        return "notify", None, MessageStatus.TECHNICAL_FAILURE, notify.NO_SETTINGS
    if channel == "sms" and not phones.is_mobile(participant.phone):
        return ("notify", None, MessageStatus.PERMANENT_FAILURE,
                f"{participant.phone} is not a mobile number: text messages go only to mobiles")
    language = client_language(inv.wave.study, participant.language)
    fields = notify.personalisation(
        programme=programme_name(inv.wave.study, language), link=link,
        closes_on=inv.closes_on, language=language, stop_link=stop_link)
    ref = notify.reference(settings.secret_key, inv.nonce, inv.delivery_kind, sequence, channel)
    send = notify.send_sms if channel == "sms" else notify.send_email
    try:
        notify_id = send(notify.client(settings), template_id=template,
                         to=participant.phone if channel == "sms" else participant.email,
                         fields=fields, ref=ref)
    except notify.NotifyError as exc:
        return "notify", None, MessageStatus.TECHNICAL_FAILURE, str(exc)
    return "notify", notify_id, MessageStatus.SENDING, None
