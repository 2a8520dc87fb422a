"""Synthetic Fit for Work Service pilots: study `ffws-pilots` of the demo (seed 003).

Nobody in these rows is a real person. The pilots ran in 11 areas of Great Britain from
2010, and the evaluation's client survey was "a two-wave telephone survey", its first wave
"of over 300 FFWS clients". Nothing else about the survey is published in the seed, so the
demo INVENTS: the pilot areas' names (neutral: "Pilot area A" to "Pilot area K") and sizes,
a cohort of 520 clients, how the first wave's calls ended (312 interviews, 78 refusals,
41 wrong numbers, 89 not reached after the wave's most calls), the questions, the answers,
and every date. Dates are relative to the day the demo is loaded: the first wave finished
months ago, the second is live, so interviewers have a call list today.

A client's calls in a wave are a script (`CallScript`): the outcome of each call and how
long after the call fell due it was made. The loader (surveys/demo/calling.py) plays the
scripts through the service's own call recording, so the service decides when each next
call is due; a live wave's scripts stop at `now`. Counts are constructed, then shuffled by
the seed: counting the scripts gives back every figure exactly (`check_design`).

Public: `participants_rows(today)` (participants.csv: site, completed_on, phone and the
`health_end` baseline), `scripts(wave)` ({reference: CallScript}), `DEFINITION` (the study
file `surveys demo` applies; its instruments sit beside it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

DEFAULT_SEED = 20100401
DEFINITION = Path(__file__).with_name("ffws") / "ffws-pilots.yaml"
SLUG = "ffws-pilots"
WAVES = ("wave1", "wave2")
REF_PREFIX = "FFWS-"

# Invented names and sizes of the eleven pilot areas (the seed names none of them).
SITES = {
    "Pilot area A": 62, "Pilot area B": 38, "Pilot area C": 55, "Pilot area D": 41,
    "Pilot area E": 70, "Pilot area F": 33, "Pilot area G": 47, "Pilot area H": 52,
    "Pilot area I": 36, "Pilot area J": 44, "Pilot area K": 42,
}
COHORT = 520
PUBLISHED_AREAS = 11
PUBLISHED_FIRST_WAVE_MORE_THAN = 300
# How each client's first-wave calls ended (invented; only "over 300" is published).
WAVE1_ENDINGS = {"completed": 312, "refused": 78, "wrong_number": 41, "not_reached": 89}
# The second wave's scripts as planned (a live wave plays them only up to now). Its wrong
# numbers are the first wave's: the same numbers, still wrong six months on.
WAVE2_ENDINGS = {"completed": 300, "refused": 52, "wrong_number": 41, "not_reached": 127}

# The study file's waves (check_design reads the file and compares).
OFFSET_DAYS = {"wave1": 28, "wave2": 196}
CLOSE_DAYS = 42
MAX_CALLS = 6
# Second-wave due dates, in days from the day the demo is loaded: open ones (issued within
# the wave's 42 days) and some still to come.
WAVE2_FIRST_DUE, WAVE2_LAST_DUE = -12, 10
# The live wave: call backs booked shortly before the demo was loaded, for a time already
# past (due now), later today (as many of them as are still ahead) and the next calling day.
LIVE_CALL_BACKS = {"overdue": 3, "later_today": 4, "tomorrow": 5}

PARTICIPANT_COLUMNS = ("participant_ref", "site", "completed_on", "phone", "health_end")


class DesignError(AssertionError):
    """The counts above do not give back the published figures."""


@dataclass(frozen=True)
class Call:
    outcome: str  # a CallOutcome value
    # Minutes after the call fell due (the service's next_call_at) that it was made.
    delay_minutes: int
    # call_back: the client asked to be called this many minutes later (the loader moves
    # it into the study's calling hours).
    call_back_minutes: int | None = None


@dataclass(frozen=True)
class CallScript:
    ref: str
    wave: str
    ending: str  # a key of WAVE1_ENDINGS
    calls: tuple[Call, ...]
    # Calling days before the first call (0: the day it was issued).
    first_call_days: int = 0
    # The interview's answers (instrument values) and its length, when it is completed.
    answers: dict[str, object] | None = None
    interview_minutes: int = 0


def check_design() -> None:
    """The invented counts fit what was published and the study file; raise if not."""
    import yaml

    problems = []
    if len(SITES) != PUBLISHED_AREAS:
        problems.append(f"{len(SITES)} sites, not the published {PUBLISHED_AREAS} pilot areas")
    if sum(SITES.values()) != COHORT:
        problems.append(f"sites add up to {sum(SITES.values())}, not {COHORT}")
    for wave, endings in (("wave1", WAVE1_ENDINGS), ("wave2", WAVE2_ENDINGS)):
        if sum(endings.values()) != COHORT:
            problems.append(f"{wave} endings add up to {sum(endings.values())}, not {COHORT}")
        if min(endings.values()) < 1:
            problems.append(f"{wave} lacks an ending of some kind")
    if WAVE2_ENDINGS["wrong_number"] != WAVE1_ENDINGS["wrong_number"]:
        problems.append("the second wave's wrong numbers are not the first wave's")
    if WAVE1_ENDINGS["completed"] <= PUBLISHED_FIRST_WAVE_MORE_THAN:
        problems.append("the first wave does not have over 300 completed interviews")
    if WAVE2_FIRST_DUE + CLOSE_DAYS <= 0 or WAVE2_LAST_DUE <= 0:
        problems.append("the second wave would not be open on the day the demo is loaded")
    if OFFSET_DAYS["wave1"] + CLOSE_DAYS + 7 > OFFSET_DAYS["wave2"] + WAVE2_FIRST_DUE:
        problems.append("the first wave would still be open when the second begins")
    if any(days % 7 for days in OFFSET_DAYS.values()):
        problems.append("wave offsets must be whole weeks (calls fall on weekdays)")
    study = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    for wave in study["waves"]:
        expected = (OFFSET_DAYS.get(wave["code"]), CLOSE_DAYS, "telephone", MAX_CALLS, [])
        found = (wave["offset_days"], wave["close_days"], wave.get("mode"),
                 wave.get("max_calls"), wave.get("reminder_days"))
        if found != expected:
            problems.append(f"{DEFINITION.name} wave {wave['code']}: {found} is not {expected}")
    if problems:
        raise DesignError("; ".join(problems))


def _weekdays(first: date, last: date) -> list[date]:
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def _unanswered(rng: random.Random, n: int) -> list[Call]:
    """Calls that reached nobody ready to talk: mostly no answer, some asked to call back."""
    calls = []
    for _ in range(n):
        if rng.random() < 0.2:
            calls.append(Call("call_back", rng.randrange(0, 480),
                              rng.choice((90, 150, 240, 24 * 60 + 60, 26 * 60))))
        else:
            calls.append(Call("no_answer", rng.randrange(0, 480)))
    return calls


# How many calls a completed interview took (weights for 1..MAX_CALLS calls).
COMPLETED_AFTER = (35, 25, 17, 11, 7, 5)


def _calls(rng: random.Random, ending: str) -> tuple[Call, ...]:
    if ending == "not_reached":
        return tuple(_unanswered(rng, MAX_CALLS))
    if ending == "completed":
        before = rng.choices(range(MAX_CALLS), weights=COMPLETED_AFTER)[0]
    elif ending == "refused":
        before = rng.choice((0, 0, 0, 1, 1, 2))
    else:  # wrong_number: usually found out on the first call
        before = rng.choice((0, 0, 0, 0, 1))
    return (*_unanswered(rng, before), Call(ending, rng.randrange(0, 480)))


def _answers(rng: random.Random, wave: str, baseline: int) -> dict[str, object]:
    clip = lambda value: max(0, min(10, round(value)))  # noqa: E731
    if wave == "wave1":
        back = rng.random() < 0.62
        return {"back_at_work": "yes" if back else "no",
                "health": clip(baseline + rng.gauss(1.6 if back else 0.6, 1.8)),
                "service_helped": rng.choices(
                    ("strongly_agree", "agree", "neither", "disagree", "strongly_disagree"),
                    weights=(24, 38, 20, 12, 6))[0]}
    back = rng.random() < 0.74
    return {"back_at_work": "yes" if back else "no",
            "health": clip(baseline + rng.gauss(2.0 if back else 0.8, 2.0)),
            "more_sickness_absence": "yes" if rng.random() < 0.18 else "no"}


@dataclass(frozen=True)
class _Client:
    ref: str
    site: str
    wave2_due: int  # days from the day the demo is loaded
    phone: str
    health_end: int


@lru_cache(maxsize=4)
def _build(seed: int) -> tuple[tuple[_Client, ...], dict[str, dict[str, CallScript]]]:
    check_design()
    rng = random.Random(f"{seed}:ffws-pilots")
    sites = [site for site, n in SITES.items() for _ in range(n)]
    rng.shuffle(sites)
    # Fictional numbers (Ofcom's drama ranges): 1,000 mobiles and 1,000 landlines.
    numbers = ([f"07700 900{n:03d}" for n in range(1000)]
               + [f"01632 960{n:03d}" for n in range(1000)])
    phones = rng.sample(numbers, COHORT)
    clients = tuple(
        _Client(f"{REF_PREFIX}{k + 1:04d}", sites[k],
                rng.randint(WAVE2_FIRST_DUE, WAVE2_LAST_DUE), phones[k],
                rng.choices(range(11), weights=(2, 4, 7, 11, 14, 15, 14, 12, 9, 7, 5))[0])
        for k in range(COHORT))
    wave1 = [ending for ending, n in WAVE1_ENDINGS.items() for _ in range(n)]
    rng.shuffle(wave1)
    wave2 = [ending for ending, n in WAVE2_ENDINGS.items() if ending != "wrong_number"
             for _ in range(n)]
    rng.shuffle(wave2)
    unchanged = iter(wave2)
    wave2 = ["wrong_number" if first == "wrong_number" else next(unchanged) for first in wave1]
    scripts: dict[str, dict[str, CallScript]] = {}
    for wave, endings in (("wave1", wave1), ("wave2", wave2)):
        scripts[wave] = {
            client.ref: CallScript(
                client.ref, wave, ending, _calls(rng, ending),
                first_call_days=0 if wave == "wave1" or rng.random() < 0.7 else rng.randint(1, 4),
                answers=_answers(rng, wave, client.health_end) if ending == "completed" else None,
                interview_minutes=rng.randint(12, 25))
            for client, ending in zip(clients, endings, strict=True)}
    return clients, scripts


def _weekday_near(today: date, days: int) -> date:
    """`days` from today, moved to the Friday before when it falls on a weekend."""
    day = today + timedelta(days)
    return day - timedelta(max(0, day.weekday() - 4))


def participants_rows(today: date, seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Every client (participants.csv with phone and health_end), ordered by reference.

    completed_on (the client's case closed) is a weekday chosen so that the second wave
    falls due `wave2_due` days from `today`; the first wave was 24 weeks before that."""
    out = []
    for c in _build(seed)[0]:
        completed = _weekday_near(today, c.wave2_due) - timedelta(OFFSET_DAYS["wave2"])
        out.append({"participant_ref": c.ref, "site": c.site,
                    "completed_on": completed.isoformat(), "phone": c.phone,
                    "health_end": str(c.health_end)})
    return out


def scripts(wave: str, seed: int = DEFAULT_SEED) -> dict[str, CallScript]:
    """Each client's calls in `wave` as planned, by reference."""
    return dict(_build(seed)[1][wave])
