"""A study's clock: its local date, and when its sending window is open.

Pure functions of (window, time zone, an aware `now`): no database, no settings. Due dates
are the study's local dates, and messages go only inside its window, in local time, so a
daylight-saving change moves nothing by an hour or a day (decision 0011).

A window is {"from": "HH:MM", "to": "HH:MM", "days": ["mon", ...]}: open from `from`
(inclusive) to `to` (exclusive) local time on the listed days; None is DEFAULT_WINDOW.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Europe/London"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DEFAULT_WINDOW = {"from": "09:00", "to": "19:00", "days": list(DAYS[:6])}


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_TIME_ZONE)


def zone_problem(name: object) -> str | None:
    """Why `name` is not a time zone this service knows (IANA, e.g. Europe/London), or None."""
    if not isinstance(name, str) or not name:
        return "must be a time zone name such as Europe/London"
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"'{name}' is not a known time zone (e.g. Europe/London)"
    return None


def minutes(value: object) -> int | None:
    """Minutes after midnight of an "HH:MM" time (24:00 allowed, as an end), or None.

    YAML 1.1 reads an unquoted 19:00 as the number 1140 (base 60): that is accepted too.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= 24 * 60 else None
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, mins = value[:2], value[3:]
    if not (hours.isdigit() and mins.isdigit()):
        return None
    total = int(hours) * 60 + int(mins)
    return total if int(mins) < 60 and total <= 24 * 60 else None


def hhmm(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def window_problems(window: object) -> list[tuple[str, str]]:
    """What is wrong with a window, as (key or "", problem); empty when it is sound."""
    if not isinstance(window, dict):
        return [("", "must be {from: \"09:00\", to: \"19:00\", days: [mon, ...]}")]
    problems = [("", f"unknown setting '{key}'; allowed: from, to, days")
                for key in window if key not in ("from", "to", "days")]
    start, end = minutes(window.get("from", "09:00")), minutes(window.get("to", "19:00"))
    for key, value in (("from", start), ("to", end)):
        if value is None:
            problems.append((key, f"must be a time like \"09:00\" (got {window.get(key)!r})"))
    if start is not None and end is not None and start >= end:
        problems.append(("", f"from ({hhmm(start)}) must be before to ({hhmm(end)})"))
    days = window.get("days", DEFAULT_WINDOW["days"])
    if not isinstance(days, list) or not days:
        problems.append(("days", "must list at least one day, e.g. [mon, tue, wed, thu, fri]"))
    else:
        unknown = [str(d) for d in days if d not in DAYS]
        if unknown:
            problems.append(("days", f"unknown day {', '.join(unknown)} "
                                     f"(use {', '.join(DAYS)})"))
        elif len(set(days)) != len(days):
            problems.append(("days", "lists a day twice"))
    return problems


def normal_window(window: dict | None) -> dict | None:
    """A checked window in its stored form ("HH:MM" strings, days in week order), or None
    when it is the default (so a study keeps the default if the default ever changes)."""
    if window is None:
        return None
    out = {"from": hhmm(minutes(window.get("from", "09:00")) or 0),
           "to": hhmm(minutes(window.get("to", "19:00")) or 0),
           "days": [d for d in DAYS if d in window.get("days", DEFAULT_WINDOW["days"])]}
    return None if out == DEFAULT_WINDOW else out


def describe(window: dict | None) -> str:
    """A window in a line, e.g. 09:00-19:00 mon tue wed thu fri sat."""
    w = window or DEFAULT_WINDOW
    return f"{w['from']}-{w['to']} {' '.join(w['days'])}"


def _bounds(window: dict | None) -> tuple[int, int, set[int]]:
    w = window or DEFAULT_WINDOW
    start = minutes(w.get("from", DEFAULT_WINDOW["from"]))
    end = minutes(w.get("to", DEFAULT_WINDOW["to"]))
    days = {DAYS.index(d) for d in w.get("days", DEFAULT_WINDOW["days"]) if d in DAYS}
    return (540 if start is None else start), (1140 if end is None else end), days


def local_today(study_tz: str | None, now: datetime) -> date:
    """The study's date at `now` (an aware datetime): due dates are compared with this."""
    return now.astimezone(zone(study_tz)).date()


def is_open(window: dict | None, tz: str | None, now: datetime) -> bool:
    start, end, days = _bounds(window)
    local = now.astimezone(zone(tz))
    at = local.hour * 60 + local.minute
    return local.weekday() in days and start <= at < end


def next_open(window: dict | None, tz: str | None, now: datetime) -> datetime:
    """`now` (in UTC) if the window is open, else when it next opens, as an aware UTC time.

    Each candidate opening is built from the local date and the local `from` time, then
    converted: the opening stays at 09:00 local on either side of a clock change.
    """
    now = now.astimezone(UTC)
    if is_open(window, tz, now):
        return now
    start, _end, days = _bounds(window)
    local_zone = zone(tz)
    day = now.astimezone(local_zone).date()
    for ahead in range(8):
        candidate = day + timedelta(days=ahead)
        if candidate.weekday() not in days:
            continue
        opening = datetime.combine(candidate, time(start // 60, start % 60),
                                   tzinfo=local_zone).astimezone(UTC)
        if opening > now:
            return opening
    raise ValueError("a sending window needs at least one day")  # checked on the way in
