"""Synthetic Health and Work Support (HWS) pilot: study `hws-pilot` of the demo.

Nobody in these rows is a real person. The pilot (Dundee and Fife, June 2018 to March
2020) recorded at enrolment, for everyone enrolled, whether they were concerned about
losing their job because of their health and whether they were absent from work; those
who completed support were surveyed once. The published report gives shares only, so the
counts are ASSUMED: 350 enrolled, 126 dropped out, 89 of the 224 completers answered the
survey (surveys.demo.figures, HWS_*). Counts are constructed, then shuffled by the seed:
counting the rows gives back every published share exactly.

How respondents' answers moved from enrolment to the survey was not published: PAIRS
below is invented, with changes both ways, so that the paired McNemar test has something
to test. The published comparison (all participants at enrolment against respondents at
the survey) compares two different groups; the paired change compares each respondent
with themselves.

Public: `participants_rows()` (participants.csv, with `status`) and `responses_rows()`
(the survey wave's responses CSV), plain dicts of strings; `DEFINITION`, the study file
`surveys demo` applies (its instrument sits beside it).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from surveys.demo import figures as F

DEFAULT_SEED = 20180601
DEFINITION = Path(__file__).with_name("hws") / "hws-pilot.yaml"
SLUG = "hws-pilot"
WAVE = "survey"
SURVEY_OFFSET_DAYS = 28  # the wave's offset_days in DEFINITION
SURVEY_ANSWER_DAYS = 20  # respondents answer within this many days of the survey's issue
REF_PREFIX = "HWS-"
MEASURES = ("concerned_job", "absent")
FIRST_COMPLETION = date(2018, 8, 1)
LAST_COMPLETION = date(2020, 3, 20)  # support stopped when the pilot closed (COVID-19)

PARTICIPANT_COLUMNS = ("participant_ref", "site", "completed_on", "status",
                       "concerned_job_end", "absent_end")
RESPONSE_COLUMNS = ("participant_ref", "submitted_on", "mode", "concerned_job", "absent",
                    "made_difference", "health_improved", "health_contributed")

# Respondents' (enrolment, survey) answers: synthetic, not published.
PAIRS: dict[str, dict[tuple[str, str], int]] = {
    "concerned_job": {("yes", "no"): 23, ("yes", "yes"): 7, ("no", "yes"): 4,
                      ("no", "no"): 55},
    "absent": {("yes", "no"): 18, ("yes", "yes"): 6, ("no", "yes"): 3, ("no", "no"): 62},
}


class DesignError(AssertionError):
    """The counts above do not give back the published figures."""


def check_design() -> None:
    """Prove the chosen counts round half-up to the published per cents; raise if not."""
    problems: list[str] = []

    def expect(what: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{what}: {got} != {want}")

    expect("sites", sum(F.HWS_SITES.values()), F.HWS_ENROLLED)
    expect("completed", F.HWS_ENROLLED - F.HWS_DROPPED_OUT, F.HWS_COMPLETED)
    expect("dropped out %", F.percent(F.HWS_DROPPED_OUT, F.HWS_ENROLLED),
           F.HWS_DROPPED_OUT_PERCENT)
    expect("respondents are completers", F.HWS_RESPONDENTS <= F.HWS_COMPLETED, True)
    for key, pct in F.HWS_ENROLMENT_PERCENT.items():
        expect(f"{key} at enrolment %", F.percent(F.HWS_ENROLMENT_YES[key], F.HWS_ENROLLED), pct)
    for key, pct in F.HWS_SURVEY_PERCENT.items():
        expect(f"{key} at survey %", F.percent(F.HWS_SURVEY_YES[key], F.HWS_RESPONDENTS), pct)
    expect("health contributed %", F.percent(F.HWS_HEALTH_CONTRIBUTED,
                                             F.HWS_SURVEY_YES["health_improved"]),
           F.HWS_HEALTH_CONTRIBUTED_PERCENT)
    for key, cells in PAIRS.items():
        expect(f"{key} pairs", sum(cells.values()), F.HWS_RESPONDENTS)
        after = sum(n for (_, a), n in cells.items() if a == "yes")
        expect(f"{key} survey yes", after, F.HWS_SURVEY_YES[key])
        before = sum(n for (b, _), n in cells.items() if b == "yes")
        others = F.HWS_ENROLLED - F.HWS_RESPONDENTS
        expect(f"{key} enrolment yes fits", 0 <= F.HWS_ENROLMENT_YES[key] - before <= others,
               True)
        expect(f"{key} changes both ways", min(cells[("yes", "no")], cells[("no", "yes")]) > 0,
               True)
    if problems:
        raise DesignError("; ".join(problems))


def _spread(counts: dict, rng: random.Random) -> list:
    values = [value for value, n in counts.items() for _ in range(n)]
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
    rng = random.Random(f"{seed}:hws")
    n = F.HWS_ENROLLED
    refs = [f"{REF_PREFIX}{i:04d}" for i in range(1, n + 1)]
    sites = _spread(F.HWS_SITES, rng)
    order = list(range(n))
    rng.shuffle(order)
    dropped = set(order[:F.HWS_DROPPED_OUT])
    respondents = order[F.HWS_DROPPED_OUT:F.HWS_DROPPED_OUT + F.HWS_RESPONDENTS]
    surveyed = set(respondents)
    others = [i for i in range(n) if i not in surveyed]
    # A respondent's survey is due by the pilot's end; other completers may finish later.
    last_due = F.HWS_END - timedelta(days=SURVEY_OFFSET_DAYS)
    completed: dict[int, date] = {}
    for i in range(n):
        if i not in dropped:
            last = last_due if i in surveyed else LAST_COMPLETION
            completed[i] = _weekday(rng, FIRST_COMPLETION, last)

    baseline: dict[str, dict[int, str]] = {}
    survey: dict[str, dict[int, str]] = {}
    for key in MEASURES:
        pairs = _spread(PAIRS[key], rng)
        baseline[key] = {i: before for i, (before, _) in zip(respondents, pairs, strict=True)}
        survey[key] = {i: after for i, (_, after) in zip(respondents, pairs, strict=True)}
        rest = F.HWS_ENROLMENT_YES[key] - sum(1 for b, _ in pairs if b == "yes")
        baseline[key].update(zip(others, _spread({"yes": rest, "no": len(others) - rest}, rng),
                                 strict=True))

    participants = tuple(
        {"participant_ref": refs[i], "site": sites[i],
         "completed_on": completed[i].isoformat() if i in completed else "",
         "status": "dropped_out" if i in dropped else "completed",
         "concerned_job_end": baseline["concerned_job"][i], "absent_end": baseline["absent"][i]}
        for i in range(n)
    )

    made = _spread({"yes": F.HWS_SURVEY_YES["made_difference"],
                    "no": F.HWS_RESPONDENTS - F.HWS_SURVEY_YES["made_difference"]}, rng)
    improved = _spread({"yes": F.HWS_SURVEY_YES["health_improved"],
                        "no": F.HWS_RESPONDENTS - F.HWS_SURVEY_YES["health_improved"]}, rng)
    contributed = iter(_spread({"yes": F.HWS_HEALTH_CONTRIBUTED,
                                "no": F.HWS_SURVEY_YES["health_improved"]
                                - F.HWS_HEALTH_CONTRIBUTED}, rng))
    responses = []
    for k, i in enumerate(respondents):
        due = completed[i] + timedelta(days=SURVEY_OFFSET_DAYS)
        responses.append({
            "participant_ref": refs[i],
            "submitted_on": (due + timedelta(rng.randrange(SURVEY_ANSWER_DAYS))).isoformat(),
            "mode": "telephone",
            "concerned_job": survey["concerned_job"][i],
            "absent": survey["absent"][i],
            "made_difference": made[k],
            "health_improved": improved[k],
            # Routed: asked only of those whose health improved.
            "health_contributed": next(contributed) if improved[k] == "yes" else "",
        })
    responses.sort(key=lambda row: (row["submitted_on"], row["participant_ref"]))
    return participants, tuple(responses)


def participants_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Everyone enrolled (participants.csv with `status`), ordered by reference."""
    return [dict(row) for row in _build(seed)[0]]


def responses_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """The survey wave's responses (responses CSV), in the order they came in."""
    return [dict(row) for row in _build(seed)[1]]
