"""Answering a questionnaire page by page: start, save, resume, submit exactly once.

Routing and answer types come from the instrument (data in `instruments/`);
this module only keeps the response row in step with the client's progress.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from instruments import Instrument, Page, clean_answers, visible_pages, visible_questions
from surveys.models import Invitation, InvitationStatus, Response, User

CHECK = "check"


def instrument_for(invitation: Invitation, response: Response | None = None) -> Instrument:
    """The version a response started on stays its version, even if the file changes."""
    from sqlalchemy.orm import object_session

    from surveys.studies.instruments import instrument, wave_instrument

    session = object_session(invitation)
    if response is not None:
        return instrument(session, response.instrument, response.instrument_version)
    return wave_instrument(session, invitation.wave)


def response_for(session: Session, invitation: Invitation) -> Response | None:
    return session.scalar(select(Response).where(Response.invitation_id == invitation.id))


def start(
    session: Session,
    invitation: Invitation,
    now: datetime,
    *,
    mode: str = "web",
    entered_by: User | None = None,
) -> Response:
    """The invitation's response, created on first use (one per invitation, by constraint)."""
    response = response_for(session, invitation)
    if response is not None:
        return response
    instrument = instrument_for(invitation)
    response = Response(
        wave_id=invitation.wave_id,
        invitation_id=invitation.id,
        participant_id=invitation.participant_id,
        participant_ref=invitation.participant.ref,
        status="in_progress",
        mode=mode,
        source="form",
        entered_by_id=entered_by.id if entered_by else None,
        instrument=instrument.name,
        instrument_version=instrument.version,
        answers={},
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        # Another request for the same link created it first: use theirs.
        response = response_for(session, invitation)
        assert response is not None
    return response


def next_page_id(instrument: Instrument, answers: dict, after: str | None) -> str:
    """The page after `after` that routing shows, or the check-answers step."""
    pages = visible_pages(instrument, answers)
    ids = [p.id for p in pages]
    if after is None:
        return ids[0] if ids else CHECK
    if after in ids:
        index = ids.index(after) + 1
        return ids[index] if index < len(ids) else CHECK
    return CHECK


def previous_page_id(instrument: Instrument, answers: dict, page_id: str) -> str | None:
    ids = [p.id for p in visible_pages(instrument, answers)]
    if page_id == CHECK:
        return ids[-1] if ids else None
    if page_id in ids:
        index = ids.index(page_id)
        return ids[index - 1] if index > 0 else None
    return None


def resume_page_id(instrument: Instrument, response: Response) -> str:
    """Where a returning client continues: the first shown page they have not saved."""
    answers = response.answers or {}
    seen = set(answers.get("_pages_seen") or [])
    for page in visible_pages(instrument, answers):
        if page.id not in seen:
            return page.id
    return CHECK


def after_change(instrument: Instrument, answers: dict, page_id: str) -> str:
    """Where a client who changed a page from check-answers goes next: the first later
    page that routing now shows and that is unseen or lacks a required answer (a page the
    change opened), else back to check-answers. Routing only looks back, so a change
    never affects an earlier page."""
    seen = set(answers.get("_pages_seen") or [])
    shown = {q.id for q in visible_questions(instrument, answers)}
    pages = visible_pages(instrument, answers)
    ids = [p.id for p in pages]
    for page in pages[ids.index(page_id) + 1:] if page_id in ids else []:
        if page.id not in seen or any(
            q.required and q.id in shown and q.id not in answers for q in page.questions
        ):
            return page.id
    return CHECK


def save_page(response: Response, instrument: Instrument, page: Page, values: dict) -> None:
    """Store a page's answers; routing may hide later answers, which are then dropped."""
    if response.status != "in_progress":
        raise AlreadySubmitted()
    answers = {k: v for k, v in (response.answers or {}).items() if k != "_pages_seen"}
    for question in page.questions:
        answers.pop(question.id, None)
        if values.get(question.id) not in (None, "", []):
            answers[question.id] = values[question.id]
    seen = list((response.answers or {}).get("_pages_seen") or [])
    if page.id not in seen:
        seen.append(page.id)
    answers = clean_answers(instrument, answers)
    answers["_pages_seen"] = seen
    response.answers = answers  # a new dict, so the JSON column notices the change
    response.current_page = page.id


def missing_required(instrument: Instrument, response: Response) -> list[str]:
    answers = response.answers or {}
    return [
        q.id
        for page in visible_pages(instrument, answers)
        for q in page.questions
        if q.required and q.id not in answers
    ]


class AlreadySubmitted(Exception):
    pass


# Submitting is the busiest write after a mail-out, so its two statements are built once
# and run as plain Core statements (no ORM bookkeeping): about 1 ms less per submission.
_responses = Response.__table__
_invitations = Invitation.__table__
_SUBMIT_RESPONSE = (
    update(_responses)
    .where(_responses.c.id == bindparam("response_id"), _responses.c.status == "in_progress")
    .values(status="submitted", submitted_at=bindparam("now"), submitted_on=bindparam("today"),
            answers=bindparam("answers", type_=_responses.c.answers.type))
)
_COMPLETE_INVITATION = (
    update(_invitations)
    .where(_invitations.c.id == bindparam("invitation_id"))
    .values(status=InvitationStatus.COMPLETED)
)


def submit_by_telephone(session: Session, response: Response, instrument: Instrument,
                        invitation: Invitation, interviewer_id: int | None,
                        now: datetime) -> bool:
    """Submit answers an interviewer entered on the client's behalf (the web's telephone
    entry, and the demo's interviews): the response records the mode, the interviewer and
    the calls it took, this one included (one when entered without a recorded call)."""
    response.mode = "telephone"
    response.entered_by_id = interviewer_id
    response.calls = max(invitation.calls or 0, 1)
    session.flush()  # before submit(), which writes with Core and expires the row
    return submit(session, response, instrument, now)


def submit(session: Session, response: Response, instrument: Instrument, now: datetime) -> bool:
    """Submit once. Returns False when another request submitted it first.

    The conditional UPDATE is the guard: of any number of simultaneous
    submissions of one link, exactly one changes the row.
    """
    answers = clean_answers(
        instrument, {k: v for k, v in (response.answers or {}).items() if k != "_pages_seen"}
    )
    connection = session.connection()
    result = connection.execute(_SUBMIT_RESPONSE, {
        "response_id": response.id, "now": now, "today": now.date(), "answers": answers})
    if result.rowcount != 1:
        return False
    if response.invitation_id is not None:
        connection.execute(_COMPLETE_INVITATION, {"invitation_id": response.invitation_id})
    session.expire(response)
    return True
