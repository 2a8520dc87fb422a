"""The life of an invitation: scheduled, issued (with a personal link), answered or closed.

Every function takes the session and the current time and leaves committing to
the caller, so the scheduler, the CLI and the tests drive the same code. Rows
are claimed with `FOR UPDATE SKIP LOCKED` where the database supports it, so
several dispatcher processes never pick the same invitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, joinedload

from surveys import tokens
from surveys.invitations import windows
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

# What an invitation's delivery slot sends (Invitation.delivery_kind, Message.kind): the
# invitation itself, a reminder (numbered 1 to 3), or the link sent again at a member of
# staff's request (numbered 1, 2...: Invitation.resends).
MESSAGE_KINDS = ("invitation", "reminder", "resend")


def slot_sequence(inv: Invitation) -> int:
    """The number (Message.sequence) of the message the invitation's slot sends."""
    if inv.delivery_kind == "reminder":
        return max(inv.reminders_sent, 1)
    if inv.delivery_kind == "resend":
        return max(inv.resends, 1)
    return 0


def _wave_clocks(session: Session) -> dict[int, Row]:
    """Every wave with its timing and its study's clock: a small table, read once a pass."""
    return {row.id: row for row in session.execute(
        select(Wave.id, Wave.study_id, Wave.close_days, Wave.reminder_days, Wave.paused_at,
               Wave.mode, Study.end_date, Study.time_zone, Study.send_window)
        .join(Study, Study.id == Wave.study_id))}


def _paused(waves: dict[int, Row]) -> list[int]:
    """Waves whose issuing a researcher paused: their questionnaires (and reminders) wait."""
    return [wave_id for wave_id, row in waves.items() if row.paused_at is not None]


def _local_todays(waves: dict[int, Row], now: datetime) -> dict[int, date]:
    """Each wave's study's local date at `now` (due dates are local dates: decision 0011)."""
    return {wave_id: windows.local_today(row.time_zone, now) for wave_id, row in waves.items()}


def _by_local_date(todays: dict[int, date], now: datetime, condition) -> ColumnElement[bool]:
    """`condition(day)` with each invitation's own study's local `day`.

    When every study has the same local date (one time zone: the usual case) this is the
    plain comparison, which the dispatcher's indexes serve as a range; otherwise the range
    up to the latest local date, narrowed per group of waves sharing a date.
    """
    by_day: dict[date, list[int]] = {}
    for wave_id, day in todays.items():
        by_day.setdefault(day, []).append(wave_id)
    if len(by_day) <= 1:
        return condition(next(iter(by_day), now.astimezone(UTC).date()))
    return and_(condition(max(by_day)), or_(*(
        and_(Invitation.wave_id.in_(ids), condition(day)) for day, ids in by_day.items())))


def _study_clock(inv: Invitation) -> tuple[dict | None, str | None]:
    study = inv.wave.study
    return study.send_window, study.time_zone


def local_today(inv: Invitation, now: datetime) -> date:
    """The invitation's study's date at `now`."""
    return windows.local_today(_study_clock(inv)[1], now)


def hold_until(session: Session, inv: Invitation, now: datetime) -> datetime | None:
    """When the study's sending window next opens, if it is shut at `now`; else None.

    Checked at sending time (scheduler.jobs.deliver), like cancel_reason: a message queued
    inside the window but delayed (retries, a dispatcher that was down) is pushed to the
    next opening rather than sent at night or on a day the study does not send.
    """
    window, tz = _study_clock(inv)
    return None if windows.is_open(window, tz, now) else windows.next_open(window, tz, now)


def link_for(base_url: str, secret: str, invitation: Invitation) -> str:
    return f"{base_url}/r/{tokens.derive_token(secret, invitation.nonce)}"


