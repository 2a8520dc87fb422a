"""Response import (contracts section 3): answers collected outside the web forms.

All-or-nothing like the cohort import. A row whose participant_ref matches no
participant is still stored, unlinked, so nothing a client said is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument, parse_import_cell
from surveys.cohort_import import ImportRejected, parse_date
from surveys.csv_rows import CsvFileError, RowErrors, read_rows
from surveys.messages import answer_error
from surveys.models import Invitation, InvitationStatus, Participant, Response, Study, Wave

FIXED = ("participant_ref", "submitted_on", "mode")
# Written by the response export; accepted so an export can be imported again.
INFORMATIONAL = ("instrument_version",)
MODES = ("web", "telephone")


@dataclass(frozen=True)
class ResponseImportResult:
    stored: int
    linked: int
    unlinked: int


def import_responses(
    session: Session,
    study: Study,
    wave: Wave,
    data: bytes | str,
    *,
    filename: str = "responses.csv",
) -> ResponseImportResult:
    instrument = load_instrument(wave.instrument)
    questions = {q.id: q for q in instrument.questions()}
    header, rows = read_rows(data, filename, FIXED)
    unknown = [
        name
        for name in header
        if name not in FIXED and name not in INFORMATIONAL and name not in questions
    ]
    if unknown:
        raise CsvFileError(
            f"{filename}: column(s) {', '.join(unknown)} are not questions of {wave.code} "
            f"(instrument {instrument.name} version {instrument.version}). "
            f"Its question ids are: {', '.join(questions)}."
        )
    participants = {
        p.ref: p
        for p in session.scalars(select(Participant).where(Participant.study_id == study.id))
    }
    invitations = {
        inv.participant_id: inv
        for inv in session.scalars(select(Invitation).where(Invitation.wave_id == wave.id))
    }
    answered = {
        pid
        for pid in session.scalars(
            select(Response.participant_id).where(
                Response.wave_id == wave.id,
                Response.status == "submitted",
                Response.participant_id.is_not(None),
            )
        )
    }
    errors = RowErrors(filename)
    seen: dict[str, int] = {}
    prepared: list[Response] = []
    completing: list[Invitation] = []
    for line, row in rows:
        ref = row["participant_ref"]
        participant = participants.get(ref)
        if len(ref) > 200:
            errors.add(line, "participant_ref", "must be 200 characters or fewer")
        if participant is not None:
            if ref in seen:
                errors.add(line, "participant_ref",
                           f"'{ref}' already answered on line {seen[ref]} of this file")
            elif participant.id in answered:
                errors.add(line, "participant_ref",
                           f"'{ref}' already has a {wave.code} response stored")
            seen[ref] = line
        submitted = parse_date(row["submitted_on"])
        if submitted is None:
            errors.add(line, "submitted_on", f"'{row['submitted_on'][:20]}' is not an ISO date "
                       "(YYYY-MM-DD)" if row["submitted_on"] else "is required")
        if row["mode"] not in MODES:
            errors.add(line, "mode", f"'{row['mode'][:20]}' must be 'web' or 'telephone'")
        answers = {}
        for qid, question in questions.items():
            cell = row.get(qid, "")
            value, code = parse_import_cell(question, cell)
            if code and not (code == "required" and cell == ""):
                errors.add(line, qid, answer_error(code, question, "en", cell=cell))
            elif value is not None:
                answers[qid] = value
        if errors and errors.problems[-1][0] == line:
            continue
        invitation = invitations.get(participant.id) if participant else None
        if invitation is not None:
            completing.append(invitation)
        at = datetime.combine(submitted, time(12), tzinfo=UTC)
        prepared.append(
            Response(
                wave_id=wave.id,
                invitation_id=invitation.id if invitation else None,
                participant_id=participant.id if participant else None,
                participant_ref=ref,
                status="submitted",
                mode=row["mode"],
                source="import",
                instrument=instrument.name,
                instrument_version=instrument.version,
                answers=answers,
                started_at=at,
                submitted_at=at,
                submitted_on=submitted,
            )
        )
    if not rows:
        errors.add(1, "", "the file has a header but no responses")
    if errors:
        raise ImportRejected([errors])
    for invitation in completing:
        invitation.status = InvitationStatus.COMPLETED
    session.add_all(prepared)
    session.flush()
    linked = sum(1 for r in prepared if r.participant_id is not None)
    return ResponseImportResult(len(prepared), linked, len(prepared) - linked)
