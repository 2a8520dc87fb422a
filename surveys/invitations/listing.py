"""The questionnaires of a study, one page at a time: for the staff page that lists them
(status, messages, telephone entry), filtered by wave, status and reference.

Queries only (no web code). Everything is read from an index: each wave's questionnaires
latest due first from ix_invitations_wave_due (wave, due_on, id), of one status from
ix_invitations_wave_status (wave, status, due_on, id), a failed email from
ix_invitations_delivery, a reference from ix_participants_ref_lower.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session, joinedload

from surveys.cohort.participant_list import REF_SEARCH, BadFilter, ref_conditions
from surveys.list_pages import PAGE_SIZE, ListPage, page_count
from surveys.models import DeliveryStatus, Invitation, InvitationStatus, Participant, Study

FAILED = "failed"  # the status filter for an email given up after its last retry


@dataclass(frozen=True)
class Filters:
    ref: str = ""  # reference, or its beginning, any case
    wave: str = ""  # a wave's code; empty: every wave
    status: str = ""  # an InvitationStatus, or FAILED

    def checked(self, study: Study) -> Filters:
        """These filters, or BadFilter naming the first that cannot be used."""
        if self.ref and not REF_SEARCH.fullmatch(self.ref):
            raise BadFilter("bad_ref")
        if self.wave and self.wave not in {w.code for w in study.waves}:
            raise BadFilter("bad_wave", wave=self.wave)
        if self.status and self.status not in {*InvitationStatus, FAILED}:
            raise BadFilter("bad_status", status=self.status)
        return self

    def query_args(self) -> dict[str, str]:
        args = {"ref": self.ref, "wave": self.wave, "status": self.status}
        return {k: v for k, v in args.items() if v}


class InvitationPage(ListPage[Invitation]):
    """A page of the questionnaire list (its invitations with participant and wave
    loaded)."""


def _wave_ids(study: Study, filters: Filters) -> list[int]:
    return [w.id for w in study.waves if not filters.wave or w.code == filters.wave]


def filtered(study: Study, filters: Filters, wave_ids: list[int] | None = None) -> Select:
    """SELECT the study's invitations matching the filters (no order, no limit), of the
    given waves (default: those the filters allow)."""
    ids = _wave_ids(study, filters) if wave_ids is None else wave_ids
    query = select(Invitation).where(
        Invitation.wave_id == ids[0] if len(ids) == 1 else Invitation.wave_id.in_(ids))
    if filters.status == FAILED:
        query = query.where(Invitation.delivery_status == DeliveryStatus.FAILED)
    elif filters.status:
        query = query.where(Invitation.status == filters.status)
    if filters.ref:
        query = query.join(Participant, Participant.id == Invitation.participant_id).where(
            Participant.study_id == study.id, *ref_conditions(filters.ref))
    return query


def count(session: Session, study: Study, filters: Filters) -> int:
    # Wave by wave: each count is an equality range of an index, even when the study's
    # waves hold every row of the table (SQLite would scan the table for an IN list).
    return sum(session.scalar(filtered(study, filters, [wave_id])
                              .with_only_columns(func.count())) or 0
               for wave_id in _wave_ids(study, filters))


def page_of(session: Session, study: Study, filters: Filters, page: int) -> InvitationPage:
    """One page, latest due first; BadFilter("bad_page") for a page beyond the last."""
    total = count(session, study, filters)
    pages = page_count(total)
    if not 1 <= page <= pages:
        raise BadFilter("bad_page", pages=pages)
    offset = (page - 1) * PAGE_SIZE
    # Each wave's rows are read in index order (ix_invitations_wave_due, or
    # ix_invitations_wave_status with a status), offset + 50 of them at most, and the page
    # is cut from those merged: no sort of every questionnaire of the study.
    firsts = [
        filtered(study, filters, [wave_id])
        .with_only_columns(Invitation.id, Invitation.due_on)
        .order_by(Invitation.due_on.desc(), Invitation.id.desc())
        .limit(offset + PAGE_SIZE).subquery()
        for wave_id in _wave_ids(study, filters)]
    if not firsts:  # a study without waves
        return InvitationPage(rows=[], total=total, page=page, pages=pages)
    merged = (firsts[0] if len(firsts) == 1
              else union_all(*(select(f.c.id, f.c.due_on) for f in firsts)).subquery())
    ids = session.scalars(select(merged.c.id)
                          .order_by(merged.c.due_on.desc(), merged.c.id.desc())
                          .limit(PAGE_SIZE).offset(offset)).all()
    if not ids:
        return InvitationPage(rows=[], total=total, page=page, pages=pages)
    found = {inv.id: inv for inv in session.scalars(
        select(Invitation).where(Invitation.id.in_(ids))
        .options(joinedload(Invitation.participant), joinedload(Invitation.wave))).unique()}
    return InvitationPage(rows=[found[i] for i in ids], total=total, page=page, pages=pages)
