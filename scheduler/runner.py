"""Run the dispatcher every so often with APScheduler, in the serving process or on its own."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import sessionmaker

from scheduler.jobs import dispatch
from surveys.clock import Clock
from surveys.invitations.mailer import Mailer
from surveys.settings import Settings

log = logging.getLogger(__name__)

# How long a stopping process waits for the pass in hand: a pass told to stop ends after
# its current short transaction, so only a hung mail server or database can take longer.
STOP_GRACE_SECONDS = 20.0


@dataclass
class Dispatcher:
    """The scheduler, and what lets it stop promptly: a flag every pass checks between
    transactions, and a lock held while a pass runs."""

    scheduler: BaseScheduler
    stop_requested: threading.Event = field(default_factory=threading.Event)
    passing: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> bool:
        """Schedule no more passes, ask the one in hand to end, and wait at most `grace`
        seconds for it. False if it is still running (the caller decides how to exit)."""
        self.stop_requested.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self.passing.acquire(timeout=grace):
            log.error("the dispatcher pass in hand did not end within %s s", grace)
            return False
        self.passing.release()
        return True


def _tick(dispatcher: Dispatcher, session_factory: sessionmaker, clock: Clock,
          settings: Settings, mailer: Mailer):
    with dispatcher.passing:
        # Checked once the lock is held: a tick that starts while stop() is waiting for the
        # lock must not begin a pass after stop() has returned.
        if dispatcher.stop_requested.is_set():
            return
        try:
            dispatch(session_factory, clock(), settings, mailer,
                     stop=dispatcher.stop_requested)
        except Exception:  # keep the scheduler alive; the next tick retries
            log.exception("dispatcher pass failed")


def make_scheduler(
    session_factory: sessionmaker,
    clock: Clock,
    settings: Settings,
    mailer: Mailer,
    *,
    blocking: bool = False,
) -> Dispatcher:
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    dispatcher = Dispatcher(scheduler)
    scheduler.add_job(
        _tick,
        "interval",
        seconds=settings.dispatch_interval,
        args=(dispatcher, session_factory, clock, settings, mailer),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        next_run_time=clock(),  # a pass at start-up issues anything that fell due while down
    )
    return dispatcher
