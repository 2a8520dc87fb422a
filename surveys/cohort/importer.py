"""Cohort import (contracts sections 2 and 5): all-or-nothing, every bad row named.

The columns come from the study: one `<key>_end` per measure with a baseline, `arm` when
the study has arms. `status` (blank or absent: completed) says who completed the
intervention; only completers get invitations. A participant who was already sent a
questionnaire stays a completer: a row changing that is refused. One whose invitations
were not sent yet loses them when marked dropped_out or in_progress.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from typing import BinaryIO

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from surveys import phones
from surveys.clock import system_clock
from surveys.clock import today as clock_today
from surveys.csv_rows import (
    CsvFileError,
    RowErrors,
    date_problem,
    open_rows,
    single_line_problem,
)
from surveys.models import (
    Appointment,
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Measure,
    Participant,
    Response,
    Study,
)
from surveys.models.study import MAX_MEASURES
from surveys.studies.measures import cohort_column, parse_value

REF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
PHONE_PATTERN = re.compile(r"^[0-9+() -]{1,40}$")  # then phones.normalise: a UK number
LANGUAGES = ("en", "cy")
CHANNELS = ("telephone", "face_to_face_site", "face_to_face_neutral", "video")
ATTENDANCE = ("attended", "unable_to_attend", "failed_to_attend")
COMPLETED = "completed"
STATUSES = (COMPLETED, "dropped_out", "in_progress")
# Invitations a client has seen (or answered): once one exists, they stay a completer.
SENT = (InvitationStatus.ISSUED.value, InvitationStatus.COMPLETED.value,
        InvitationStatus.CLOSED.value)

PARTICIPANT_REQUIRED = ("participant_ref", "site", "completed_on")
APPOINTMENT_REQUIRED = ("participant_ref", "appointment_on", "channel", "attendance")


@dataclass(frozen=True)
class CohortColumns:
    """The participants.csv columns of one study (contracts sections 2 and 5)."""

    arms: tuple[str, ...]
    # (column, staged field, measure) for each measure with a baseline, in the study's order.
    baselines: tuple[tuple[str, str, Measure], ...]

    @classmethod
    def of(cls, study: Study) -> CohortColumns:
        return cls(tuple(study.arms or ()), tuple(
            (cohort_column(m), f"baseline_{m.slot}", m) for m in study.measures if m.baseline))

    @property
    def required(self) -> tuple[str, ...]:
        return (*PARTICIPANT_REQUIRED, *(("arm",) if self.arms else ()))

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.required, "status", "language", "email", "phone",
                *(column for column, _, _ in self.baselines))

    @property
    def fields(self) -> tuple[str, ...]:
        """The participants columns the import writes."""
        return ("site", "completed_on", "language", "email", "phone", "status",
                *(("arm",) if self.arms else ()), *(name for _, name, _ in self.baselines))

    def present(self, header: list[str]) -> list[str]:
        """The fields a file with this header sets on participants already in the study:
        status always (absent means completed, the file of contracts section 2)."""
        columns = {name: column for column, name, _ in self.baselines}
        return [name for name in self.fields
                if name == "status" or columns.get(name, name) in header]


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
    # Same as re.fullmatch(r"[0-9]{1,2}", value), without the regex: a million rows call this.
    if not (len(value) <= 2 and value.isascii() and value.isdigit()) or int(value) > 10:
        return None, f"'{value[:20]}' is not a whole number from 0 to 10"
    return int(value), None


def parse_baseline(measure: Measure, cell: str) -> tuple[int | None, str | None]:
    """A `<key>_end` cell: the measure's value (yes = 1, no = 0), or blank (not recorded)."""
    # Never hand a huge digit string to int(): Python refuses past 4300 digits.
    value, problem = parse_value(measure, cell) if len(cell) <= 12 else (None, "too long")
    if problem is None:
        return value, None
    if measure.kind == "binary":
        return None, f"'{cell[:20]}' must be yes or no"
    low = measure.min_value or 0
    high = measure.max_value if measure.max_value is not None else 10
    return None, f"'{cell[:20]}' is not a whole number from {low} to {high}"


