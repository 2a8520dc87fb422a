"""One participant: what happened to them (a timeline, newest first) and what staff may do
about it (change contact details, send the link again, withdraw).

No web code: the timeline is plain events (a kind code and its values) that the page puts
into words. Audit events of these acts name the participant by `participant_id` and the
keyed `ref_digest` (surveys.privacy), never by reference, like the erasure record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.invitations import slot_sequence
from surveys.models import (
    AuditEvent,
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Message,
    Participant,
    Response,
    Study,
)
from surveys.models.audit import detail_key

# Audit actions that name one participant (by ref_digest) and so appear on their timeline.
PARTICIPANT_ACTIONS = ("contact_details_changed", "participant_resend", "personal_link_shown",
                       "participant_withdrawn", "participant_erased", "participant_opted_out")


@dataclass(frozen=True)
class Event:
    at: datetime  # for ordering; `on_day` events happen on a date, not at a time
    kind: str
    values: dict = field(default_factory=dict)
    on_day: bool = False


def _day(value: date) -> datetime:
    return datetime.combine(value, time.max, tzinfo=UTC)


def invitations_of(session: Session, participant: Participant) -> list[Invitation]:
    return list(session.scalars(
        select(Invitation).options(joinedload(Invitation.wave))
        .where(Invitation.participant_id == participant.id).order_by(Invitation.due_on)
    ).unique())


def responses_of(session: Session, participant: Participant) -> list[Response]:
    return list(session.scalars(
        select(Response).options(joinedload(Response.wave))
        .where(Response.participant_id == participant.id).order_by(Response.id)
    ).unique())


def timeline(session: Session, study: Study, participant: Participant, digest: str,
             today: date) -> list[Event]:
    """Everything that happened to the participant, newest first."""
    events: list[Event] = []
    invitations = invitations_of(session, participant)
    for inv in invitations:
        wave = inv.wave.code
        if inv.status == InvitationStatus.SCHEDULED:
            events.append(Event(_day(inv.due_on), "due", {"wave": wave}, on_day=True))
        elif inv.status in (InvitationStatus.OUT_OF_WINDOW, InvitationStatus.LAPSED):
            events.append(Event(_day(inv.due_on), inv.status, {"wave": wave}, on_day=True))
        if inv.issued_at:
            events.append(Event(inv.issued_at, "issued", {"wave": wave}))
        if inv.reminded_at:
            events.append(Event(inv.reminded_at, "reminder",
                                {"wave": wave, "count": max(inv.reminders_sent, 1)}))
        if inv.delivery_status == DeliveryStatus.FAILED:
            events.append(Event(inv.next_attempt_at or inv.reminded_at or inv.issued_at
                                or _day(inv.due_on), "delivery_failed",
                                {"wave": wave, "error": inv.last_error or ""}))
        if inv.status == InvitationStatus.CLOSED and inv.closes_on:
            events.append(Event(_day(inv.closes_on), "closed", {"wave": wave}, on_day=True))
    audited = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action.in_(PARTICIPANT_ACTIONS),
            detail_key("ref_digest") == digest,  # ix_audit_events_ref_digest
        ).order_by(AuditEvent.id)
    ).all()
    audited = [a for a in audited if (a.detail or {}).get("study") == study.slug]
    askers = _resend_askers(audited)
    messages = session.scalars(select(Message).where(Message.participant_id == participant.id)
                               .order_by(Message.id)).all()
    waves = {inv.id: inv.wave.code for inv in invitations}
    for m in messages:
        events.append(Event(m.created_at, "message", {
            "wave": waves.get(m.invitation_id, ""), "channel": m.channel, "kind": m.kind,
            "sequence": m.sequence, "status": m.status, "error": m.error or "",
            "asked_by": askers.get((m.invitation_id, m.sequence), "")
            if m.kind == "resend" else ""}))
    for r in responses_of(session, participant):
        values = {"wave": r.wave.code, "mode": r.mode, "source": r.source}
        if r.started_at:
            events.append(Event(r.started_at, "opened", values))
        if r.status == "submitted":
            events.append(Event(r.submitted_at or _day(r.submitted_on or today),
                                "telephone" if r.mode == "telephone" else "answered", values,
                                on_day=r.submitted_at is None))
        elif r.current_page:
            events.append(Event(r.started_at or _day(today), "saved", values))
    if participant.opted_out_at:
        events.append(Event(participant.opted_out_at, "opted_out"))
    if participant.withdrawn_at:
        events.append(Event(participant.withdrawn_at, "withdrawn"))
    if participant.contact_erased_at:
        events.append(Event(participant.contact_erased_at, "contact_erased"))
    for a in audited:
        events.append(Event(a.at, "audit:" + a.action, {**(a.detail or {}), "actor": a.actor}))
    return sorted(events, key=lambda e: e.at, reverse=True)


def _resend_askers(audited: list[AuditEvent]) -> dict[tuple[int, int], str]:
    """(invitation id, resend number) -> who asked for the link to be sent again. Events
    recorded before resends were numbered (migration 0014) count in order."""
    askers: dict[tuple[int, int], str] = {}
    counted: dict[int, int] = {}
    for a in audited:
        detail = a.detail or {}
        if a.action != "participant_resend" or not isinstance(detail.get("invitation"), int):
            continue
        inv_id = detail["invitation"]
        # 0: the message waiting went at once instead (resend() returns its number).
        number = detail["resend"] if "resend" in detail else counted.get(inv_id, 0) + 1
        counted[inv_id] = max(counted.get(inv_id, 0), number)
        if number:
            askers[(inv_id, number)] = a.actor
    return askers


def can_resend(session: Session, inv: Invitation, participant: Participant,
               today: date) -> bool:
    """Only an issued, unanswered, still open invitation of someone we may contact."""
    if (inv.status != InvitationStatus.ISSUED or participant.withdrawn_at
            or participant.opted_out_at or not (participant.email or participant.phone)):
        return False
    if inv.closes_on is not None and inv.closes_on < today:
        return False
    answered = session.scalar(select(Response.id).where(
        Response.status == "submitted", Response.participant_id == participant.id,
        Response.wave_id == inv.wave_id).limit(1))
    return answered is None


def resend(session: Session, inv: Invitation, now: datetime) -> int:
    """Queue the link to go again at the dispatcher's next pass in the study's sending
    hours, as a "resend" message of its own (numbered 1, 2... per invitation: Message's
    unique (invitation, kind, sequence, channel) holds, and every copy stays on the
    timeline). Returns its number.

    A message still waiting with nothing sent yet (the invitation outside sending hours, or
    a resend asked for twice) just goes at the next pass: sending it twice would not help.
    A reminder waiting gives way to the link sent again.
    """
    waiting = inv.delivery_status == DeliveryStatus.PENDING and session.scalar(
        select(Message.id).where(Message.invitation_id == inv.id,
                                 Message.kind == inv.delivery_kind,
                                 Message.sequence == slot_sequence(inv)).limit(1)) is None
    if not (waiting and inv.delivery_kind in ("invitation", "resend")):
        inv.resends += 1
        inv.delivery_kind = "resend"
        inv.delivery_status = DeliveryStatus.PENDING
        inv.attempts = 0
        inv.last_error = None
    inv.next_attempt_at = now
    return inv.resends


def withdraw(session: Session, participant: Participant, now: datetime) -> int:
    """Stop all contact: mark them withdrawn and cancel every message waiting to go.
    Returns how many were cancelled."""
    participant.withdrawn_at = now
    waiting = session.scalars(select(Invitation).where(
        Invitation.participant_id == participant.id,
        Invitation.delivery_status == DeliveryStatus.PENDING)).all()
    for inv in waiting:
        inv.delivery_status = DeliveryStatus.CANCELLED
        inv.last_error = "withdrawn"
        inv.next_attempt_at = None
    return len(waiting)
