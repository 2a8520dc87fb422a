"""The life of an invitation: scheduled, issued (with a personal link), answered or closed.

Every function takes the session and the current time and leaves committing to
the caller, so the scheduler, the CLI and the tests drive the same code. Rows
are claimed with `FOR UPDATE SKIP LOCKED` where the database supports it, so
several dispatcher processes never pick the same invitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from surveys import tokens
from surveys.models import (
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Participant,
    Study,
    Wave,
)

BATCH = 500


def link_for(base_url: str, secret: str, invitation: Invitation) -> str:
    return f"{base_url}/r/{tokens.derive_token(secret, invitation.nonce)}"


def _initial_status(study: Study, due_on: date) -> str:
    if study.end_date is not None and due_on > study.end_date:
        return InvitationStatus.OUT_OF_WINDOW
    return InvitationStatus.SCHEDULED


def schedule_for(session: Session, study: Study, participants: Iterable[Participant]) -> int:
    """One invitation per participant and wave; due dates follow the completion date.

    Returns how many invitations were created. Invitations not yet issued move
    with a changed completion date; issued ones never change.
    """
    participants = list(participants)
    if not participants:
        return 0
    ids = [p.id for p in participants]
    existing: dict[tuple[int, int], Invitation] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for inv in session.scalars(select(Invitation).where(Invitation.participant_id.in_(chunk))):
            existing[(inv.participant_id, inv.wave_id)] = inv
    created = 0
    for participant in participants:
        for wave in study.waves:
            due_on = participant.completed_on + timedelta(days=wave.offset_days)
            inv = existing.get((participant.id, wave.id))
            if inv is None:
                session.add(
                    Invitation(
                        participant_id=participant.id,
                        wave_id=wave.id,
                        due_on=due_on,
                        status=_initial_status(study, due_on),
                        delivery_status=DeliveryStatus.NONE,
                    )
                )
                created += 1
            elif inv.status in (InvitationStatus.SCHEDULED, InvitationStatus.OUT_OF_WINDOW):
                inv.due_on = due_on
                inv.status = _initial_status(study, due_on)
    return created


def reschedule_wave(session: Session, study: Study, wave: Wave) -> int:
    """After a schedule change, move every invitation of the wave not yet issued."""
    moved = 0
    rows = session.execute(
        select(Invitation, Participant.completed_on)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(
            Invitation.wave_id == wave.id,
            Invitation.status.in_([InvitationStatus.SCHEDULED, InvitationStatus.OUT_OF_WINDOW]),
        )
    )
    for inv, completed_on in rows:
        inv.due_on = completed_on + timedelta(days=wave.offset_days)
        inv.status = _initial_status(study, inv.due_on)
        moved += 1
    return moved


@dataclass
class IssueResult:
    issued: int = 0
    out_of_window: int = 0
    lapsed: int = 0


def issue_due(session: Session, now: datetime, secret: str, limit: int = BATCH) -> IssueResult:
    """Issue up to `limit` invitations that have fallen due, each exactly once."""
    today = now.date()
    result = IssueResult()
    due = session.scalars(
        select(Invitation)
        .where(Invitation.status == InvitationStatus.SCHEDULED, Invitation.due_on <= today)
        .order_by(Invitation.due_on, Invitation.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Invitation)
    ).all()
    if not due:
        return result
    waves = {w.id: w for w in session.scalars(select(Wave).options(joinedload(Wave.study)))}
    emails = dict(
        session.execute(
            select(Participant.id, Participant.email).where(
                Participant.id.in_([inv.participant_id for inv in due])
            )
        ).all()
    )
    for inv in due:
        wave = waves[inv.wave_id]
        end_date = wave.study.end_date
        if end_date is not None and inv.due_on > end_date:
            inv.status = InvitationStatus.OUT_OF_WINDOW
            result.out_of_window += 1
            continue
        if inv.due_on + timedelta(days=wave.close_days) < today:
            # Its whole answering window passed before it could be issued
            # (e.g. a cohort imported late): issuing now would ask the wrong question.
            inv.status = InvitationStatus.LAPSED
            result.lapsed += 1
            continue
        inv.nonce = tokens.new_nonce()
        inv.token_hash = tokens.hash_token(tokens.derive_token(secret, inv.nonce))
        inv.status = InvitationStatus.ISSUED
        inv.issued_at = now
        inv.closes_on = today + timedelta(days=wave.close_days)
        inv.reminder_due_on = today + timedelta(days=wave.reminder_days)
        if emails.get(inv.participant_id):
            inv.delivery_status = DeliveryStatus.PENDING
            inv.delivery_kind = "invitation"
            inv.next_attempt_at = now
        result.issued += 1
    return result


def queue_reminders(session: Session, now: datetime) -> int:
    """Queue one reminder email for each issued, unanswered invitation that is due one."""
    today = now.date()
    rows = session.scalars(
        select(Invitation)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(
            Invitation.status == InvitationStatus.ISSUED,
            Invitation.reminder_due_on <= today,
            Invitation.closes_on >= today,
            Invitation.reminded_at.is_(None),
            Invitation.delivery_status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
            Participant.email.is_not(None),
        )
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Invitation)
    ).all()
    for inv in rows:
        inv.reminded_at = now
        inv.delivery_kind = "reminder"
        inv.delivery_status = DeliveryStatus.PENDING
        inv.attempts = 0
        inv.next_attempt_at = now
    return len(rows)


def close_expired(session: Session, now: datetime) -> int:
    """Close issued invitations whose closing date has passed unanswered."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.status == InvitationStatus.ISSUED, Invitation.closes_on < now.date())
        .values(status=InvitationStatus.CLOSED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def claim_deliveries(session: Session, now: datetime, limit: int = 50) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .options(joinedload(Invitation.participant), joinedload(Invitation.wave))
            .where(
                Invitation.delivery_status == DeliveryStatus.PENDING,
                Invitation.next_attempt_at <= now,
            )
            .order_by(Invitation.next_attempt_at, Invitation.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Invitation)
        ).unique()
    )


def record_delivery(
    inv: Invitation, now: datetime, error: str | None, *, retry_limit: int, base_seconds: int
) -> None:
    """Mark a delivery sent, or schedule a retry with exponential backoff, or give up."""
    inv.attempts += 1
    if error is None:
        inv.delivery_status = DeliveryStatus.SENT
        inv.last_error = None
        inv.next_attempt_at = None
        return
    inv.last_error = error[:500]
    if inv.attempts >= retry_limit:
        inv.delivery_status = DeliveryStatus.FAILED
        inv.next_attempt_at = None
    else:
        inv.next_attempt_at = now + timedelta(seconds=base_seconds * 2 ** (inv.attempts - 1))


def find_by_token(session: Session, token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    inv = session.scalar(
        select(Invitation)
        .options(joinedload(Invitation.participant), joinedload(Invitation.wave))
        .where(Invitation.token_hash == tokens.hash_token(token))
    )
    if inv is None or not tokens.matches(token, inv.token_hash or ""):
        return None
    return inv


def open_links(session: Session, study: Study, wave: Wave) -> list[Invitation]:
    """Issued, unanswered invitations of a wave, for researchers who telephone clients."""
    return list(
        session.scalars(
            select(Invitation)
            .options(joinedload(Invitation.participant))
            .join(Participant, Participant.id == Invitation.participant_id)
            .where(
                Participant.study_id == study.id,
                Invitation.wave_id == wave.id,
                Invitation.status == InvitationStatus.ISSUED,
            )
            .order_by(Participant.ref)
        )
    )
