"""Chores the dispatcher does now and then rather than on every pass.

A chore whose cost grows with the whole database (not with what fell due) runs at most
once per interval. The last run is a row in `job_runs`, claimed with a row lock, so of
several dispatcher processes one does it and the others skip it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import JobRun


def claim(session: Session, name: str, now: datetime, every: timedelta) -> bool:
    """True, and `now` recorded as the chore's last run, if it is due; else False.

    Due when it never ran, ran `every` or longer ago, or the clock now reads earlier
    than the recorded run (a clock set back must not stop the chore for good). The
    caller's transaction holds the row until it commits, so no two processes both win.
    """
    run = session.get(JobRun, name, with_for_update=True)
    if run is None:
        try:
            with session.begin_nested():
                session.add(JobRun(name=name, last_run_at=now))
        except IntegrityError:
            return False  # another process recorded the first run just now
        return True
    if run.last_run_at <= now < run.last_run_at + every:
        return False
    run.last_run_at = now
    return True
