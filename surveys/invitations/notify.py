"""GOV.UK Notify: text messages (and email when SURVEYS_EMAIL_PROVIDER=notify) through its
official client, and the receipts that say what became of each message.

Notify words every message from a template kept in Notify; we send only its
personalisation: programme, link, closing_date and stop_link (the opt-out page).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, datetime, timedelta

from babel.dates import format_date
from notifications_python_client import NotificationsAPIClient
from notifications_python_client.errors import APIError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from surveys.invitations import slot_sequence
from surveys.models import DeliveryStatus, Invitation, Message, MessageStatus
from surveys.settings import Settings

log = logging.getLogger(__name__)

NO_SETTINGS = "SMS needs GOV.UK Notify settings"
# Notify's statuses of a message still on its way ("pending": the phone network has not
# answered yet; "created": not yet handed to a provider).
IN_FLIGHT = {"created", "sending", "pending"}
# "sent": an international text message, for which no receipt comes.
FINAL = {"delivered": MessageStatus.DELIVERED, "sent": MessageStatus.DELIVERED,
         "permanent-failure": MessageStatus.PERMANENT_FAILURE,
         "temporary-failure": MessageStatus.TEMPORARY_FAILURE,
         "technical-failure": MessageStatus.TECHNICAL_FAILURE}
POLL_EVERY = timedelta(minutes=1)  # a message's status is asked at most this often
POLL_BATCH = 100


class NotifyError(Exception):
    """A request Notify refused or that did not reach it, as one readable line."""


def client(settings: Settings) -> NotificationsAPIClient:
    return NotificationsAPIClient(settings.notify_api_key, base_url=settings.notify_base_url,
                                  timeout=10)


def reference(secret: str, nonce: str, kind: str, sequence: int, channel: str) -> str:
    """The same reference for every try of one message, so a retry is recognisable in
    Notify (and nothing personal goes into it)."""
    seed = f"{nonce}:{kind}:{sequence}:{channel}"
    return hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()[:40]


def personalisation(*, programme: str, link: str, closes_on: date | None, language: str,
                    stop_link: str = "") -> dict[str, str]:
    """What the Notify templates fill in: exactly these four keys."""
    closing = format_date(closes_on, "long", locale="en_GB" if language == "en" else language
                          ) if closes_on else ""
    return {"programme": programme, "link": link, "closing_date": closing,
            "stop_link": stop_link}


def _readable(exc: Exception) -> str:
    if isinstance(exc, APIError):
        detail = exc.message
        if isinstance(detail, list):  # Notify's {"errors": [{"error", "message"}]}
            detail = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                               for e in detail)
        return f"GOV.UK Notify refused the message ({exc.status_code}): {detail}"
    return f"GOV.UK Notify could not be reached: {type(exc).__name__}: {exc}"


def send_email(api: NotificationsAPIClient, *, template_id: str, to: str,
               fields: dict[str, str], ref: str) -> str:
    """Send through Notify; returns Notify's notification id. NotifyError on any failure."""
    try:
        reply = api.send_email_notification(email_address=to, template_id=template_id,
                                            personalisation=fields, reference=ref)
    except Exception as exc:  # the client raises requests' and its own errors
        raise NotifyError(_readable(exc)) from exc
    return str(reply["id"])


def send_sms(api: NotificationsAPIClient, *, template_id: str, to: str,
             fields: dict[str, str], ref: str) -> str:
    try:
        reply = api.send_sms_notification(phone_number=to, template_id=template_id,
                                          personalisation=fields, reference=ref)
    except Exception as exc:
        raise NotifyError(_readable(exc)) from exc
    return str(reply["id"])


def failure_text(message: Message, address: str | None) -> str:
    where = address or "(contact details erased)"
    what = "email address" if message.channel == "email" else "phone number"
    return f"GOV.UK Notify could not deliver to {where}: check the {what}"


def poll_receipts(session_factory: sessionmaker, now: datetime, settings: Settings,
                  api: NotificationsAPIClient | None = None) -> int:
    """Ask Notify what became of messages still `sending` (oldest first, each at most once a
    minute); returns how many changed. A temporary or technical failure puts the
    invitation's delivery slot back in the queue with backoff (that channel alone is sent
    again), up to the retry limit; a permanent failure stays, for researchers to fix."""
    if not settings.notify_api_key:
        return 0
    api = api or client(settings)
    changed = 0
    with session_factory() as session:
        ids = session.scalars(
            select(Message.id)
            .where(Message.status == MessageStatus.SENDING,
                   Message.updated_at <= now - POLL_EVERY)
            .order_by(Message.updated_at, Message.id).limit(POLL_BATCH)
        ).all()
    for message_id in ids:
        with session_factory() as session, session.begin():
            message = session.scalar(
                select(Message).where(Message.id == message_id,
                                      Message.status == MessageStatus.SENDING)
                .with_for_update(skip_locked=True))
            if message is None or message.provider != "notify" or not message.provider_ref:
                continue
            try:
                status = str(api.get_notification_by_id(message.provider_ref)["status"])
            except Exception as exc:  # ask again next time
                log.warning("receipt for message %s: %s", message.id, _readable(exc))
                message.updated_at = now
                continue
            message.updated_at = now
            if status in IN_FLIGHT or status not in FINAL:
                continue
            message.status = FINAL[status]
            changed += 1
            inv = session.get(Invitation, message.invitation_id)
            participant = inv.participant if inv is not None else None
            address = None if participant is None else (
                participant.email if message.channel == "email" else participant.phone)
            if message.status == MessageStatus.PERMANENT_FAILURE:
                message.error = failure_text(message, address)
            elif message.status in (MessageStatus.TEMPORARY_FAILURE,
                                    MessageStatus.TECHNICAL_FAILURE):
                message.error = f"GOV.UK Notify: {status} to {address or 'an erased contact'}"
                if inv is not None:
                    _requeue(inv, message, now, settings)
    return changed


def _requeue(inv: Invitation, message: Message, now: datetime, settings: Settings) -> None:
    """Send this message's channel again later, if its slot is still the one that sent it
    and the tries are not used up."""
    same_slot = (inv.delivery_kind == message.kind
                 and slot_sequence(inv) == message.sequence)
    if not same_slot or inv.delivery_status not in (DeliveryStatus.SENT,
                                                    DeliveryStatus.FAILED):
        return
    if inv.attempts >= settings.mail_retry_limit:
        message.error = f"{message.error} (no tries left)"
        return
    inv.delivery_status = DeliveryStatus.PENDING
    inv.next_attempt_at = now + timedelta(
        seconds=settings.mail_retry_base_seconds * 2 ** max(inv.attempts - 1, 0))
