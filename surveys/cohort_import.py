"""Cohort import (contracts section 2): all-or-nothing, every bad row named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.csv_rows import RowErrors, read_rows
from surveys.invitations import schedule_for
from surveys.models import Appointment, Participant, Study

REF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
PHONE_PATTERN = re.compile(r"^[0-9+() -]{6,40}$")
LANGUAGES = ("en", "cy")
CHANNELS = ("telephone", "face_to_face_site", "face_to_face_neutral", "video")
ATTENDANCE = ("attended", "unable_to_attend", "failed_to_attend")
SCORE_COLUMNS = ("workability_end", "confidence_end", "importance_end")

PARTICIPANT_REQUIRED = ("participant_ref", "site", "completed_on")
PARTICIPANT_OPTIONAL = ("language", "email", "phone", *SCORE_COLUMNS)
APPOINTMENT_REQUIRED = ("participant_ref", "appointment_on", "channel", "attendance")


class ImportRejected(ValueError):
    """The files had problems; nothing was changed. `errors` lists each one."""

    def __init__(self, errors: list[RowErrors]):
        self.errors = errors
        super().__init__("\n".join(e.summary() for e in errors if e))


@dataclass(frozen=True)
class CohortImportResult:
    created: int
    updated: int
    appointments: int
    invitations_scheduled: int


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def parse_score(value: str) -> tuple[int | None, str | None]:
    """A 0-10 whole number, or blank. Returns (value, problem)."""
    if value == "":
        return None, None
    if not re.fullmatch(r"[0-9]{1,2}", value) or int(value) > 10:
        return None, f"'{value[:20]}' is not a whole number from 0 to 10"
    return int(value), None


def _check_participant(line: int, row: dict[str, str], errors: RowErrors) -> dict | None:
    ok = True
    ref = row["participant_ref"]
    if not REF_PATTERN.match(ref):
        errors.add(line, "participant_ref", "must be 1 to 64 letters, digits, '-' or '_'"
                   if ref else "is required")
        ok = False
    if not row["site"]:
        errors.add(line, "site", "is required")
        ok = False
    elif len(row["site"]) > 200:
        errors.add(line, "site", "must be 200 characters or fewer")
        ok = False
    completed = parse_date(row["completed_on"])
    if completed is None:
        errors.add(line, "completed_on", f"'{row['completed_on'][:20]}' is not an ISO date "
                   "(YYYY-MM-DD)" if row["completed_on"] else "is required")
        ok = False
    language = row.get("language", "") or "en"
    if language not in LANGUAGES:
        errors.add(line, "language", f"'{language[:20]}' must be 'en' or 'cy'")
        ok = False
    email = row.get("email", "")
    if email and (len(email) > 320 or not EMAIL_PATTERN.match(email)):
        errors.add(line, "email", f"'{email[:40]}' is not an email address")
        ok = False
    phone = row.get("phone", "")
    if phone and not PHONE_PATTERN.match(phone):
        errors.add(line, "phone", "must be digits, spaces and + ( ) -, 6 to 40 characters")
        ok = False
    scores = {}
    for column in SCORE_COLUMNS:
        scores[column], problem = parse_score(row.get(column, ""))
        if problem:
            errors.add(line, column, problem)
            ok = False
    if not ok:
        return None
    return {
        "ref": ref,
        "site": row["site"],
        "completed_on": completed,
        "language": language,
        "email": email or None,
        "phone": phone or None,
        **scores,
    }


def _check_appointment(
    line: int, row: dict[str, str], known_refs: set[str], errors: RowErrors
) -> dict | None:
    ok = True
    ref = row["participant_ref"]
    if ref not in known_refs:
        errors.add(line, "participant_ref", f"'{ref[:64]}' is not in participants.csv "
                   "or the study" if ref else "is required")
        ok = False
    on = parse_date(row["appointment_on"])
    if on is None:
        errors.add(line, "appointment_on", f"'{row['appointment_on'][:20]}' is not an ISO date "
                   "(YYYY-MM-DD)" if row["appointment_on"] else "is required")
        ok = False
    if row["channel"] not in CHANNELS:
        errors.add(line, "channel", f"'{row['channel'][:30]}' must be one of {', '.join(CHANNELS)}")
        ok = False
    if row["attendance"] not in ATTENDANCE:
        errors.add(line, "attendance",
                   f"'{row['attendance'][:30]}' must be one of {', '.join(ATTENDANCE)}")
        ok = False
    workability, problem = parse_score(row.get("workability", ""))
    if problem:
        errors.add(line, "workability", problem)
        ok = False
    elif workability is not None and row["attendance"] in ATTENDANCE[1:]:
        errors.add(line, "workability", "must be blank when the appointment was not attended")
        ok = False
    if not ok:
        return None
    return {
        "ref": ref,
        "appointment_on": on,
        "channel": row["channel"],
        "attendance": row["attendance"],
        "workability": workability,
    }


def import_cohort(
    session: Session,
    study: Study,
    participants_csv: bytes | str,
    appointments_csv: bytes | str | None = None,
    *,
    participants_name: str = "participants.csv",
    appointments_name: str = "appointments.csv",
) -> CohortImportResult:
    """Validate both files completely, then write everything or nothing.

    The caller commits; on ImportRejected the session holds no changes.
    """
    p_errors = RowErrors(participants_name)
    _, p_rows = read_rows(
        participants_csv, participants_name, PARTICIPANT_REQUIRED, PARTICIPANT_OPTIONAL
    )
    people: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for line, row in p_rows:
        checked = _check_participant(line, row, p_errors)
        ref = row["participant_ref"]
        if ref in first_line:
            p_errors.add(line, "participant_ref",
                         f"'{ref}' appears twice in the file (first on line {first_line[ref]})")
            continue
        first_line[ref] = line
        if checked:
            people[ref] = checked
    if not p_rows:
        p_errors.add(1, "", "the file has a header but no participants")

    existing = {
        p.ref: p
        for p in session.scalars(select(Participant).where(Participant.study_id == study.id))
    }
    a_errors = RowErrors(appointments_name)
    visits: list[dict] = []
    if appointments_csv is not None:
        _, a_rows = read_rows(
            appointments_csv, appointments_name, APPOINTMENT_REQUIRED, ("workability",)
        )
        known = set(first_line) | set(existing)
        for line, row in a_rows:
            checked = _check_appointment(line, row, known, a_errors)
            if checked:
                visits.append(checked)
    if p_errors or a_errors:
        raise ImportRejected([e for e in (p_errors, a_errors) if e])

    created = updated = 0
    touched: list[Participant] = []
    for ref, fields in people.items():
        participant = existing.get(ref)
        if participant is None:
            participant = Participant(study_id=study.id, **fields)
            session.add(participant)
            existing[ref] = participant
            created += 1
        else:
            for name, value in fields.items():
                setattr(participant, name, value)
            updated += 1
        touched.append(participant)
    session.flush()

    # A participant's appointments in the file replace the ones stored, so a
    # re-import never duplicates them.
    by_ref: dict[str, list[dict]] = {}
    for visit in visits:
        by_ref.setdefault(visit.pop("ref"), []).append(visit)
    for ref, rows in by_ref.items():
        participant = existing[ref]
        participant.appointments.clear()
        session.flush()
        participant.appointments.extend(Appointment(**row) for row in rows)
    scheduled = schedule_for(session, study, touched)
    session.flush()
    return CohortImportResult(created, updated, len(visits), scheduled)
