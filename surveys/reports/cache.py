"""Reuse a report while the data behind it has not changed, in every process.

A report is cached under its study, its parameters, who is looking (role, hence
disclosure mode), its language and the study's *data version*, read before building:

- a generation stamp in `job_runs` (row `report-data`), moved forward in the same
  transaction as any committed INSERT, UPDATE or DELETE that changed a row of the
  tables reports read (imports, erasure, study settings, the dispatcher opening and
  closing links...), whatever process made it: database engines are watched from
  `surveys.db`, so the web app, the CLI and the scheduler all move it;
- the number of submitted responses of the study. Clients' own questionnaire sessions
  (saving pages, submitting) do not move the stamp, so thousands of clients answering
  never queue on one row; their only effect on any report, a submission, changes
  this count instead (`exempt_from_stamp`).

A stale entry can therefore never match: the next request reads the new version and
builds again. Entries are pickled plain dicts, kept in the process (an LRU) and in files
of the instance folder that every web process reads; each caller gets its own copy.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

STAMP = "report-data"
# Tables no report reads: writing them never invalidates a report.
UNWATCHED = {"audit_events", "job_runs", "throttle_events", "sign_in_counters", "users",
             "alembic_version"}
_DML = re.compile(r'^\s*(?:insert\s+into|update|delete\s+from)\s+"?(\w+)', re.IGNORECASE)
_WROTE = "surveys.report_data_written"
_EXEMPT = "surveys.report_stamp_exempt"


def _after_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    match = _DML.match(statement)
    if match and match.group(1).lower() not in UNWATCHED and cursor.rowcount != 0:
        conn.info[_WROTE] = True


def _forget(conn) -> None:
    conn.info.pop(_WROTE, None)


def watch_engine(engine: Engine) -> None:
    """Note on each connection whether its transaction changed rows reports read; any
    session committing through it then moves the stamp."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "commit", _forget)


def _before_commit(session: Session) -> None:
    if not session.in_transaction():
        return
    session.flush()  # pending ORM changes are written now, so they are seen below
    wrote = session.connection().info.pop(_WROTE, False)
    if wrote and not session.info.get(_EXEMPT):
        bump(session)


def exempt_from_stamp(session: Session) -> None:
    """For clients' questionnaire sessions: their writes reach reports only by submitting,
    which the submitted-response count in the version already shows."""
    session.info[_EXEMPT] = True


@contextmanager
def one_stamp(session: Session) -> Iterator[None]:
    """Many small commits as one change (the demo's replay of calls): the stamp moves once,
    at the end, instead of at every commit and savepoint inside the block."""
    exempt = session.info.get(_EXEMPT)
    session.info[_EXEMPT] = True
    try:
        yield
    finally:
        if not exempt:
            session.info.pop(_EXEMPT, None)
    bump(session)


def bump(session: Session) -> None:
    """Move the stamp forward (strictly, even within one clock tick), inside the caller's
    transaction; the row lock (PostgreSQL) or the write lock (SQLite) orders writers."""
    from sqlalchemy import select, update
    from sqlalchemy.exc import IntegrityError

    from surveys.models import JobRun

    now = datetime.now(UTC)
    previous = session.scalar(
        select(JobRun.last_run_at).where(JobRun.name == STAMP).with_for_update())
    if previous is None:
        try:
            with session.begin_nested():
                session.execute(JobRun.__table__.insert().values(name=STAMP, last_run_at=now))
            return
        except IntegrityError:  # another process wrote the first stamp just now
            previous = session.scalar(
                select(JobRun.last_run_at).where(JobRun.name == STAMP).with_for_update())
    session.execute(update(JobRun.__table__).where(JobRun.__table__.c.name == STAMP).values(
        last_run_at=max(now, previous + timedelta(microseconds=1))))


def data_version(session: Session, study_id: int) -> tuple | None:
    """Cheap to read: one primary-key row and one index-only count. None before the
    service's first write (data loaded some other way): nothing is cached then."""
    from sqlalchemy import func, select

    from surveys.models import JobRun, Response, Wave

    stamp = select(JobRun.last_run_at).where(JobRun.name == STAMP).scalar_subquery()
    submitted = (select(func.count()).select_from(Response)
                 .where(Response.status == "submitted",
                        Response.wave_id.in_(select(Wave.id).where(Wave.study_id == study_id)))
                 .scalar_subquery())
    stamp, submitted = session.execute(select(stamp, submitted)).one()
    return None if stamp is None else (stamp.isoformat(), int(submitted))


class ReportCache:
    """Built reports by key: an LRU in the process, and, given a folder, files shared by
    every process of the instance (so N web workers build a report once, not N times).
    `builds` counts this process's misses."""

    def __init__(self, size: int = 64, folder: Path | None = None, files: int = 256) -> None:
        self.size = size
        self.folder = folder
        self.files = files
        self.builds = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, key: Hashable) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / (hashlib.sha256(repr(key).encode()).hexdigest()[:40] + ".pickle")

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            blob = self._entries.get(key)
            if blob is not None:
                self._entries.move_to_end(key)
        path = self._path(key)
        if blob is None and path is not None:
            try:
                blob = path.read_bytes()  # written whole by os.replace, never half
            except OSError:
                return None
            self._remember(key, blob)
        # A fresh copy each time: nothing a caller does can alter a cached report.
        return None if blob is None else pickle.loads(blob)

    def _remember(self, key: Hashable, blob: bytes) -> None:
        with self._lock:
            self._entries[key] = blob
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def put(self, key: Hashable, report: Any) -> None:
        blob = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
        self._remember(key, blob)
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
                out.write(blob)
            os.replace(out.name, path)
            entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
            for old in entries[:-self.files]:  # entries of old data versions
                old.unlink(missing_ok=True)
        except OSError:
            pass  # the shared copy is only a saving; this process still has its own

    def build(self, key: Hashable, make: Callable[[], Any], *, count: bool = True) -> Any:
        with self._lock:
            self.builds += count
        report = make()
        self.put(key, report)
        return report
