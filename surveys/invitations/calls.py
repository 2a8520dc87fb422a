"""Interviewers' call lists for telephone waves, and what each call attempt changes (issue 14).

A telephone wave's questionnaire is issued without a message and is due for a call from
then (`Invitation.next_call_at`). The call list of a wave is its issued, unanswered
questionnaires whose next call is due, in the order of `next_call_at`, read from
ix_invitations_calls (wave_id, status, next_call_at, id). Each attempt writes a
`call_attempts` row and moves or clears the next call: a questionnaire leaves the list when
the client refuses, the number is wrong, or `Wave.max_calls` attempts have not reached them.
Functions take the session and `now`; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.invitations import windows
from surveys.list_pages import PAGE_SIZE, ListPage, page_count
from surveys.models import (
    CallAttempt,
    CallOutcome,
    Invitation,
    InvitationStatus,
    Participant,
    Study,
    Wave,
)

# Outcomes after which nobody calls again (they count in the report's funnel).
FINAL = (CallOutcome.REFUSED, CallOutcome.WRONG_NUMBER)


class CallError(ValueError):
    """A call attempt that cannot be recorded, in one sentence for the interviewer."""


@dataclass(frozen=True)
class CallRow:
    invitation_id: int
    participant_id: int
    ref: str
    phone: str | None
    calls: int
    max_calls: int
    next_call_at: datetime
    last_outcome: str | None
    closes_on: date | None


class CallPage(ListPage[CallRow]):
    """A page of a call list."""


def telephone_waves(study: Study) -> list[Wave]:
    return [w for w in study.waves if w.mode == "telephone"]


def wave_to_open(session: Session, waves: list[Wave], now: datetime) -> Wave:
    """The call list an interviewer sees first: the first telephone wave with someone to
    call today (now or later), not a finished wave's empty list; else the first wave."""
    for wave in waves:
        if due_now(session, wave, now, size=1).total or \
                later_today(session, wave, now, size=1).total:
            return wave
    return waves[0]


def _end_of_local_day(study: Study, now: datetime) -> datetime:
    tz = windows.zone(study.time_zone)
    today = windows.local_today(study.time_zone, now)
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)


def _list(session: Session, wave: Wave, lower: datetime | None, upper: datetime,
          page: int, size: int, inclusive: bool) -> CallPage:
    condition = [Invitation.wave_id == wave.id, Invitation.status == InvitationStatus.ISSUED,
                 Invitation.next_call_at <= upper if inclusive else Invitation.next_call_at < upper]
    if lower is not None:
        condition.append(Invitation.next_call_at > lower)
    total = session.scalar(select(func.count()).select_from(Invitation).where(*condition)) or 0
    pages = page_count(total, size)
    page = min(max(page, 1), pages)
    found = session.execute(
        select(Invitation.id, Invitation.participant_id, Participant.ref, Participant.phone,
               Invitation.calls, Invitation.next_call_at, Invitation.closes_on)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(*condition)
        .order_by(Invitation.next_call_at, Invitation.id)
        .offset((page - 1) * size).limit(size)
    ).all()
    last = last_outcomes(session, [row.id for row in found])
    rows = [CallRow(r.id, r.participant_id, r.ref, r.phone, r.calls, wave.max_calls,
                    r.next_call_at, last.get(r.id), r.closes_on) for r in found]
    return CallPage(rows, total, page, pages, size)


def due_now(session: Session, wave: Wave, now: datetime, page: int = 1,
            size: int = PAGE_SIZE) -> CallPage:
    """The wave's questionnaires due for a call at `now`, longest waiting first."""
    return _list(session, wave, None, now, page, size, inclusive=True)


def later_today(session: Session, wave: Wave, now: datetime, page: int = 1,
                size: int = PAGE_SIZE) -> CallPage:
    """Call backs booked for later today (the study's local day)."""
    return _list(session, wave, now, _end_of_local_day(wave.study, now), page, size,
                 inclusive=False)


