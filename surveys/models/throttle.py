"""Failed attempts (unknown links, wrong passwords) counted per client, shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base
from surveys.models.types import UTCDateTime


class ThrottleEvent(Base):
    __tablename__ = "throttle_events"
    __table_args__ = (Index("ix_throttle_events_key", "bucket", "client", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))  # what was attempted: 'link', 'sign_in'
    # A keyed hash of the client's address: counts can be shared without storing addresses.
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInCounter(Base):
    """Sign-in attempts in a fixed window, one row per key (an address, an account, or both).

    A single upsert adds one and returns the new count, so parallel requests in any
    number of processes each get a distinct count: none checks a password past the limit.
    """

    __tablename__ = "sign_in_counters"

    # A keyed hash of what is counted (bucket, address, typed email): no addresses stored.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column()
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