def _check_date(line: int, row: dict[str, str], column: str, today: date,
                errors: RowErrors, *, required: bool = True) -> date | None:
    """An ISO date that has happened (not after today, not before 2000)."""
    value = parse_date(row[column])
    problem = (date_problem(value, today) if value is not None
               else f"'{row[column][:20]}' is not an ISO date (YYYY-MM-DD)" if row[column]
               else None if not required
               else "is required when the status is completed" if "status" in row
               else "is required")
    if problem:
        errors.add(line, column, problem)
        return None
    return value


def _check_participant(line: int, row: dict[str, str], today: date, errors: RowErrors,
                       columns: CohortColumns) -> dict | None:
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
    elif problem := single_line_problem(row["site"]):
        errors.add(line, "site", problem)
        ok = False
    status = row.get("status", "").lower() or COMPLETED
    if status not in STATUSES:
        errors.add(line, "status", f"'{row['status'][:20]}' must be one of {', '.join(STATUSES)}")
        ok = False
    # Only a completer needs the date; another's is checked when given.
    completed = _check_date(line, row, "completed_on", today, errors,
                            required=status == COMPLETED)
    if completed is None and (row["completed_on"] or status == COMPLETED):
        ok = False
    arm = None
    if columns.arms:
        arm = next((a for a in columns.arms if a.lower() == row["arm"].lower()), None)
        if arm is None:
            errors.add(line, "arm", f"'{row['arm'][:30]}' must be one of "
                       f"{', '.join(columns.arms)}" if row["arm"] else "is required")
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
        errors.add(line, "phone", "must be digits, spaces and + ( ) -, up to 40 characters")
        ok = False
    elif phone:
        # A UK number, kept in E.164; landlines stay allowed (telephone interviews).
        phone, problem = phones.normalise(phone)
        if problem:
            errors.add(line, "phone", problem)
            ok = False
    scores = {}
    for column, name, measure in columns.baselines:
        scores[name], problem = parse_baseline(measure, row.get(column, ""))
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
        "status": status,
        "arm": arm,
        **scores,
    }


def _check_appointment(
    line: int, row: dict[str, str], known_refs: set[str] | None, errors: RowErrors,
    today: date | None = None,
) -> dict | None:
    """Check one appointment row; with known_refs None the reference is checked later."""
    ok = True
    ref = row["participant_ref"]
    if known_refs is not None and ref not in known_refs:
        errors.add(line, "participant_ref", f"'{ref[:64]}' is not in participants.csv "
                   "or the study" if ref else "is required")
        ok = False
    on = _check_date(line, row, "appointment_on", today or clock_today(system_clock), errors)
    if on is None:
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


# Rows are checked and staged this many at a time: memory stays flat whatever the file size.
CHUNK = 5000

_staging = MetaData()
# Every row of participants.csv, valid or not, by line number: duplicate references and
# the appointments' references are then checked by the database, not in a Python set.
STAGED_PARTICIPANTS = Table(
    "cohort_import_participants", _staging,
    Column("line", Integer, primary_key=True),
    Column("ref", String, nullable=False),  # as written, checked or not
    Column("ref_key", String, nullable=False),  # lower case: refs differing in case clash
    Column("site", String(200)),
    Column("completed_on", Date),
    Column("language", String(2)),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("status", String(16)),  # None when the row has a problem
    Column("arm", String(64)),
    # The study's measures' baselines, by slot (Measure.slot).
    *(Column(f"baseline_{slot}", Integer) for slot in range(1, MAX_MEASURES + 1)),
    prefixes=["TEMPORARY"],
)
STAGED_APPOINTMENTS = Table(
    "cohort_import_appointments", _staging,
    Column("line", Integer, primary_key=True),
    Column("ref", String, nullable=False),  # as written, checked or not
    Column("valid", Boolean, nullable=False),
    Column("appointment_on", Date),
    Column("channel", String(32)),
    Column("attendance", String(32)),
    Column("workability", Integer),
    prefixes=["TEMPORARY"],
)
# Created with the tables: duplicate and reference checks look rows up by ref.
Index("cohort_import_participants_ref", STAGED_PARTICIPANTS.c.ref)
Index("cohort_import_participants_ref_key", STAGED_PARTICIPANTS.c.ref_key)
Index("cohort_import_appointments_ref", STAGED_APPOINTMENTS.c.ref)
# What a checked row stages besides its line and reference.
STAGED_FIELDS = tuple(c.name for c in STAGED_PARTICIPANTS.columns
                      if c.name not in ("line", "ref", "ref_key"))


