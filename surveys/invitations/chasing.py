"""Chasing a wave (issue 14): its questionnaires not yet answered, a call list of them,
pausing and resuming its issuing, and its progress week by week.

Queries only (no web code): the session comes in, the caller commits. The open list reads
ix_invitations_wave_status (wave, status) for its rows and its total.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.invitations import windows
from surveys.list_pages import PAGE_SIZE, ListPage, page_count
from surveys.models import (
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Message,
    Participant,
    Response,
    Study,
    Wave,
)
from surveys.models.message import undelivered


@dataclass(frozen=True)
class OpenRow:
    invitation_id: int
    ref: str
    email: str | None
    phone: str | None
    closes_on: date | None
    days_left: int | None  # days before it closes, counted from the study's local today
    reminders_sent: int
    last_message: str | None  # the latest message's status (messages table), if any


@dataclass(frozen=True)
class OpenPage(ListPage[OpenRow]):
    reminders: int = 0  # how many reminders the wave has


def _open(wave: Wave):
    # wave_id and status first: ix_invitations_wave_status answers the filter.
    return (select(Invitation.id, Participant.ref, Participant.email, Participant.phone,
                   Invitation.closes_on, Invitation.reminders_sent)
            .join(Participant, Participant.id == Invitation.participant_id)
            .where(Invitation.wave_id == wave.id, Invitation.status == InvitationStatus.ISSUED))


def open_count(session: Session, wave: Wave) -> int:
    return session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.wave_id == wave.id, Invitation.status == InvitationStatus.ISSUED)) or 0


def local_today(study: Study, now: datetime) -> date:
    return windows.local_today(study.time_zone, now)


def open_page(session: Session, study: Study, wave: Wave, page: int,
              now: datetime) -> OpenPage | None:
    """One page of the wave's open questionnaires, closing soonest first; None for a page
    beyond the last."""
    total = open_count(session, wave)
    pages = page_count(total)
    if not 1 <= page <= pages:
        return None
    rows = session.execute(_open(wave).order_by(Invitation.closes_on, Invitation.id)
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    latest = _last_messages(session, [row.id for row in rows])
    today = local_today(study, now)
    return OpenPage(
        rows=[OpenRow(row.id, row.ref, row.email, row.phone, row.closes_on,
                      (row.closes_on - today).days if row.closes_on else None,
                      row.reminders_sent, latest.get(row.id)) for row in rows],
        total=total, page=page, pages=pages, reminders=len(wave.reminder_days or []))


def _last_messages(session: Session, ids: list[int]) -> dict[int, str]:
    """The status of each invitation's latest message (any channel), for a page of rows."""
    if not ids:
        return {}
    newest = (select(func.max(Message.id)).where(Message.invitation_id.in_(ids))
              .group_by(Message.invitation_id))
    return dict(session.execute(select(Message.invitation_id, Message.status)
                                .where(Message.id.in_(newest))).all())


CALL_LIST_HEADER = ("participant_ref", "phone", "email", "days_left", "reminders_sent")


def call_list(session: Session, study: Study, wave: Wave, now: datetime) -> Iterator[tuple]:
    """Header, then every open questionnaire of the wave, closing soonest first, read in
    batches: for researchers who telephone the clients who have not answered."""
    yield CALL_LIST_HEADER
    today = local_today(study, now)
    query = _open(wave).order_by(Invitation.closes_on, Invitation.id)
    for row in session.execute(query.execution_options(yield_per=1000)):
        yield (row.ref, row.phone or "", row.email or "",
               (row.closes_on - today).days if row.closes_on else "", row.reminders_sent)


def pause(wave: Wave, now: datetime) -> bool:
    """Pause the wave's issuing (and reminders); False if it was paused already."""
    if wave.paused_at is not None:
        return False
    wave.paused_at = now
    return True


def resume(session: Session, wave: Wave) -> int:
    """Resume it; returns how many questionnaires were waiting. The dispatcher's next pass
    issues those still within their window and marks the rest lapsed (issue_due)."""
    waiting = session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.wave_id == wave.id, Invitation.status == InvitationStatus.SCHEDULED)) or 0
    wave.paused_at = None
    return waiting


# --- progress and delivery failures, for the dashboard ----------------------------------

@dataclass(frozen=True)
class Week:
    starts: date  # a Monday
    issued: int  # cumulative
    answered: int  # cumulative


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def progress(session: Session, wave: Wave, *, weeks: int = 12) -> list[Week]:
    """Cumulative questionnaires issued and answered by week (the last `weeks` weeks with any
    activity). Grouped by date in the database (at most one row a day), so it stays small.

    The issue date is read as closes_on - close_days: closes_on is set at issue from the
    local issue date, and is a date column every database groups alike."""
    issued: dict[date, int] = {}
    for closes_on, n in session.execute(
            select(Invitation.closes_on, func.count()).where(
                Invitation.wave_id == wave.id, Invitation.closes_on.is_not(None))
            .group_by(Invitation.closes_on)):
        week = _monday(closes_on - timedelta(days=wave.close_days))
        issued[week] = issued.get(week, 0) + n
    answered: dict[date, int] = {}
    for on, n in session.execute(
            select(Response.submitted_on, func.count()).where(
                Response.wave_id == wave.id, Response.status == "submitted",
                Response.submitted_on.is_not(None))
            .group_by(Response.submitted_on)):
        week = _monday(on)
        answered[week] = answered.get(week, 0) + n
    if not issued and not answered:
        return []
    first, last = min(issued.keys() | answered.keys()), max(issued.keys() | answered.keys())
    out: list[Week] = []
    total_issued = total_answered = 0
    week = first
    while week <= last:
        total_issued += issued.get(week, 0)
        total_answered += answered.get(week, 0)
        out.append(Week(week, total_issued, total_answered))
        week += timedelta(days=7)
    return out[-weeks:]


@dataclass(frozen=True)
class Failure:
    ref: str
    wave_code: str
    channel: str | None  # email | sms; None for an invitation that failed as a whole


def delivery_failures(session: Session, study: Study, limit: int = 10) -> tuple[int, list[Failure]]:
    """(how many participants have a message that could not be delivered, the first
    `limit` of them): permanent failures in the messages table not overtaken by a later
    message (surveys.models.message.undelivered), and invitations that failed after every
    retry."""
    permanent = (select(Participant.ref, Wave.code, Message.channel).select_from(Message)
                 .join(Invitation, Invitation.id == Message.invitation_id)
                 .join(Participant, Participant.id == Message.participant_id)
                 .join(Wave, Wave.id == Invitation.wave_id)
                 .where(Wave.study_id == study.id, undelivered()))
    failed = (select(Participant.ref, Wave.code).select_from(Invitation)
              .join(Participant, Participant.id == Invitation.participant_id)
              .join(Wave, Wave.id == Invitation.wave_id)
              .where(Wave.study_id == study.id,
                     Invitation.delivery_status == DeliveryStatus.FAILED))
    found: dict[tuple[str, str], Failure] = {}
    for ref, code, channel in session.execute(permanent.order_by(Participant.ref)
                                              .limit(limit * 2)):
        found.setdefault((ref, code), Failure(ref, code, channel))
    for ref, code in session.execute(failed.order_by(Participant.ref).limit(limit * 2)):
        found.setdefault((ref, code), Failure(ref, code, None))
    refs_permanent = permanent.with_only_columns(Participant.id)
    refs_failed = failed.with_only_columns(Participant.id)
    total = session.scalar(select(func.count()).select_from(
        refs_permanent.union(refs_failed).subquery())) or 0
    return total, sorted(found.values(), key=lambda f: (f.ref, f.wave_code))[:limit]
