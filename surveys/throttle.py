"""Slowing down guessing: unknown personal links and failed sign-ins, counted per client.

Counts live in the database, so every web process (and every server behind a
load balancer) sees the same numbers: an in-process counter would give a
guesser a fresh allowance per worker. Clients are identified by their IP
address, stored only as a keyed hash (HMAC with the service's secret), so no
table holds addresses. Behind a reverse proxy set `SURVEYS_PROXY_HOPS` so the
address is the client's, not the proxy's; otherwise every client would share
one allowance.

Unknown links: each one is a row in `throttle_events`, and a client with
`limit` of them in the window gets a 'too many attempts' page until its oldest
leaves the window (a sliding window). Two requests racing past the check can
each add one, so a client may get a few more than `limit` guesses at 256-bit
tokens in parallel; that is no help to it.

Sign-ins: a password guess is worth far more, so each attempt is counted
*before* the password is checked, by one upsert that adds one and returns the
new count (`sign_in_counters`, a fixed window per key). Parallel requests, in
any number of processes, each get a distinct count, and none past the limit
checks a password. See docs/decisions/0006-sign-in-throttling.md for the three
counters (address; account from that address; account from anywhere).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from surveys.models import ThrottleEvent
from surveys.models.throttle import SignInCounter
from surveys.models.types import UTCDateTime


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: timedelta


# 20 unknown links in 10 minutes: a client mistyping a link never gets near it.
LINK_GUESSES = Limit("link", 20, timedelta(minutes=10))
# Sign-in attempts (counted in `sign_in_counters`). Per client address: stops one
# address trying a few passwords against many accounts.
SIGN_IN_FAILURES = Limit("sign_in", 20, timedelta(minutes=10))
# Per account *from one address*: a guesser elsewhere never locks the owner out.
ACCOUNT_FROM_ADDRESS = Limit("sign_in_account_address", 5, timedelta(minutes=15))
# Per account from every address (a guesser with many addresses): past it, an address
# that has already tried that account UNDER_ATTACK_TRIES times gets its passwords
# refused unchecked, with the same page and after the same work as a wrong password.
ACCOUNT_CEILING = Limit("sign_in_account", 50, timedelta(hours=1))
UNDER_ATTACK_TRIES = 2
# Not a limit: a marker row whose window_start is when an admin last unlocked the account.
# Per-address counters of that account started before it count afresh (they are keyed by a
# hash of email and address, so they cannot be found to be cleared one by one).
UNLOCKED = Limit("sign_in_unlocked", 0, ACCOUNT_CEILING.window)
LIMITS = (LINK_GUESSES,)  # kept as rows in throttle_events
COUNTED = (SIGN_IN_FAILURES, ACCOUNT_FROM_ADDRESS, ACCOUNT_CEILING)


def client_key(secret: str, address: str | None) -> str:
    digest = hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256)
    return digest.hexdigest()[:64]


def counter_key(secret: str, limit: Limit, *parts: str) -> str:
    """A keyed hash naming one counter: the bucket and what it counts (address, email)."""
    text = "\x1f".join((limit.bucket, *parts))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Count:
    """One counter just after this attempt was added to it."""

    limit: Limit
    key: str
    attempts: int
    window_start: datetime

    @property
    def over(self) -> bool:
        return self.attempts > self.limit.limit

    def retry_after(self, now: datetime) -> int:
        """Seconds until the window ends (for the Retry-After header)."""
        return max(1, math.ceil((self.window_start + self.limit.window - now).total_seconds()))


def count_attempt(session: Session, limit: Limit, key: str, now: datetime,
                  restart_before: datetime | None = None) -> Count:
    """Add one attempt to a counter and return the new count, in one statement.

    INSERT ... ON CONFLICT DO UPDATE ... RETURNING: on PostgreSQL the conflicting row
    is locked and updated from its latest committed version; SQLite runs one writer at
    a time. Either way two attempts never read the same count. The caller commits
    straight away, before the slow password check, so no lock is held during it."""
    table = SignInCounter.__table__
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    moment = literal(now, UTCDateTime())
    expired = table.c.window_start <= now - limit.window
    if restart_before is not None:  # counted before an admin's unlock: start afresh
        expired = or_(expired, table.c.window_start < restart_before)
    statement = (
        insert(table)
        .values(key=key, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_start": case((expired, moment), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts, table.c.window_start)
    )
    attempts, start = session.execute(statement).one()
    return Count(limit, key, attempts, start)


def give_back(session: Session, count: Count) -> None:
    """Take back one attempt that turned out to be a success (if its window still runs)."""
    session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == count.key, SignInCounter.window_start == count.window_start,
               SignInCounter.attempts > 0)
        .values(attempts=SignInCounter.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def forget(session: Session, count: Count) -> None:
    """Start a counter afresh (the account's owner signed in from that address)."""
    session.execute(
        update(SignInCounter).where(SignInCounter.key == count.key).values(attempts=0)
        .execution_options(synchronize_session=False)
    )


def unlock_account(session: Session, secret: str, email: str, now: datetime) -> None:
    """Clear an account's sign-in counters: its ceiling now, its per-address ones at their
    next attempt (the marker outlives every window it can restart, then is purged)."""
    session.execute(
        delete(SignInCounter)
        .where(SignInCounter.key == counter_key(secret, ACCOUNT_CEILING, email))
        .execution_options(synchronize_session=False)
    )
    marker = counter_key(secret, UNLOCKED, email)
    session.execute(delete(SignInCounter).where(SignInCounter.key == marker)
                    .execution_options(synchronize_session=False))
    session.add(SignInCounter(key=marker, attempts=0, window_start=now))
    session.flush()


def unlocked_at(session: Session, secret: str, email: str) -> datetime | None:
    return session.scalar(select(SignInCounter.window_start)
                          .where(SignInCounter.key == counter_key(secret, UNLOCKED, email)))


def failures(session: Session, limit: Limit, client: str, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ThrottleEvent)
        .where(
            ThrottleEvent.bucket == limit.bucket,
            ThrottleEvent.client == client,
            ThrottleEvent.at > now - limit.window,
        )
    ) or 0


def is_blocked(session: Session, limit: Limit, client: str, now: datetime) -> bool:
    return failures(session, limit, client, now) >= limit.limit


def retry_after(session: Session, limit: Limit, client: str, now: datetime) -> int:
    """Seconds until the client may try again (for the Retry-After header)."""
    recent = session.scalars(
        select(ThrottleEvent.at)
        .where(
            ThrottleEvent.bucket == limit.bucket,
            ThrottleEvent.client == client,
            ThrottleEvent.at > now - limit.window,
        )
        .order_by(ThrottleEvent.at.desc())
        .limit(limit.limit)
    ).all()
    if len(recent) < limit.limit:
        return 0
    return max(1, math.ceil((recent[-1] + limit.window - now).total_seconds()))


def record_failure(session: Session, limit: Limit, client: str, now: datetime) -> None:
    """Count one failed attempt; the caller commits."""
    session.add(ThrottleEvent(bucket=limit.bucket, client=client, at=now))


def purge(session: Session, now: datetime) -> int:
    """Forget failures older than every window (the dispatcher runs this)."""
    longest = max(limit.window for limit in LIMITS)
    result = session.execute(
        delete(ThrottleEvent)
        .where(ThrottleEvent.at <= now - longest)
        .execution_options(synchronize_session=False)
    )
    counted = session.execute(
        delete(SignInCounter)
        .where(SignInCounter.window_start <= now - max(limit.window for limit in COUNTED))
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) + (counted.rowcount or 0)