def import_cohort(
    session: Session,
    study: Study,
    participants_csv: bytes | str | os.PathLike | BinaryIO,
    appointments_csv: bytes | str | os.PathLike | BinaryIO | None = None,
    *,
    participants_name: str = "participants.csv",
    appointments_name: str = "appointments.csv",
    today: date | None = None,
) -> CohortImportResult:
    """Validate both files completely, then write everything or nothing.

    The caller commits; on ImportRejected the session holds no changes. Files are given
    as their contents (bytes or text), a path or a binary file object, and are read as a
    stream: rows are checked and staged in a temporary table CHUNK at a time, duplicate
    and unknown references are found by the database, and the writes are a handful of
    INSERT ... SELECT and UPDATE ... FROM statements, so a million rows need neither a
    million ORM objects nor the file in memory as Python rows.

    A participant already in the study gets only the columns the file has: an absent
    column leaves its value as it is, a blank cell in a present column clears it. Dates
    after `today` (the service clock's; the system date if not given) are refused.
    """
    session.flush()  # the study (and anything else pending) must exist for the SQL below
    conn = session.connection()
    _create_staging(conn)
    try:
        return _import(session, conn, study, participants_csv, appointments_csv,
                       participants_name, appointments_name, today or clock_today(system_clock))
    except (CsvFileError, ImportRejected):
        _drop_staging(conn)
        raise


def _import(session, conn, study, participants_csv, appointments_csv, participants_name,
            appointments_name, today: date) -> CohortImportResult:
    p_errors = RowErrors(participants_name)
    staged = 0
    columns = CohortColumns.of(study)
    header, rows = open_rows(participants_csv, participants_name, columns.required,
                             columns.allowed)
    # Only the columns the file has are written to participants already in the study.
    present = columns.present(header)
    while chunk := list(islice(rows, CHUNK)):
        batch = []
        for line, row in chunk:
            checked = _check_participant(line, row, today, p_errors, columns) or {}
            checked.pop("ref", None)
            ref = row["participant_ref"]
            batch.append({"line": line, "ref": ref, "ref_key": ref.lower(),
                          **{name: checked.get(name) for name in STAGED_FIELDS}})
        _stage(conn, STAGED_PARTICIPANTS, batch)
        staged += len(batch)
    if not staged:
        p_errors.add(1, "", "the file has a header but no participants")
    for line, ref, first, first_ref in _duplicates(conn):
        same = "" if ref == first_ref else f" as '{first_ref[:64]}' (references differing " \
            "only in capitals are the same person)"
        p_errors.add(line, "participant_ref",
                     f"'{ref[:64]}' appears twice in the file{same} (first on line {first})")
    for line, ref, stored in _case_clashes(conn, study):
        p_errors.add(line, "participant_ref",
                     f"'{ref[:64]}' differs only in capitals from '{stored}', already in the "
                     "study; use the same spelling to update that participant")
    for line, ref, status in _sent_non_completers(conn, study):
        p_errors.add(line, "status",
                     f"'{ref[:64]}' was already sent a questionnaire as a client who completed, "
                     f"so cannot become '{status}'; leave the status as completed")
    p_errors.problems.sort(key=lambda problem: problem[0])  # stable: in reading order

    a_errors = RowErrors(appointments_name)
    visits = 0
    if appointments_csv is not None:
        _, rows = open_rows(appointments_csv, appointments_name, APPOINTMENT_REQUIRED,
                            (*APPOINTMENT_REQUIRED, "workability"))
        while chunk := list(islice(rows, CHUNK)):
            batch = []
            for line, row in chunk:
                checked = _check_appointment(line, row, None, a_errors, today) or {}
                batch.append({
                    "line": line, "ref": row["participant_ref"], "valid": bool(checked),
                    **{name: checked.get(name) for name in
                       ("appointment_on", "channel", "attendance", "workability")},
                })
            _stage(conn, STAGED_APPOINTMENTS, batch)
            visits += len(batch)
        for line, ref in _unknown_appointment_refs(conn, study):
            a_errors.add(line, "participant_ref", f"'{ref[:64]}' is not in participants.csv "
                         "or the study" if ref else "is required")
        # The reference is the first thing checked on a line, as in reading order.
        a_errors.problems.sort(key=lambda problem: (problem[0], problem[1] != "participant_ref"))
    if p_errors or a_errors:
        raise ImportRejected([e for e in (p_errors, a_errors) if e])

    created, updated = _write_participants(conn, study, columns.fields, present)
    if visits:
        _write_appointments(conn, study)
    _unschedule(conn, study)
    scheduled = _schedule(conn, study)
    _drop_staging(conn)
    # Rows changed behind the ORM's back: objects it holds must be read again.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Participant | Appointment | Invitation):
            session.expire(obj)
    return CohortImportResult(created, updated, visits, scheduled)


