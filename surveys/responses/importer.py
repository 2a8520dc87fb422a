"""Response import (contracts section 3): answers collected outside the web forms.

All-or-nothing like the cohort import. A row whose participant_ref matches no
participant is still stored, unlinked, so nothing a client said is dropped.

Importing the same file again adds nothing: a row identical to one already imported for
the wave (same reference, date, mode and answers) is skipped, linked or not, as many
times as it is stored. A client who
started online and did not finish has an unfinished draft on their invitation: the
imported answers replace it (the caller audits which). A client with a submitted response
for the wave cannot get a second one: that row is refused with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import parse_import_cell
from surveys.clock import system_clock
from surveys.clock import today as clock_today
from surveys.cohort.importer import ImportRejected, parse_date
from surveys.csv_rows import RowErrors, date_problem, open_rows, single_line_problem
from surveys.messages import answer_error
from surveys.models import Invitation, InvitationStatus, Participant, Response, Study, Wave
from surveys.studies.instruments import wave_instrument

FIXED = ("participant_ref", "submitted_on", "mode")
# Written by the response export; accepted so an export can be imported again.
INFORMATIONAL = ("instrument_version",)
MODES = ("web", "telephone")
NOT_YET_ISSUED = (InvitationStatus.SCHEDULED, InvitationStatus.OUT_OF_WINDOW)


@dataclass(frozen=True)
class ResponseImportResult:
    stored: int
    linked: int
    unlinked: int
    # Rows identical to responses imported before: skipped, so a file can be imported twice.
    already_stored: int = 0
    # References whose unfinished online answers the imported ones replaced.
    drafts_replaced: tuple[str, ...] = field(default=())


class NotYetDue(ValueError):
    """Rows for participants whose questionnaire for the wave is not due yet (not issued,
    due after today): stored only when the person importing confirms. Nothing was changed."""

    def __init__(self, refs: list[str]):
        super().__init__(f"{len(refs)} rows are for questionnaires not yet due")
        self.refs = refs


def fingerprint(ref: str, submitted_on: date, mode: str, answers: dict) -> str:
    """What makes two imported rows the same row."""
    body = json.dumps([ref, submitted_on.isoformat(), mode, answers], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def import_responses(
    session: Session,
    study: Study,
    wave: Wave,
    data: bytes | str | os.PathLike | BinaryIO,
    *,
    filename: str = "responses.csv",
    today: date | None = None,
    confirm_not_due: bool = True,
) -> ResponseImportResult:
    """Validate the whole file (read as a stream), then store every row or none.

    The caller commits. Dates after `today` (the service clock's; the system date if
    not given) are refused, as are dates before the participant's invitation for the wave
    was due (before they completed the intervention, when they have no invitation for it).
    With confirm_not_due=False, a valid file with rows for questionnaires not yet due
    (scheduled after today) raises NotYetDue, naming them, before anything is stored;
    without the date check against the due date, which such rows cannot pass.
    """
    today = today or clock_today(system_clock)
    instrument = wave_instrument(session, wave)
    questions = {q.id: q for q in instrument.questions()}
    _, rows = open_rows(
        data, filename, FIXED, (*FIXED, *INFORMATIONAL, *questions),
        unknown_note=f"are not questions of {wave.code} (instrument {instrument.name} "
                     f"version {instrument.version}). Its question ids are: "
                     f"{', '.join(questions)}",
    )
    participants: dict[str, Participant] = {}
    by_key: dict[str, list[Participant]] = {}
    for p in session.scalars(select(Participant).where(Participant.study_id == study.id)):
        participants[p.ref] = p
        by_key.setdefault(p.ref.lower(), []).append(p)
    invitations = {
        inv.participant_id: inv
        for inv in session.scalars(select(Invitation).where(Invitation.wave_id == wave.id))
    }
    answered = set(session.scalars(
        select(Response.participant_id).where(
            Response.wave_id == wave.id,
            Response.status == "submitted",
            Response.participant_id.is_not(None),
        )
    ))
    # Unfinished online answers, locked so that a client cannot submit them meanwhile.
    drafts = {
        r.invitation_id: r
        for r in session.scalars(
            select(Response).where(Response.wave_id == wave.id,
                                   Response.status == "in_progress",
                                   Response.invitation_id.is_not(None)).with_for_update()
        )
    }
    # How many times each row is stored already: a file imported again matches them one for
    # one, so identical rows within a file (kept, as before) are not added again either.
    imported = Counter(
        fingerprint(ref or "", on, mode, answers or {})
        for ref, on, mode, answers in session.execute(
            select(Response.participant_ref, Response.submitted_on, Response.mode,
                   Response.answers).where(Response.wave_id == wave.id,
                                           Response.source == "import",
                                           Response.status == "submitted",
                                           Response.submitted_on.is_not(None))
        )
    )
    errors = RowErrors(filename)
    seen: dict[str, int] = {}
    prepared: list[Response] = []
    completing: list[Invitation] = []
    replacing: list[tuple[Response, dict]] = []
    not_due: list[str] = []
    skipped = 0
    count = 0
    for line, row in rows:
        count += 1
        ref = row["participant_ref"]
        participant = participants.get(ref)
        if participant is None and len(by_key.get(ref.lower(), ())) == 1:
            participant = by_key[ref.lower()][0]  # the same reference in other capitals
        invitation = invitations.get(participant.id) if participant else None
        if len(ref) > 200:
            errors.add(line, "participant_ref", "must be 200 characters or fewer")
        elif problem := single_line_problem(ref):
            errors.add(line, "participant_ref", problem)
        submitted = parse_date(row["submitted_on"])
        early = False
        if submitted is None:
            errors.add(line, "submitted_on", f"'{row['submitted_on'][:20]}' is not an ISO date "
                       "(YYYY-MM-DD)" if row["submitted_on"] else "is required")
        elif problem := date_problem(submitted, today):
            errors.add(line, "submitted_on", problem)
        elif (invitation is not None and invitation.due_on > today
              and invitation.status in NOT_YET_ISSUED):
            # The questionnaire is not due yet: answers collected early (e.g. a client who
            # rang in) are stored only when the person importing confirms (NotYetDue).
            early = True
            if participant is not None and participant.completed_on and (
                    submitted < participant.completed_on):
                errors.add(line, "submitted_on", f"{submitted.isoformat()} is before '{ref}' "
                           f"completed the intervention ({participant.completed_on.isoformat()})")
        elif invitation is not None and submitted < invitation.due_on:
            # A wave's questionnaire is answered once it is due (issue 11): an earlier
            # date is a typing slip or the wrong wave's file.
            errors.add(line, "submitted_on", f"{submitted.isoformat()} is before '{ref}''s "
                       f"{wave.code} questionnaire was due ({invitation.due_on.isoformat()})")
        elif (participant is not None and participant.completed_on is not None
              and submitted < participant.completed_on):
            # No invitation for this wave (not scheduled yet): at least the intervention ended
            # (a non-completer has no completion date to check against).
            errors.add(line, "submitted_on", f"{submitted.isoformat()} is before '{ref}' "
                       f"completed the intervention ({participant.completed_on.isoformat()})")
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
        assert submitted is not None
        mark = fingerprint(ref, submitted, row["mode"], answers)
        if imported[mark] > 0:
            imported[mark] -= 1
            skipped += 1  # imported before, exactly as it is: nothing to add
            continue
        if participant is not None:
            if participant.id in seen:
                errors.add(line, "participant_ref",
                           f"'{ref}' already answered on line {seen[participant.id]} of this "
                           "file")
                continue
            seen[participant.id] = line
            if participant.id in answered:
                errors.add(line, "participant_ref",
                           f"'{ref}' already has a submitted {wave.code} response stored; "
                           "a client answers each wave once")
                continue
        at = datetime.combine(submitted, time(12), tzinfo=UTC)
        fields = dict(
            wave_id=wave.id,
            invitation_id=invitation.id if invitation else None,
            participant_id=participant.id if participant else None,
            participant_ref=ref,
            status="submitted",
            mode=row["mode"],
            source="import",
            entered_by_id=None,
            instrument=instrument.name,
            instrument_version=instrument.version,
            answers=answers,
            current_page=None,
            submitted_at=at,
            submitted_on=submitted,
        )
        if invitation is not None:
            completing.append(invitation)
            if early:
                not_due.append(ref)
        draft = drafts.get(invitation.id) if invitation is not None else None
        if draft is not None:
            # The client began online and did not finish: the imported answers replace it.
            replacing.append((draft, fields))
            continue
        prepared.append(Response(started_at=at, **fields))
    if not count:
        errors.add(1, "", "the file has a header but no responses")
    if errors:
        raise ImportRejected([errors])
    if not_due and not confirm_not_due:
        raise NotYetDue(not_due)
    for invitation in completing:
        invitation.status = InvitationStatus.COMPLETED
    for draft, fields in replacing:
        for name, value in fields.items():
            setattr(draft, name, value)
    replaced = tuple(fields["participant_ref"] for _, fields in replacing)
    session.add_all(prepared)
    session.flush()
    stored = len(prepared) + len(replaced)
    linked = sum(1 for r in prepared if r.participant_id is not None) + len(replaced)
    return ResponseImportResult(stored, linked, stored - linked, skipped, replaced)
