"""Privacy by design: contact details kept only while needed, and erasure on request.

Contact details (email and phone) exist to deliver questionnaires. Once no
invitation of a participant can still be sent, the dispatcher erases them
(`erase_spent_contact_details`). An invitation can still be sent while it is
scheduled, issued (a reminder, or a telephone call, may follow) or has an email
waiting to go; one left out of the study window can come back if a researcher
extends the study's end date, so it counts until that date has passed.

`erase_participant` removes one participant on request (the
`surveys erase-participant` command). What goes and what stays:

- removed: the participant record itself, i.e. the reference, site,
  completion date, language, email, phone and the baselines of the study's
  measures (the `<key>_end` values stored for them); every appointment; every
  invitation (so their personal links stop working); unfinished web responses; the
  report's counts of what was removed (folded at once, see `reports.kept.fold`).
- kept, anonymous: submitted responses stay as unlinked responses (no
  participant, invitation, reference or staff member attached), with the
  free-text answers removed, because a client may have written something
  identifying there. Reports then count them as responses that could not be
  linked, as they do for any response with an unknown reference, so totals
  already shared with evaluators stay explainable. With `delete_responses`
  they are deleted too.
- removed from the outbox folder (embedded mode without an SMTP server): every
  email to the participant, found by address and by the Message-IDs of their
  invitations, reminders and links sent again (`erase_outbox_copies`), so no copy of
  their address or link stays.
- kept: the audit log, which never held the participant's reference or
  answers; the erasure itself is recorded with a keyed digest of the
  reference (enough to confirm a later question "was REF erased?", but the log
  does not list references).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.orm import Session, object_session

from instruments.errors import InstrumentError
from surveys.models import (
    Appointment,
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
    Study,
    Wave,
)
from surveys.reports import kept
from surveys.studies.instruments import instrument as kept_or_shipped
from surveys.studies.measures import cohort_column


def erase_spent_contact_details(session: Session, now: datetime) -> int:
    """Erase email and phone of participants no invitation can be sent to any more.

    One UPDATE statement, so it is safe beside other dispatcher processes. The
    caller commits. Returns how many participants' details were erased.
    """
    today = now.date()
    window_open = (
        select(Study.id)
        .where(Study.id == Participant.study_id,
               or_(Study.end_date.is_(None), Study.end_date >= today))
        .correlate(Participant)
        .exists()
    )
    can_still_be_sent = (
        select(Invitation.id)
        .where(
            Invitation.participant_id == Participant.id,
            or_(
                Invitation.status.in_([InvitationStatus.SCHEDULED, InvitationStatus.ISSUED]),
                Invitation.delivery_status == DeliveryStatus.PENDING,
                and_(Invitation.status == InvitationStatus.OUT_OF_WINDOW, window_open),
            ),
        )
        .correlate(Participant)
        .exists()
    )
    result = session.execute(
        update(Participant)
        .where(or_(Participant.email.is_not(None), Participant.phone.is_not(None)),
               ~can_still_be_sent)
        .values(email=None, phone=None, contact_erased_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def ref_digest(secret: str, study_slug: str, ref: str) -> str:
    """A keyed digest of a reference, recorded in the audit log instead of the reference."""
    digest = hmac.new(secret.encode(), f"{study_slug}:{ref}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class ParticipantNotFound(LookupError):
    pass


@dataclass
class ErasureReport:
    study: str
    ref: str
    contact_details: list[str] = field(default_factory=list)
    scores: list[str] = field(default_factory=list)
    appointments: int = 0
    invitations: int = 0
    responses_unlinked: int = 0
    free_text_answers_removed: int = 0
    responses_deleted: int = 0
    # Emails deleted from the outbox folder; None when mail goes through an SMTP server.
    outbox_messages: int | None = None
    # What finds their copies in the outbox: never printed or audited.
    email: str | None = field(default=None, repr=False)
    # (nonce, kind, number) of every message their invitations may have sent.
    messages: list[tuple[str, str, int]] = field(default_factory=list, repr=False)

    def lines(self) -> list[str]:
        return [
            f"Erased participant '{self.ref}' from study '{self.study}':",
            "  participant record removed (reference, site, completion date, language)",
            "  contact details removed: " + (", ".join(self.contact_details) or "none held"),
            "  stored scores removed: " + (", ".join(self.scores) or "none held"),
            f"  appointments removed: {self.appointments}",
            f"  invitations removed: {self.invitations} (their personal links no longer open)",
            f"  responses kept without any link to the participant: {self.responses_unlinked}"
            f" (free-text answers removed: {self.free_text_answers_removed})",
            f"  responses deleted: {self.responses_deleted}",
        ] + ([] if self.outbox_messages is None else [
            f"  emails removed from the outbox folder: {self.outbox_messages}"
        ])

    def counts(self) -> dict:
        return {
            "contact_details": self.contact_details,
            "scores": self.scores,
            "appointments": self.appointments,
            "invitations": self.invitations,
            "responses_unlinked": self.responses_unlinked,
            "free_text_answers_removed": self.free_text_answers_removed,
            "responses_deleted": self.responses_deleted,
            "outbox_messages": self.outbox_messages,
        }


def erase_outbox_copies(outbox, report: ErasureReport, message_id) -> int:
    """Delete the outbox copies (.eml files) of every email to the erased participant.

    `outbox` is a surveys.invitations.mailer.OutboxMailer; `message_id(nonce, kind, number)`
    gives the Message-ID the dispatcher used for each message of `report.messages`, which
    finds their emails even when the address was already erased as spent.
    Records and returns how many files went.
    """
    ids = {message_id(nonce, kind, number) for nonce, kind, number in report.messages}
    report.outbox_messages = outbox.erase(
        addresses=[report.email] if report.email else [], message_ids=ids
    )
    return report.outbox_messages


def _messages_sent(session: Session, participant: Participant) -> list[tuple[str, str, int]]:
    """Every message an invitation of theirs may have sent: the invitation and up to three
    reminders (also those sent before messages were recorded, migration 0012), and each
    time staff sent the link again (Invitation.resends counts them, sent or in flight)."""
    found: list[tuple[str, str, int]] = []
    for nonce, resends in session.execute(
            select(Invitation.nonce, Invitation.resends)
            .where(Invitation.participant_id == participant.id)):
        if not nonce:
            continue  # never issued: nothing was sent
        found += [(nonce, "invitation", 0)] + [(nonce, "reminder", n) for n in (1, 2, 3)]
        found += [(nonce, "resend", n) for n in range(1, resends + 1)]
    return found


def _free_text_ids(session: Session, name: str, version: str, cache: dict) -> set[str]:
    key = (name, version)
    if key not in cache:
        try:
            instrument = kept_or_shipped(session, name, version)
        except (InstrumentError, LookupError, OSError, ValueError):
            cache[key] = None
        else:
            cache[key] = {q.id for q in instrument.questions() if q.type == "free_text"}
    return cache[key]


def _anonymise(response: Response, cache: dict) -> int:
    """Cut a response loose from everyone; drop free-text answers. Returns how many dropped."""
    answers = dict(response.answers or {})
    answers.pop("_pages_seen", None)
    free_text = _free_text_ids(object_session(response), response.instrument,
                               response.instrument_version, cache)
    if free_text is None:
        # An instrument version no longer on disk: drop any answer that is not a
        # number or a choice code, so no sentence a client wrote survives.
        free_text = {k for k, v in answers.items() if isinstance(v, str) and " " in v}
    removed = [k for k in answers if k in free_text]
    for key in removed:
        del answers[key]
    response.answers = answers
    response.participant_id = None
    response.invitation_id = None
    response.participant_ref = None
    response.entered_by_id = None
    response.current_page = None
    return len(removed)


def erase_participant(
    session: Session, study: Study, ref: str, *, delete_responses: bool = False
) -> ErasureReport:
    """Erase one participant (see the module docstring). The caller commits."""
    participant = session.scalar(
        select(Participant).where(Participant.study_id == study.id, Participant.ref == ref)
    )
    if participant is None:
        raise ParticipantNotFound(f"No participant '{ref}' in study '{study.slug}'.")
    report = ErasureReport(study=study.slug, ref=ref)
    report.contact_details = [name for name in ("email", "phone") if getattr(participant, name)]
    # Named by their cohort columns (workability_end...), as researchers load them.
    report.scores = [cohort_column(m) for m in study.measures
                     if m.baseline and getattr(participant, f"baseline_{m.slot}") is not None]
    report.email = participant.email
    report.appointments = session.scalar(
        select(func.count()).select_from(Appointment)
        .where(Appointment.participant_id == participant.id)
    ) or 0
    invitation_ids = list(session.scalars(
        select(Invitation.id).where(Invitation.participant_id == participant.id)
    ))
    report.invitations = len(invitation_ids)
    report.messages = _messages_sent(session, participant)
    wave_ids = select(Wave.id).where(Wave.study_id == study.id)
    responses = session.scalars(
        select(Response).where(
            or_(
                Response.participant_id == participant.id,
                Response.invitation_id.in_(invitation_ids) if invitation_ids else false(),
                # Imported before the participant was, linked only by the reference.
                and_(Response.participant_ref == ref, Response.wave_id.in_(wave_ids)),
            )
        ).with_for_update()
    ).all()
    cache: dict = {}
    for response in responses:
        if delete_responses or response.status != "submitted":
            session.delete(response)
            report.responses_deleted += 1
        else:
            report.free_text_answers_removed += _anonymise(response, cache)
            report.responses_unlinked += 1
    session.flush()
    session.execute(delete(Appointment).where(Appointment.participant_id == participant.id)
                    .execution_options(synchronize_session=False))
    session.execute(delete(Invitation).where(Invitation.participant_id == participant.id)
                    .execution_options(synchronize_session=False))
    session.expunge(participant)
    session.execute(delete(Participant).where(Participant.id == participant.id)
                    .execution_options(synchronize_session=False))
    # The report's kept counts (PostgreSQL) hold each answer's text, and appended rows
    # would keep what was just taken away until the scheduler folds them: fold now, so a
    # count that falls to zero (a free-text answer, say) is gone with the answer.
    kept.fold(session)
    return report
