"""Run the dispatcher every so often with APScheduler, in the serving process or on its own."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import sessionmaker

from scheduler.jobs import dispatch
from surveys.clock import Clock
from surveys.invitations.mailer import Mailer
from surveys.settings import Settings

log = logging.getLogger(__name__)


def _tick(session_factory: sessionmaker, clock: Clock, settings: Settings, mailer: Mailer):
    try:
        dispatch(session_factory, clock(), settings, mailer)
    except Exception:  # keep the scheduler alive; the next tick retries
        log.exception("dispatcher pass failed")


def make_scheduler(
    session_factory: sessionmaker,
    clock: Clock,
    settings: Settings,
    mailer: Mailer,
    *,
    blocking: bool = False,
):
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    scheduler.add_job(
        _tick,
        "interval",
        seconds=settings.dispatch_interval,
        args=(session_factory, clock, settings, mailer),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        next_run_time=clock(),  # a pass at start-up issues anything that fell due while down
    )
    return scheduler
