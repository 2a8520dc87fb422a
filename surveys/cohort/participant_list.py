"""Finding participants of a study: search by reference, filters, sorting, one page at a time.

Plain queries taking the session (no web code), shared by the participants page and its
CSV. A reference search is a range on lower(ref), `lower(ref) >= q AND lower(ref) < q'`
(q' is q with its last character moved on by one), so both SQLite and PostgreSQL read it
from ix_participants_ref_lower (study_id, lower(ref)): exact and prefix matches alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from surveys.list_pages import PAGE_SIZE, ListPage, page_count
from surveys.models import (
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Message,
    Participant,
    Study,
)
from surveys.models.message import undelivered

SORTS = ("reference", "site", "completed_on")
# The reference alphabet of the cohort import (contracts s. 2).
REF_SEARCH = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadFilter(ValueError):
    """A filter no participant list can answer; str() is the one line to show (a code
    the web layer translates, see `problem`)."""

    def __init__(self, problem: str, **params: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.params = params


@dataclass(frozen=True)
class Filters:
    ref: str = ""  # reference, or its beginning, any case
    site: str = ""
    arm: str = ""
    wave: str = ""  # with status: the wave's invitation status
    status: str = ""
    delivery_problem: bool = False
    withdrawn: bool = False
    opted_out: bool = False
    sort: str = "reference"

    def checked(self, study: Study) -> Filters:
        """These filters, or BadFilter naming the first that cannot be used."""
        if self.ref and not REF_SEARCH.fullmatch(self.ref):
            raise BadFilter("bad_ref")
        if self.arm and self.arm not in (study.arms or []):
            raise BadFilter("bad_arm", arm=self.arm)
        if self.wave and self.wave not in {w.code for w in study.waves}:
            raise BadFilter("bad_wave", wave=self.wave)
        if self.status and self.status not in set(InvitationStatus):
            raise BadFilter("bad_status", status=self.status)
        if self.status and not self.wave:
            raise BadFilter("status_without_wave")
        if self.sort not in SORTS:
            raise BadFilter("bad_sort", sort=self.sort)
        return self

    def query_args(self) -> dict[str, str]:
        """The filters as query-string values (for links to other pages and the CSV)."""
        args = {"ref": self.ref, "site": self.site, "arm": self.arm, "wave": self.wave,
                "status": self.status, "problem": "1" if self.delivery_problem else "",
                "withdrawn": "1" if self.withdrawn else "",
                "opted_out": "1" if self.opted_out else "",
                "sort": "" if self.sort == "reference" else self.sort}
        return {k: v for k, v in args.items() if v}


def _next_prefix(prefix: str) -> str:
    """The least string greater than every string starting with `prefix` (ASCII)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def ref_conditions(ref: str) -> tuple:
    """WHERE conditions for participants whose reference is `ref` or begins with it, any
    case (`ref` already checked against REF_SEARCH)."""
    q = ref.lower()
    lowered = func.lower(Participant.ref)
    return (lowered >= q, lowered < _next_prefix(q),
            # The range is the index's; LIKE keeps it a prefix under any collation ('_'
            # escaped: it is a wildcard to LIKE).
            lowered.like(q.replace("_", "\\_") + "%", escape="\\"))


def filtered(study: Study, filters: Filters) -> Select:
    """SELECT participants of the study matching the filters (no order, no limit)."""
    query = select(Participant).where(Participant.study_id == study.id)
    if filters.ref:
        query = query.where(*ref_conditions(filters.ref))
    if filters.site:  # as typed, any case (a few dozen sites, written many ways)
        query = query.where(or_(Participant.site == filters.site,
                                func.lower(Participant.site) == filters.site.lower()))
    if filters.arm:
        query = query.where(Participant.arm == filters.arm)
    if filters.wave:
        wave_id = next(w.id for w in study.waves if w.code == filters.wave)
        condition = [Invitation.participant_id == Participant.id, Invitation.wave_id == wave_id]
        if filters.status:
            condition.append(Invitation.status == filters.status)
        query = query.where(exists().where(*condition))
    if filters.delivery_problem:
        query = query.where(or_(
            exists().where(Invitation.participant_id == Participant.id,
                           Invitation.delivery_status == DeliveryStatus.FAILED),
            exists().where(Message.participant_id == Participant.id, undelivered()),
        ))
    if filters.withdrawn:
        query = query.where(Participant.withdrawn_at.is_not(None))
    if filters.opted_out:
        query = query.where(Participant.opted_out_at.is_not(None))
    return query


def _ordered(query: Select, sort: str) -> Select:
    if sort == "site":
        return query.order_by(Participant.site, Participant.ref)
    if sort == "completed_on":
        # Both descending: ix_participants_completed read backwards, no sort of all rows.
        return query.order_by(Participant.completed_on.desc(), Participant.ref.desc())
    return query.order_by(Participant.ref)


class ParticipantPage(ListPage[Participant]):
    """A page of the participant list."""


def count(session: Session, study: Study, filters: Filters) -> int:
    return session.scalar(
        filtered(study, filters).with_only_columns(func.count(Participant.id))) or 0


def page_of(session: Session, study: Study, filters: Filters, page: int) -> ParticipantPage:
    """One page of the filtered list; BadFilter("bad_page") for a page beyond the last."""
    total = count(session, study, filters)
    pages = page_count(total)
    if not 1 <= page <= pages:
        raise BadFilter("bad_page", pages=pages)
    rows = session.scalars(_ordered(filtered(study, filters), filters.sort)
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return ParticipantPage(rows=list(rows), total=total, page=page, pages=pages)


CSV_HEADER = ("participant_ref", "site", "arm", "completed_on", "status", "language",
              "opted_out_at", "withdrawn_at")


def csv_rows(session: Session, study: Study, filters: Filters) -> Iterator[tuple]:
    """Header, then one row per participant of the filtered list, in its order, read in
    batches. No email or phone: the list is for finding people, not contacting them."""
    yield CSV_HEADER
    query = _ordered(filtered(study, filters), filters.sort).execution_options(yield_per=1000)
    for p in session.scalars(query):
        yield (p.ref, p.site, p.arm or "", p.completed_on.isoformat() if p.completed_on else "",
               p.status, p.language,
               p.opted_out_at.isoformat() if p.opted_out_at else "",
               p.withdrawn_at.isoformat() if p.withdrawn_at else "")


def by_ref(session: Session, study: Study, ref: str) -> Participant | None:
    """The participant with exactly this reference (any case: imports treat case-only
    differences as one person)."""
    if not REF_SEARCH.fullmatch(ref or ""):
        return None
    found = session.scalar(select(Participant).where(
        Participant.study_id == study.id, Participant.ref == ref))
    if found is None:
        lowered = func.lower(Participant.ref)
        found = session.scalar(select(Participant).where(
            and_(Participant.study_id == study.id, lowered == ref.lower())).limit(1))
    return found
