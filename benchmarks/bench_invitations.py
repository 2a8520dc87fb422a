"""Invitations issued per second when `size` fall due at once, beside a plain bulk INSERT.

The dispatcher pass (scheduler.jobs.dispatch) issues every due invitation in batches of
500 claimed with FOR UPDATE SKIP LOCKED, deriving each personal link with HMAC. The
reference inserts the very rows the pass produced (every column) into a copy of the
invitations table with the same indexes, as multi-row INSERTs of 5,000 rows
(SQLAlchemy executemany): what writing those rows costs without the work.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.sql import column, table

from benchmarks.common import SECRET, Figure, engine_for, fresh_database, vacuum
from benchmarks.data import add_invitations, add_participants, make_study

COLUMNS = ("participant_id", "wave_id", "due_on", "status", "nonce", "token_hash", "issued_at",
           "closes_on", "reminder_due_on", "reminded_at", "delivery_status", "delivery_kind",
           "attempts", "next_attempt_at", "last_error")


def run(sizes: list[int]) -> list[Figure]:
    from scheduler.jobs import dispatch
    from surveys.db import make_session_factory
    from surveys.invitations.mailer import OutboxMailer
    from surveys.settings import Settings

    figures = []
    for size in sizes:
        url = fresh_database("surveys_bench_invitations")
        now = datetime.now(UTC).replace(microsecond=0)
        engine = engine_for(url)
        with engine.begin() as conn:
            study, wave1, _ = make_study(conn, "invitations")
            add_participants(conn, study, size, now.date() - timedelta(days=1))
            add_invitations(conn, study, wave1, now.date() - timedelta(days=1))
        vacuum(url)
        settings = Settings(database_url=url, secret_key=SECRET)
        mailer = OutboxMailer(tempfile.mkdtemp(prefix="surveys-bench-outbox-"))
        start = time.perf_counter()
        report = dispatch(make_session_factory(engine), now, settings, mailer)
        issue_seconds = time.perf_counter() - start
        if report.issued != size:
            raise RuntimeError(f"issued {report.issued} of {size}")

        copy = table("invitations_copy", *[column(c) for c in COLUMNS])
        insert_seconds = 0.0
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE invitations_copy (LIKE invitations INCLUDING ALL)"))
        with engine.connect() as reader, engine.begin() as writer:
            rows = reader.execution_options(yield_per=5000).execute(
                text(f"SELECT {', '.join(COLUMNS)} FROM invitations ORDER BY id"))
            for chunk in rows.partitions():
                batch = [dict(zip(COLUMNS, row, strict=True)) for row in chunk]
                start = time.perf_counter()
                writer.execute(insert(copy), batch)
                insert_seconds += time.perf_counter() - start
        engine.dispose()
        rate, reference = size / issue_seconds, size / insert_seconds
        figures.append(Figure(
            "invitations", size, "invitations issued/s (dispatcher pass)", rate, "rows/s",
            "bulk INSERT of the same rows, rows/s", reference, goal=">= 1/3 x insert rate",
            met=rate >= reference / 3,
            extra={"issue_seconds": issue_seconds, "insert_seconds": insert_seconds},
        ))
    return figures