def _stage(conn: Connection, table: Table, batch: list[dict]) -> None:
    """Append checked rows to a staging table: COPY on PostgreSQL, else executemany."""
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), batch)
        return
    names = [c.name for c in table.columns]
    # The same connection, so the same transaction as everything else here.
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    ) as copy:
        for row in batch:
            copy.write_row([row[name] for name in names])


def _create_staging(conn: Connection) -> None:
    for table in (STAGED_APPOINTMENTS, STAGED_PARTICIPANTS):
        table.drop(conn, checkfirst=True)
        table.create(conn)


def _drop_staging(conn: Connection) -> None:
    for table in (STAGED_APPOINTMENTS, STAGED_PARTICIPANTS):
        table.drop(conn, checkfirst=True)


def _duplicates(conn: Connection):
    """(line, ref, first line, first ref) for every repeat of a reference, in file order;
    references differing only in case are repeats."""
    s = STAGED_PARTICIPANTS
    first = (
        select(s.c.ref_key, func.min(s.c.line).label("first"))
        .group_by(s.c.ref_key)
        .having(func.count() > 1)
        .subquery()
    )
    original = s.alias("original")
    return conn.execute(
        select(s.c.line, s.c.ref, first.c.first, original.c.ref)
        .join(first, first.c.ref_key == s.c.ref_key)
        .join(original, original.c.line == first.c.first)
        .where(s.c.line > first.c.first)
        .order_by(s.c.line)
    )


def _case_clashes(conn: Connection, study: Study):
    """(line, ref, stored ref) for references that differ only in case from a participant
    already in the study (index ix_participants_ref_lower, migration 0008)."""
    s = STAGED_PARTICIPANTS
    p = Participant.__table__
    return conn.execute(
        select(s.c.line, s.c.ref, p.c.ref)
        .join(p, and_(p.c.study_id == study.id, func.lower(p.c.ref) == s.c.ref_key))
        .where(p.c.ref != s.c.ref)
        .order_by(s.c.line)
    )


def _sent_non_completers(conn: Connection, study: Study):
    """(line, ref, new status) for rows making a non-completer of a participant who was
    already sent a questionnaire (or answered one): what they said belongs to a completer."""
    s = STAGED_PARTICIPANTS
    p = Participant.__table__
    inv, resp = Invitation.__table__, Response.__table__
    return conn.execute(
        select(s.c.line, s.c.ref, s.c.status)
        .join(p, and_(p.c.study_id == study.id, p.c.ref == s.c.ref))
        .where(s.c.status.is_not(None), s.c.status != COMPLETED,
               exists().where(inv.c.participant_id == p.c.id, inv.c.status.in_(SENT))
               | exists().where(resp.c.participant_id == p.c.id))
        .order_by(s.c.line)
    )


def _unknown_appointment_refs(conn: Connection, study: Study):
    a, s = STAGED_APPOINTMENTS, STAGED_PARTICIPANTS
    return conn.execute(
        select(a.c.line, a.c.ref)
        .where(
            ~exists().where(s.c.ref == a.c.ref),
            ~exists().where(Participant.study_id == study.id, Participant.ref == a.c.ref),
        )
        .order_by(a.c.line)
    )


