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

from sqlalchemy import and_, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session, joinedload

from surveys import tokens
from surveys.models import (
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
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
        if participant.completed_on is None or participant.status != "completed":
            continue  # only those who completed the intervention are surveyed
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
    last: tuple[date, int] | None = None  # (due_on, id) of the last row claimed


def issue_due(
    session: Session,
    now: datetime,
    secret: str,
    limit: int = BATCH,
    *,
    after: tuple[date, int] | None = None,
) -> IssueResult:
    """Issue up to `limit` invitations that have fallen due, each exactly once.

    Set-based: one SELECT claims the batch (FOR UPDATE SKIP LOCKED, read in index order
    from ix_invitations_due), one more finds who has an email address, and one
    executemany UPDATE per kind of outcome writes the batch; no ORM object per row.
    `after`, the `last` of the previous batch in the same pass, starts the index read
    where that batch ended, so a pass over N due rows does not re-read the index entries
    of the rows it has just issued (O(N), not O(N**2 / batch)). Rows another dispatcher
    held locked are skipped either way; the next pass sees them if still due.
    """
    today = now.date()
    result = IssueResult()
    query = select(
        Invitation.id, Invitation.participant_id, Invitation.wave_id, Invitation.due_on
    ).where(Invitation.status == InvitationStatus.SCHEDULED, Invitation.due_on <= today)
    if after is not None:
        query = query.where(tuple_(Invitation.due_on, Invitation.id) > tuple_(*after))
    due = session.execute(
        query.order_by(Invitation.due_on, Invitation.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Invitation)
    ).all()
    if not due:
        return result
    result.last = (due[-1].due_on, due[-1].id)


    waves = {
        row.id: row
        for row in session.execute(
            select(Wave.id, Wave.close_days, Wave.reminder_days, Study.end_date).join(
                Study, Study.id == Wave.study_id
            )
        )
    }
    with_email = set(
        session.scalars(
            select(Participant.id).where(
                Participant.id.in_({row.participant_id for row in due}),
                Participant.email.is_not(None),
                Participant.email != "",
            )
        )
    )
    out_of_window: list[int] = []
    lapsed: list[int] = []
    issued: dict[bool, list[dict]] = {True: [], False: []}
    for row in due:
        wave = waves[row.wave_id]
        if wave.end_date is not None and row.due_on > wave.end_date:
            out_of_window.append(row.id)
        elif row.due_on + timedelta(days=wave.close_days) < today:
            # Its whole answering window passed before it could be issued
            # (e.g. a cohort imported late): issuing now would ask the wrong question.
            lapsed.append(row.id)
        else:
            nonce = tokens.new_nonce()
            issued[row.participant_id in with_email].append({
                "b_id": row.id,
                "b_nonce": nonce,
                "b_token_hash": tokens.hash_token(tokens.derive_token(secret, nonce)),
                "b_closes_on": today + timedelta(days=wave.close_days),
                # The first reminder (the rest are issue 15's): none when the wave has none.
                "b_reminder_due_on": (today + timedelta(days=min(wave.reminder_days))
                                      if wave.reminder_days else None),
            })
    table = Invitation.__table__
    for ids, status in ((out_of_window, InvitationStatus.OUT_OF_WINDOW),
                        (lapsed, InvitationStatus.LAPSED)):
        if ids:
            session.execute(update(table).where(table.c.id.in_(ids)).values(status=status))
    for emailed, params in issued.items():
        if not params:
            continue
        values = {
            "status": InvitationStatus.ISSUED,
            "issued_at": now,
            "nonce": bindparam("b_nonce"),
            "token_hash": bindparam("b_token_hash"),
            "closes_on": bindparam("b_closes_on"),
            "reminder_due_on": bindparam("b_reminder_due_on"),
        }
        if emailed:
            values.update(delivery_status=DeliveryStatus.PENDING, delivery_kind="invitation",
                          next_attempt_at=now)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(values),
                        params)
    result.out_of_window = len(out_of_window)
    result.lapsed = len(lapsed)
    result.issued = len(issued[True]) + len(issued[False])
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


# Why a claimed email was not sent (stored in last_error; shown to researchers).
CANCEL_REASONS = ("answered", "closed", "no_email")


def cancel_reason(session: Session, inv: Invitation, now: datetime) -> str | None:
    """Why this email must not go now, or None: checked at sending time, in the
    transaction that claimed (and, on PostgreSQL, row-locked) the invitation, because a
    reminder queued earlier, or retried after a mail outage, may meet a client who has
    answered since, a link that has closed, or contact details erased meanwhile.
    (An erased participant's invitations are deleted, so they are never claimed.)"""
    answered = session.scalar(
        select(Response.id).where(
            Response.status == "submitted",
            or_(Response.invitation_id == inv.id,
                and_(Response.participant_id == inv.participant_id,
                     Response.wave_id == inv.wave_id)),
        ).limit(1)
    )
    if inv.status == InvitationStatus.COMPLETED or answered is not None:
        return "answered"
    if inv.status != InvitationStatus.ISSUED or (
            inv.closes_on is not None and inv.closes_on < now.date()):
        return "closed"
    if not inv.participant.email:
        return "no_email"
    return None


def cancel_delivery(inv: Invitation, reason: str) -> None:
    inv.delivery_status = DeliveryStatus.CANCELLED
    inv.last_error = reason
    inv.next_attempt_at = None


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
