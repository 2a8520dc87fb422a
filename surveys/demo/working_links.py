"""Synthetic Working Links health and wellbeing pilot: study `working-links` of the demo.

Nobody in these rows is a real person. The pilot (Devon and Cornwall, from 2016) supported
an integrated health-and-wellbeing group of "more than 330" clients and compared it with a
group "with the same characteristics" whose size was not published: the demo ASSUMES 330
clients in each arm. Job entries: 79 integrated, 44 comparison. The two shares published
after the sessions (almost 90% closer to returning to work, 97% better able to manage their
health) are of the integrated group only, so the comparison arm is not asked them (the
survey routes them on `attended_sessions`). The split between Devon and Cornwall and all
dates are invented. Counts are constructed, then shuffled by the seed: counting the rows
gives back every figure exactly. Notes for researchers: working_links/README.md.

Public: `participants_rows()` (participants.csv with `arm`) and `responses_rows()` (the
follow-up wave's responses CSV), plain dicts of strings; `DEFINITION`, the study file
`surveys demo` applies (its instrument sits beside it).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

DEFAULT_SEED = 20160401
DEFINITION = Path(__file__).with_name("working_links") / "working-links.yaml"
SLUG = "working-links"
WAVE = "follow_up"
ARMS = ("integrated", "comparison")
MEASURES = ("job_entry", "closer_to_work", "manage_health")
REF_PREFIX = "WL-"

ARM_SIZE = 330  # ASSUMED for both arms: the comparison group's size was not published
JOB_ENTRIES = {"integrated": 79, "comparison": 44}
# Published for the integrated group only ("almost 90%", "97%"), of ARM_SIZE.
INTEGRATED_YES = {"closer_to_work": 296, "manage_health": 320}
# Invented: where each arm's clients were seen (the same in both arms, as matched).
SITES = {"Devon": 198, "Cornwall": 132}

FIRST_COMPLETION = date(2016, 4, 4)
LAST_COMPLETION = date(2017, 3, 31)
FOLLOW_UP_OFFSET_DAYS = 91  # the wave's offset_days in DEFINITION
ANSWER_DAYS = 20  # clients answer within this many days of the survey's issue (close_days 28)
END_DATE = date(2017, 7, 31)  # the study's end_date: every follow-up is due by then

PARTICIPANT_COLUMNS = ("participant_ref", "site", "completed_on", "arm")
RESPONSE_COLUMNS = ("participant_ref", "submitted_on", "mode", "job_entry",
                    "attended_sessions", "closer_to_work", "manage_health")


class DesignError(AssertionError):
    """The counts above do not give back the published figures."""


def check_design() -> None:
    """The assumed counts fit what was published; raise if not."""
    problems = []
    if sum(SITES.values()) != ARM_SIZE:
        problems.append(f"sites add up to {sum(SITES.values())}, not {ARM_SIZE}")
    if JOB_ENTRIES != {"integrated": 79, "comparison": 44}:
        problems.append(f"job entries {JOB_ENTRIES} are not the published 79 and 44")
    # "almost 90%": just under 90 per cent; "97%": 97 when rounded.
    closer = 100 * INTEGRATED_YES["closer_to_work"] / ARM_SIZE
    if not 89 <= closer < 90:
        problems.append(f"closer to work {closer:.1f}% is not 'almost 90%'")
    if round(100 * INTEGRATED_YES["manage_health"] / ARM_SIZE) != 97:
        problems.append("manage health does not round to 97%")
    if LAST_COMPLETION + timedelta(days=FOLLOW_UP_OFFSET_DAYS) > END_DATE:
        problems.append("a follow-up would be due after the study's end date")
    if problems:
        raise DesignError("; ".join(problems))


def _spread(yes: int, n: int, rng: random.Random) -> list[str]:
    values = ["yes"] * yes + ["no"] * (n - yes)
    rng.shuffle(values)
    return values


def _weekday(rng: random.Random, first: date, last: date) -> date:
    while True:
        day = first + timedelta(rng.randrange((last - first).days + 1))
        if day.weekday() < 5:
            return day


@lru_cache(maxsize=4)
def _build(seed: int) -> tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]:
    check_design()
    rng = random.Random(f"{seed}:working-links")
    participants: list[dict[str, str]] = []
    responses: list[dict[str, str]] = []
    number = 0
    for arm in ARMS:
        sites = [site for site, n in SITES.items() for _ in range(n)]
        rng.shuffle(sites)
        jobs = _spread(JOB_ENTRIES[arm], ARM_SIZE, rng)
        integrated = arm == "integrated"
        shares = {key: _spread(yes, ARM_SIZE, rng) for key, yes in INTEGRATED_YES.items()}
        for k in range(ARM_SIZE):
            number += 1
            ref = f"{REF_PREFIX}{number:04d}"
            completed = _weekday(rng, FIRST_COMPLETION, LAST_COMPLETION)
            participants.append({"participant_ref": ref, "site": sites[k],
                                 "completed_on": completed.isoformat(), "arm": arm})
            due = completed + timedelta(days=FOLLOW_UP_OFFSET_DAYS)
            responses.append({
                "participant_ref": ref,
                "submitted_on": (due + timedelta(rng.randrange(ANSWER_DAYS))).isoformat(),
                "mode": "telephone",
                "job_entry": jobs[k],
                "attended_sessions": "yes" if integrated else "no",
                # Routed: asked only of those who took part in the sessions (integrated).
                "closer_to_work": shares["closer_to_work"][k] if integrated else "",
                "manage_health": shares["manage_health"][k] if integrated else "",
            })
    responses.sort(key=lambda row: (row["submitted_on"], row["participant_ref"]))
    return tuple(participants), tuple(responses)


def participants_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Every client of both arms (participants.csv with `arm`), ordered by reference."""
    return [dict(row) for row in _build(seed)[0]]


def responses_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """The follow-up wave's responses (responses CSV), in the order they came in."""
    return [dict(row) for row in _build(seed)[1]]
