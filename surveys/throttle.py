"""Slowing down guessing: unknown personal links and failed sign-ins, counted per client.

Each failed attempt is one row in `throttle_events`, so every web process (and
every server behind a load balancer) sees the same counts: an in-process
counter would give a guesser a fresh allowance per worker. A client that has
failed `limit` times within the window gets a 'too many attempts' page until
its oldest failure leaves the window (a sliding window).

The client is identified by its IP address, stored only as a keyed hash
(HMAC with the service's secret), so the table holds no addresses. Behind a
reverse proxy set `SURVEYS_PROXY_HOPS` so the address is the client's, not
the proxy's; otherwise every client would share one allowance.

Two requests racing past the check can each add a failure, so a client may
get a few more than `limit` attempts when it sends them in parallel; the limit
is a brake on guessing 256-bit tokens and passwords, not an exact quota.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveys.models import ThrottleEvent


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: timedelta


# 20 unknown links in 10 minutes: a client mistyping a link never gets near it.
LINK_GUESSES = Limit("link", 20, timedelta(minutes=10))
# Per client address, on top of the per-account lockout (accounts.LOCK_AFTER):
# stops one address trying a few passwords against many accounts.
SIGN_IN_FAILURES = Limit("sign_in", 20, timedelta(minutes=10))
LIMITS = (LINK_GUESSES, SIGN_IN_FAILURES)


def client_key(secret: str, address: str | None) -> str:
    digest = hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256)
    return digest.hexdigest()[:64]


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
    return result.rowcount or 0
