"""The service's notion of 'now', replaceable in tests with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def today(clock: Clock) -> date:
    return clock().date()


class FrozenClock:
    """A clock that stays where it is put; tests move it with `advance`/`set`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **kwargs) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**kwargs)