def last_outcomes(session: Session, invitation_ids: list[int]) -> dict[int, str]:
    """Each invitation's latest call outcome (ix_call_attempts_invitation)."""
    if not invitation_ids:
        return {}
    latest = (select(func.max(CallAttempt.id))
              .where(CallAttempt.invitation_id.in_(invitation_ids))
              .group_by(CallAttempt.invitation_id))
    return dict(session.execute(select(CallAttempt.invitation_id, CallAttempt.outcome)
                                .where(CallAttempt.id.in_(latest))).all())


def callable_invitation(session: Session, invitation_id: int, study: Study) -> Invitation:
    """An issued questionnaire of one of the study's telephone waves, or CallError."""
    invitation = session.get(Invitation, invitation_id)
    if (invitation is None or invitation.wave.study_id != study.id
            or invitation.wave.mode != "telephone"):
        raise CallError("That questionnaire is not on this study's call lists.")
    if invitation.status != InvitationStatus.ISSUED:
        raise CallError("That questionnaire is no longer open for calls.")
    return invitation


def record_attempt(session: Session, invitation: Invitation, outcome: str, now: datetime,
                   interviewer_id: int | None, call_back_at: datetime | None = None
                   ) -> CallAttempt:
    """One call and its outcome: count it and set when (or whether) to call next."""
    try:
        outcome = CallOutcome(outcome)
    except ValueError:
        raise CallError("Select what happened on the call.") from None
    wave, study = invitation.wave, invitation.wave.study
    if outcome == CallOutcome.CALL_BACK:
        if call_back_at is None:
            raise CallError("Enter the date and time to call back.")
        if call_back_at <= now:
            raise CallError("The time to call back must be in the future.")
        closes = invitation.closes_on
        if closes is not None and windows.local_today(
                study.time_zone, call_back_at) > closes:
            raise CallError("The time to call back must be before the questionnaire closes.")
    invitation.calls = (invitation.calls or 0) + 1
    if outcome == CallOutcome.NO_ANSWER:
        # Tomorrow, when the study's calling hours open (its sending window).
        tomorrow = datetime.combine(windows.local_today(study.time_zone, now)
                                    + timedelta(days=1), time(0),
                                    tzinfo=windows.zone(study.time_zone))
        invitation.next_call_at = windows.next_open(study.send_window, study.time_zone,
                                                    tomorrow)
    elif outcome == CallOutcome.CALL_BACK:
        invitation.next_call_at = call_back_at
    elif outcome in FINAL:
        invitation.next_call_at = None
    # COMPLETED: the interview goes on now; it stays listed until its answers are sent.
    if outcome != CallOutcome.COMPLETED and invitation.calls >= wave.max_calls:
        invitation.next_call_at = None  # not reached after max_calls attempts
    attempt = CallAttempt(invitation_id=invitation.id, participant_id=invitation.participant_id,
                          interviewer_id=interviewer_id, at=now, outcome=outcome.value,
                          call_back_at=call_back_at if outcome == CallOutcome.CALL_BACK
                          else None)
    session.add(attempt)
    return attempt


def outcome_counts(session: Session, wave_id: int) -> dict[str, int]:
    """Questionnaires of a telephone wave by how calling ended: refused, wrong number, or
    not reached after the wave's most calls (for the evaluation report's funnel)."""
    wave = session.get(Wave, wave_id)
    last = (select(CallAttempt.invitation_id, func.max(CallAttempt.id).label("last_id"))
            .join(Invitation, Invitation.id == CallAttempt.invitation_id)
            .where(Invitation.wave_id == wave_id)
            .group_by(CallAttempt.invitation_id).subquery())
    rows = session.execute(
        select(CallAttempt.outcome, Invitation.calls, Invitation.status)
        .join(last, last.c.last_id == CallAttempt.id)
        .join(Invitation, Invitation.id == CallAttempt.invitation_id)).all()
    counts = {"refused": 0, "wrong_number": 0, "not_reached": 0}
    for outcome, calls, status in rows:
        if status == InvitationStatus.COMPLETED:
            continue
        if outcome in counts:
            counts[outcome] += 1
        elif outcome in (CallOutcome.NO_ANSWER, CallOutcome.CALL_BACK) and wave is not None \
                and calls >= wave.max_calls:
            counts["not_reached"] += 1
    return counts