def stop_link_for(base_url: str, secret: str, invitation: Invitation) -> str:
    """The link every message carries to stop further contact (surveys/web/optout.py)."""
    return f"{base_url}/stop/{tokens.derive_token(secret, invitation.nonce)}"


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
    Due dates are the study's local dates; an emailed invitation is queued for the next
    time the study's sending window is open (now, if it is).
    """
    result = IssueResult()
    waves = _wave_clocks(session)
    todays = _local_todays(waves, now)
    query = select(
        Invitation.id, Invitation.participant_id, Invitation.wave_id, Invitation.due_on
    ).where(Invitation.status == InvitationStatus.SCHEDULED,
            _by_local_date(todays, now, lambda day: Invitation.due_on <= day))
    if paused := _paused(waves):
        # Left SCHEDULED: on resume they issue, or lapse if their window has passed.
        query = query.where(Invitation.wave_id.not_in(paused))
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
    # When each study's window next opens: computed once per study, not per row.
    sending = {row.study_id: windows.next_open(row.send_window, row.time_zone, now)
               for row in waves.values()}
    with_email = set(
        session.scalars(
            select(Participant.id).where(
                Participant.id.in_({row.participant_id for row in due}),
                # Some contact detail: deliver() checks it against the wave's channels.
                or_(and_(Participant.email.is_not(None), Participant.email != ""),
                    and_(Participant.phone.is_not(None), Participant.phone != "")),
            )
        )
    )
    out_of_window: list[int] = []
    lapsed: list[int] = []
    issued: dict[bool, list[dict]] = {True: [], False: []}
    called: list[dict] = []  # telephone waves: no message; on the call list from now
    for row in due:
        wave = waves[row.wave_id]
        today = todays[row.wave_id]
        if wave.end_date is not None and row.due_on > wave.end_date:
            out_of_window.append(row.id)
        elif row.due_on + timedelta(days=wave.close_days) < today:
            # Its whole answering window passed before it could be issued
            # (e.g. a cohort imported late): issuing now would ask the wrong question.
            lapsed.append(row.id)
        else:
            nonce = tokens.new_nonce()
            telephone = wave.mode == "telephone"
            (called if telephone else issued[row.participant_id in with_email]).append({
                "b_id": row.id,
                "b_next": sending[wave.study_id],
                "b_nonce": nonce,
                "b_token_hash": tokens.hash_token(tokens.derive_token(secret, nonce)),
                "b_closes_on": today + timedelta(days=wave.close_days),
                # The first reminder (queue_reminders sets the next): none when none.
                "b_reminder_due_on": (today + timedelta(days=min(wave.reminder_days))
                                      if wave.reminder_days and not telephone else None),
            })
    table = Invitation.__table__
    for ids, status in ((out_of_window, InvitationStatus.OUT_OF_WINDOW),
                        (lapsed, InvitationStatus.LAPSED)):
        if ids:
            session.execute(update(table).where(table.c.id.in_(ids)).values(status=status))
    for p in called:
        p["b_next"] = now  # due for a call at once (the list shows it in its calling hours)
    for emailed, params in ((True, issued[True]), (False, issued[False]), (None, called)):
        if not params:
            continue
        if emailed is False:
            for p in params:
                del p["b_next"]
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
                          next_attempt_at=bindparam("b_next"))
        elif emailed is None:
            values.update(next_call_at=bindparam("b_next"))
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(values),
                        params)
    result.out_of_window = len(out_of_window)
    result.lapsed = len(lapsed)
    result.issued = len(issued[True]) + len(issued[False]) + len(called)
    return result


def queue_reminders(session: Session, now: datetime) -> int:
    """Queue the next reminder for each issued, unanswered invitation that is due one.

    A wave has zero to three reminders (Wave.reminder_days, days after issue, ascending).
    reminder_due_on is the next one's local date (None after the last) and reminders_sent
    how many were queued, so it is also the number of the reminder in flight. Each goes
    when the study's sending window is next open, and is checked again then
    (cancel_reason). An invitation reminded before reminders were counted
    (reminded_at set, reminders_sent 0) has had its one reminder.
    """
    waves = _wave_clocks(session)
    todays = _local_todays(waves, now)
    # A paused wave's reminders wait too; on resume they go if the questionnaire is open.
    paused = _paused(waves)
    rows = session.scalars(
        select(Invitation)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(
            Invitation.status == InvitationStatus.ISSUED,
            Invitation.wave_id.not_in(paused) if paused else true(),
            _by_local_date(todays, now, lambda day: and_(Invitation.reminder_due_on <= day,
                                                         Invitation.closes_on >= day)),
            or_(Invitation.reminded_at.is_(None), Invitation.reminders_sent > 0),
            Invitation.delivery_status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
            or_(Participant.email.is_not(None), Participant.phone.is_not(None)),
        )
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Invitation)
    ).all()
    sending: dict[int, datetime] = {}
    queued = 0
    for inv in rows:
        wave = waves[inv.wave_id]
        days = sorted(wave.reminder_days or [])
        number = inv.reminders_sent + 1
        if number > len(days):  # the wave has fewer reminders now than when issued
            inv.reminder_due_on = None
            continue
        issued_on = windows.local_today(wave.time_zone, inv.issued_at or now)
        inv.reminders_sent = number
        inv.reminder_due_on = (issued_on + timedelta(days=days[number])
                               if number < len(days) else None)
        inv.reminded_at = now
        inv.delivery_kind = "reminder"
        inv.delivery_status = DeliveryStatus.PENDING
        inv.attempts = 0
        if wave.study_id not in sending:
            sending[wave.study_id] = windows.next_open(wave.send_window, wave.time_zone, now)
        inv.next_attempt_at = sending[wave.study_id]
        queued += 1
    return queued


def close_expired(session: Session, now: datetime) -> int:
    """Close issued invitations whose closing date (a local date) has passed unanswered."""
    todays = _local_todays(_wave_clocks(session), now)
    result = session.execute(
        update(Invitation)
        .where(Invitation.status == InvitationStatus.ISSUED,
               _by_local_date(todays, now, lambda day: Invitation.closes_on < day))
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


# Why a claimed message was not sent (stored in last_error; shown to researchers).
# "no_email" is kept for rows written before waves had channels; now "no_contact".
CANCEL_REASONS = ("answered", "closed", "no_email", "opted_out", "no_contact",
                  "withdrawn")


def channels_for(inv: Invitation) -> list[str]:
    """The wave's channels this participant has details for (email address; phone)."""
    have = {"email": bool(inv.participant.email), "sms": bool(inv.participant.phone)}
    return [c for c in (inv.wave.channels or ["email"]) if have.get(c)]


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
    if inv.participant.opted_out_at is not None:
        # The client asked not to be contacted: no message of the study, in any wave.
        return "opted_out"
    if inv.participant.withdrawn_at is not None:
        return "withdrawn"  # researchers withdrew them: no contact (staff participant page)
    if inv.status != InvitationStatus.ISSUED or (
            inv.closes_on is not None and inv.closes_on < local_today(inv, now)):
        return "closed"
    if not channels_for(inv):
        return "no_contact"  # no contact details for the wave's channels
    return None


def cancel_delivery(inv: Invitation, reason: str) -> None:
    inv.delivery_status = DeliveryStatus.CANCELLED
    inv.last_error = reason
    inv.next_attempt_at = None


def fail_delivery(inv: Invitation, error: str) -> None:
    """No channel can ever carry this message (e.g. a text message to a landline, or SMS
    without GOV.UK Notify settings): no retry; researchers see why."""
    inv.attempts += 1
    inv.delivery_status = DeliveryStatus.FAILED
    inv.last_error = error[:500]
    inv.next_attempt_at = None


def record_delivery(
    inv: Invitation, now: datetime, error: str | None, *, retry_limit: int, base_seconds: int
) -> None:
    """Mark a delivery sent, or schedule a retry with exponential backoff, or give up.

    A retry that would fall outside the study's sending window waits for its next opening.
    """
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
        retry_at = now + timedelta(seconds=base_seconds * 2 ** (inv.attempts - 1))
        inv.next_attempt_at = windows.next_open(*_study_clock(inv), retry_at)


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