def _write_participants(conn: Connection, study: Study, fields: tuple[str, ...],
                        present: list[str]) -> tuple[int, int]:
    """Update the participants already in the study (only the `present` columns), then
    insert the new ones in file order (every field of the study's file)."""
    s = STAGED_PARTICIPANTS
    table = Participant.__table__
    updated = conn.execute(
        update(table)
        .where(table.c.study_id == study.id, table.c.ref == s.c.ref)
        .values({name: s.c[name] for name in present})
    ).rowcount
    new = (
        select(literal(study.id), s.c.ref, *[s.c[name] for name in fields])
        .where(~exists().where(table.c.study_id == study.id, table.c.ref == s.c.ref))
        .order_by(s.c.line)
    )
    created = conn.execute(
        insert(table).from_select(["study_id", "ref", *fields], new),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    return created, updated


def _write_appointments(conn: Connection, study: Study) -> None:
    """A participant's appointments in the file replace the ones stored (never duplicated)."""
    a = STAGED_APPOINTMENTS
    p = Participant.__table__
    table = Appointment.__table__
    conn.execute(
        delete(table).where(
            table.c.participant_id.in_(
                select(p.c.id).where(p.c.study_id == study.id, p.c.ref.in_(select(a.c.ref)))
            )
        )
    )
    rows = (
        select(p.c.id, a.c.appointment_on, a.c.channel, a.c.attendance, a.c.workability)
        .join(p, and_(p.c.study_id == study.id, p.c.ref == a.c.ref))
        .order_by(a.c.line)
    )
    conn.execute(
        insert(table).from_select(
            ["participant_id", "appointment_on", "channel", "attendance", "workability"], rows
        )
    )


def _unschedule(conn: Connection, study: Study) -> None:
    """Imported participants who are not completers lose the invitations they were never
    sent (those sent make the row refused: _sent_non_completers)."""
    s = STAGED_PARTICIPANTS
    p = Participant.__table__
    inv = Invitation.__table__
    conn.execute(
        delete(inv).where(
            inv.c.status.not_in(SENT),
            inv.c.participant_id.in_(
                select(p.c.id).join(s, and_(p.c.study_id == study.id, p.c.ref == s.c.ref))
                .where(p.c.status != COMPLETED)
            ),
        )
    )


def _schedule(conn: Connection, study: Study) -> int:
    """One invitation per imported completer and wave (invitations.schedule_for, in SQL).

    Due on the completion date plus the wave's offset; out of window when that falls after
    the study's end date. Invitations not yet issued move with a changed completion date;
    issued ones never change. Returns how many invitations were created.
    """
    s = STAGED_PARTICIPANTS
    p = Participant.__table__
    inv = Invitation.__table__
    mine = and_(p.c.study_id == study.id, p.c.ref == s.c.ref, p.c.status == COMPLETED)
    sqlite = conn.dialect.name == "sqlite"
    created = 0
    for wave in study.waves:
        if sqlite:
            due = func.date(p.c.completed_on, f"{wave.offset_days:+d} days", type_=Date)
        else:
            due = p.c.completed_on + wave.offset_days
        if study.end_date is None:
            status = literal(InvitationStatus.SCHEDULED.value)
        else:
            # due > end_date, without date arithmetic on the end date's side
            last = study.end_date - timedelta(days=wave.offset_days)
            status = case((p.c.completed_on > last, InvitationStatus.OUT_OF_WINDOW.value),
                          else_=InvitationStatus.SCHEDULED.value)
        pending = [InvitationStatus.SCHEDULED.value, InvitationStatus.OUT_OF_WINDOW.value]
        conn.execute(
            update(inv)
            .where(inv.c.wave_id == wave.id, inv.c.status.in_(pending),
                   inv.c.participant_id == p.c.id, mine)
            .values(due_on=due, status=status)
        )
        new = (
            select(p.c.id, literal(wave.id), due, status, literal(DeliveryStatus.NONE.value),
                   literal("invitation"), literal(0))
            .select_from(s)
            .join(p, mine)
            .where(~exists().where(inv.c.participant_id == p.c.id, inv.c.wave_id == wave.id))
            .order_by(s.c.line)
        )
        created += conn.execute(
            insert(inv).from_select(
                ["participant_id", "wave_id", "due_on", "status", "delivery_status",
                 "delivery_kind", "attempts"],
                new,
            ),
            execution_options={"preserve_rowcount": True},
        ).rowcount
    return created
