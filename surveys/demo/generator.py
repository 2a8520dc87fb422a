"""Synthetic demo data: a made-up cohort whose reports give back the published figures.

Nobody in these rows is a real person. Each row is built here, deterministically from a
seed, so that counting the rows reproduces every number in `surveys.demo.figures`
exactly (the counts are constructed, then shuffled; there is no trial and error).

Rows are plain dicts of strings, exactly as the CSV import files hold them (contracts
sections 2 and 3): dates ISO, scores as whole numbers, blank for "not recorded".

Public functions:

- `participants_rows()`, `appointments_rows()`: the 333 completers and their 748
  scheduled appointments (participants.csv, appointments.csv);
- `wave1_rows()`, `wave2_rows()`: the 82 and 34 survey responses (responses CSV);
- `referral_rows()`: management information per site (table 3.1, referral outcomes);
- `current_rows(today)`: a few live clients with surveys due today, for a second study;
- `write_csvs(folder, today)`: all of the above as CSV files with header rows.
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from surveys.demo import figures as F

DEFAULT_SEED = 20240708

DEMO_STUDY_NAME = "Employment and Health Discussion evaluation (synthetic demo)"
LIVE_STUDY_NAME = "Employment and Health Discussion, live demo"
REF_PREFIX = "EHD-"
LIVE_REF_PREFIX = "LIVE-"

PARTICIPANT_COLUMNS = (
    "participant_ref",
    "site",
    "completed_on",
    "language",
    "email",
    "phone",
    "workability_end",
    "confidence_end",
    "importance_end",
)
APPOINTMENT_COLUMNS = ("participant_ref", "appointment_on", "channel", "attendance", "workability")
RESPONSE_COLUMNS = ("participant_ref", "submitted_on", "mode")

SATISFACTION = (
    "extremely_satisfied",
    "satisfied",
    "neither",
    "dissatisfied",
    "extremely_dissatisfied",
)
AGREEMENT = ("strongly_agree", "agree", "neither", "disagree", "strongly_disagree")
CHANGE = ("improved", "no_difference", "deteriorated")
OPEN_UP = ("more_able", "no_difference", "less_able")
YES_NO = ("yes", "no")

WAVE1_QUESTIONS = (
    "satisfaction",
    "channel_appropriate",
    "number_appropriate",
    "length_appropriate",
    "honest_open",
    "trusted_ehp",
    "understood_circumstances",
    "open_up_vs_work_coach",
    "identified_obstacles",
    "identified_solutions",
    "read_plan",
    "plan_tailored",
    "plan_accurate",
    "plan_actionable",
    "plan_will_act",
    "right_work_health",
    "outlook_change",
    "confidence_change",
    "importance_change",
    "support_change",
    "comments",
)
WAVE2_QUESTIONS = (
    "workability",
    "confidence",
    "importance",
    "steps_taken",
    "steps_helped",
    "steps_reasons",
    "steps_reasons_other",
    "more_steps_planned",
    "seen_work_coach",
    "discussed_plan",
    "work_coach_relationship",
    "comments",
)
STEPS_REASONS = ("health", "other_issues", "no_places", "other")
WAVE1_COLUMNS = RESPONSE_COLUMNS + WAVE1_QUESTIONS
WAVE2_COLUMNS = RESPONSE_COLUMNS + WAVE2_QUESTIONS
REFERRAL_COLUMNS = (
    "site",
    "fte",
    "note",
    "eligible_referrals",
    "successfully_closed",
    "in_progress",
    "not_completed_unsuitable",
    "not_completed_disengaged",
    "not_completed_claim_closed",
)

# ---------------------------------------------------------------------------------------
# Design: whole-number counts chosen to round to the published percentages.
# `check_design()` proves they do; the construction below then meets them exactly.
# ---------------------------------------------------------------------------------------

ATTENDANCE_COUNTS = {
    "attended": sum(k * n for k, n in F.APPOINTMENTS_ATTENDED.items()),  # 650
    "unable_to_attend": 60,
    "failed_to_attend": 38,
}
CHANNEL_COUNTS = {
    "telephone": 618,
    "face_to_face_site": 75,
    "face_to_face_neutral": 20,
    "video": 35,
}
WORKABILITY_CHANGE_COUNTS = {"improved": 121, "same": 66, "deteriorated": 14}

# Neutral venues (outside the Jobcentre) were not on offer everywhere.
NEUTRAL_VENUE_SITES = ("Bradford", "Durham", "Hull", "Newcastle", "Norwich", "Wigan HMO")

# Appointments: the first can fall shortly before the window opened.
FIRST_APPOINTMENT_FLOOR = date(2024, 6, 24)
GAP_AFTER_ATTENDED = (7, 14)  # days to the next appointment
GAP_AFTER_MISSED = (4, 9)  # a missed appointment is rebooked sooner

WELSH_SPEAKERS = {"Aberdare HMO": 4}
PHONE_SHARE = 0.6  # the rest are reached through their UC journal only
MISSING_END_SCORES = 5  # confidence and importance not recorded on the plan

# Relative weights for scores 0..10 at the end of the intervention.
WORKABILITY_WEIGHTS = (1, 3, 6, 10, 13, 15, 13, 10, 6, 3, 1)
CONFIDENCE_WEIGHTS = (1, 2, 3, 10, 13, 15, 14, 12, 9, 3, 2)
IMPORTANCE_WEIGHTS = (1, 1, 1, 2, 3, 8, 10, 12, 15, 13, 17)

# Wave 1: full answer distributions (best answer first); "agree" totals as published.
WAVE1_TELEPHONE = 6
WAVE1_DESIGN: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "satisfaction": (SATISFACTION, (49, 29, 3, 1, 0)),
    "channel_appropriate": (AGREEMENT, (38, 37, 5, 2, 0)),
    "number_appropriate": (AGREEMENT, (28, 37, 11, 5, 1)),
    "length_appropriate": (AGREEMENT, (33, 39, 7, 3, 0)),
    "honest_open": (AGREEMENT, (52, 27, 2, 1, 0)),
    "trusted_ehp": (AGREEMENT, (45, 28, 7, 2, 0)),
    "understood_circumstances": (AGREEMENT, (44, 32, 4, 2, 0)),
    "open_up_vs_work_coach": (OPEN_UP, (48, 34, 0)),
    "identified_obstacles": (AGREEMENT, (34, 38, 7, 3, 0)),
    "identified_solutions": (AGREEMENT, (33, 40, 6, 3, 0)),
    "right_work_health": (AGREEMENT, (21, 35, 18, 6, 2)),
    "outlook_change": (CHANGE, (39, 41, 2)),
    "confidence_change": (CHANGE, (33, 47, 2)),
    "importance_change": (CHANGE, (29, 51, 2)),
    "support_change": (CHANGE, (47, 34, 1)),
}
WAVE1_READ_PLAN = {"yes": 73, "no": 9}
WAVE1_PLAN_DESIGN: dict[str, tuple[int, ...]] = {  # over AGREEMENT, base: the 73 readers
    "plan_tailored": (28, 35, 8, 2, 0),
    "plan_accurate": (25, 36, 9, 3, 0),
    "plan_actionable": (20, 35, 13, 4, 1),
    "plan_will_act": (24, 35, 11, 3, 0),
}
WAVE1_COMMENTS = (
    "The nurse was easy to talk to and did not rush me.",
    "I would have preferred to meet in person.",
    "It helped to have someone listen about my health.",
    "My plan took a while to appear in my journal.",
    "Good to talk things through before seeing my work coach.",
    "Some of the suggestions were not available near me.",
)

# Wave 2: how the 28 linked follow-up scores compare with the stored end scores.
WAVE2_LOWER_THAN_END = {"workability": 8, "confidence": 10, "importance": 8}
WAVE2_TELEPHONE = 5
# Six responses that cannot be linked to the cohort, each for a realistic reason.
WAVE2_UNLINKED_REFS = (
    "EHD-O417",  # letter O typed for a zero
    "ehd 0456",  # lower case, space instead of hyphen
    "",  # reference left blank
    "EHD0389",  # hyphen missing
    "EHD-04562",  # extra digit
    "JCP-7731",  # a reference from another scheme, not this study
)
WAVE2_PRIMARY_REASONS = {"health": 14, "other_issues": 6, "no_places": 2, "other": 2}
WAVE2_EXTRA_REASONS = {"other_issues": 3, "no_places": 2}
WAVE2_OTHER_REASONS = (
    "Waiting for a hospital appointment.",
    "Caring for a family member.",
)
WAVE2_COMMENTS = (
    "Still waiting to hear about the course.",
    "My work coach had a copy of the plan which helped.",
    "My health has not been great since.",
    "I have started volunteering one day a week.",
)


class DesignError(AssertionError):
    """The design counts above do not reproduce the published figures."""


def check_design() -> None:
    """Prove the chosen counts round to the published percentages; raise if not."""
    problems: list[str] = []

    def expect(what: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{what}: {got} != {want}")

    expect("sites", sum(s.successfully_closed for s in F.SITES), F.TOTAL_COMPLETED)
    expect("attendance base", sum(ATTENDANCE_COUNTS.values()), F.ATTENDANCE_BASE)
    for key, count in ATTENDANCE_COUNTS.items():
        expect(key, F.percent(count, F.ATTENDANCE_BASE), F.ATTENDANCE_PERCENT[key])
    expect("channel base", sum(CHANNEL_COUNTS.values()), F.ATTENDANCE_BASE)
    for key, count in CHANNEL_COUNTS.items():
        expect(key, F.percent(count, F.ATTENDANCE_BASE), F.CHANNEL_PERCENT[key])
    multi = sum(n for k, n in F.APPOINTMENTS_ATTENDED.items() if k > 1)
    expect("table 3.3 base", multi, F.WORKABILITY_CHANGE_BASE)
    expect("table 3.3 sum", sum(WORKABILITY_CHANGE_COUNTS.values()), multi)
    for key, count in WORKABILITY_CHANGE_COUNTS.items():
        expect(key, F.percent(count, multi), F.WORKABILITY_CHANGE_PERCENT[key])
    for item, (_, counts) in WAVE1_DESIGN.items():
        expect(f"{item} base", sum(counts), F.WAVE1_BASE)
    expect("read_plan", WAVE1_READ_PLAN["yes"], F.WAVE1_PLAN_BASE)
    for item, counts in WAVE1_PLAN_DESIGN.items():
        expect(f"{item} base", sum(counts), F.WAVE1_PLAN_BASE)
        expect(item, counts[0] + counts[1], F.WAVE1_PLAN_AGREE_COUNTS[item])
    for item, count in F.WAVE1_AGREE_COUNTS.items():
        expect(item, sum(WAVE1_DESIGN[item][1][:2]), count)
    rwh = WAVE1_DESIGN["right_work_health"][1]
    expect(
        "right_work_health",
        {"agree": rwh[0] + rwh[1], "neither": rwh[2], "disagree": rwh[3] + rwh[4]},
        F.WAVE1_RIGHT_WORK_HEALTH,
    )
    for item, counts in F.WAVE1_CHANGE_COUNTS.items():
        expect(item, WAVE1_DESIGN[item][1], tuple(counts[c] for c in CHANGE))
    sat = WAVE1_DESIGN["satisfaction"][1]
    expect("satisfaction", F.percent(sat[0] + sat[1], F.WAVE1_BASE), F.WAVE1_SATISFIED_PERCENT)
    for item, pct in F.WAVE1_APPROPRIATE_PERCENT.items():
        expect(item, F.percent(sum(WAVE1_DESIGN[item][1][:2]), F.WAVE1_BASE), pct)
    for item, pct in F.WAVE1_IDENTIFIED_PERCENT.items():
        expect(item, F.percent(sum(WAVE1_DESIGN[item][1][:2]), F.WAVE1_BASE), pct)
    expect(
        "more_able",
        F.percent(WAVE1_DESIGN["open_up_vs_work_coach"][1][0], F.WAVE1_BASE),
        F.WAVE1_MORE_ABLE_PERCENT,
    )
    for key, count in WAVE1_READ_PLAN.items():
        expect(f"read_plan {key}", F.percent(count, F.WAVE1_BASE), F.WAVE1_READ_PLAN_PERCENT[key])
    linked_same = {
        m: F.WAVE2_LINKED - F.WAVE2_HIGHER_THAN_END[m] - WAVE2_LOWER_THAN_END[m]
        for m in WAVE2_LOWER_THAN_END
    }
    if min(linked_same.values()) < 0:
        problems.append(f"wave 2 same counts negative: {linked_same}")
    expect("wave 2 responses", F.WAVE2_LINKED + len(WAVE2_UNLINKED_REFS), F.WAVE2_RESPONSES)
    some_none = F.WAVE2_STEPS_TAKEN["some"] + F.WAVE2_STEPS_TAKEN["none"]
    expect("more steps base", sum(F.WAVE2_MORE_STEPS_PLANNED.values()), some_none)
    expect("reasons base", sum(WAVE2_PRIMARY_REASONS.values()), some_none)
    if problems:
        raise DesignError("; ".join(problems))


# ---------------------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------------------


@dataclass
class _Visit:
    on: date
    attendance: str
    channel: str = "telephone"
    workability: int | None = None


@dataclass(eq=False)
class _Member:
    number: int
    site: str
    attended: int = 0
    missed: list[str] = field(default_factory=list)
    visits: list[_Visit] = field(default_factory=list)
    language: str = "en"
    phone: str = ""
    workability_end: int = 0
    confidence_end: int | None = None
    importance_end: int | None = None

    @property
    def ref(self) -> str:
        return f"{REF_PREFIX}{self.number:04d}"

    @property
    def completed_on(self) -> date:
        return self.visits[-1].on


class _Demo(NamedTuple):
    participants: tuple[dict[str, str], ...]
    appointments: tuple[dict[str, str], ...]
    wave1: tuple[dict[str, str], ...]
    wave2: tuple[dict[str, str], ...]
    referrals: tuple[dict[str, str], ...]


def _rng(seed: int, part: str) -> random.Random:
    """An independent, reproducible stream per part, so parts do not disturb each other."""
    return random.Random(f"{seed}:{part}")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _clip(value: int) -> int:
    return max(0, min(10, value))


def _draw(rng: random.Random, weights: tuple[int, ...], low: int = 0, high: int = 10) -> int:
    scores = list(range(low, high + 1))
    return rng.choices(scores, weights=weights[low : high + 1])[0]


def _spread(counts: dict[str, int] | tuple[tuple[str, int], ...]) -> list[str]:
    items = counts.items() if isinstance(counts, dict) else counts
    return [value for value, n in items for _ in range(n)]


def _weekdays(first: date, last: date) -> list[date]:
    days = (last - first).days + 1
    return [first + timedelta(i) for i in range(days) if (first + timedelta(i)).weekday() < 5]


def _schedule(rng: random.Random, sequence: list[str]) -> list[_Visit]:
    """Dates for one client's appointments, working back from their completion date."""
    gaps = [
        rng.randint(*(GAP_AFTER_ATTENDED if kind == "attended" else GAP_AFTER_MISSED))
        for kind in sequence[:-1]
    ]
    longest = sum(gaps) + 2 * len(gaps)  # moving off a weekend adds at most two days
    earliest = max(F.EVALUATION_START, FIRST_APPOINTMENT_FLOOR + timedelta(longest))
    on = rng.choice(_weekdays(earliest, F.EVALUATION_END))
    dates = [on]
    for gap in reversed(gaps):
        on = on - timedelta(gap)
        while on.weekday() >= 5:
            on -= timedelta(1)
        dates.append(on)
    dates.reverse()
    return [_Visit(on, kind) for on, kind in zip(dates, sequence, strict=True)]


def _build_cohort(seed: int) -> list[_Member]:
    rng = _rng(seed, "cohort")
    sites = [s.name for s in F.SITES for _ in range(s.successfully_closed)]
    numbers = rng.sample(range(1, len(sites) + 1), len(sites))
    members = [_Member(n, site) for n, site in zip(numbers, sites, strict=True)]

    attended = _spread({str(k): n for k, n in sorted(F.APPOINTMENTS_ATTENDED.items())})
    rng.shuffle(attended)
    for member, k in zip(members, attended, strict=True):
        member.attended = int(k)

    # Missed appointments: one slot per attended appointment, so nobody misses more
    # often than they attend; sampling without replacement fixes the exact totals.
    slots = [i for i, m in enumerate(members) for _ in range(m.attended)]
    kinds = _spread({k: n for k, n in ATTENDANCE_COUNTS.items() if k != "attended"})
    for i, kind in zip(rng.sample(slots, len(kinds)), kinds, strict=True):
        members[i].missed.append(kind)

    for member in members:
        sequence = ["attended"] * (member.attended - 1) + member.missed
        rng.shuffle(sequence)
        sequence.append("attended")  # completion is their last attended appointment
        member.visits = _schedule(rng, sequence)

    _assign_channels(rng, members)
    _assign_scores(rng, members)

    for site, n in WELSH_SPEAKERS.items():
        for member in rng.sample([m for m in members if m.site == site], n):
            member.language = "cy"
    with_phone = rng.sample(members, round(PHONE_SHARE * len(members)))
    for member, number in zip(with_phone, rng.sample(range(1000), len(with_phone)), strict=True):
        member.phone = f"07700 900{number:03d}"  # Ofcom's range reserved for drama
    return members


def _assign_channels(rng: random.Random, members: list[_Member]) -> None:
    """Fill each non-telephone quota with whole clients, later appointments first."""
    order = members[:]
    rng.shuffle(order)
    rules = (
        ("video", lambda m: True),
        ("face_to_face_neutral", lambda m: m.site in NEUTRAL_VENUE_SITES),
        ("face_to_face_site", lambda m: m.site not in F.NO_FACE_TO_FACE_SITES),
    )
    used: set[int] = set()
    for channel, allowed in rules:
        remaining = CHANNEL_COUNTS[channel]
        for member in order:
            if remaining == 0:
                break
            if member.number in used or not allowed(member):
                continue
            used.add(member.number)
            for visit in member.visits[-remaining:]:
                visit.channel = channel
            remaining -= min(remaining, len(member.visits))
        if remaining:
            raise DesignError(f"not enough appointments for the {channel} quota")


def _assign_scores(rng: random.Random, members: list[_Member]) -> None:
    """End scores, and work ability at every attended appointment (table 3.3)."""
    multi = [m for m in members if m.attended > 1]
    trends = _spread(WORKABILITY_CHANGE_COUNTS)
    rng.shuffle(trends)
    trend_of = {m.number: t for m, t in zip(multi, trends, strict=True)}
    for member in members:
        trend = trend_of.get(member.number, "single")
        if trend == "improved":
            end = _draw(rng, WORKABILITY_WEIGHTS, low=1)
            first = end - min(rng.randint(1, 3), end)
        elif trend == "deteriorated":
            end = _draw(rng, WORKABILITY_WEIGHTS, high=9)
            first = end + min(rng.randint(1, 2), 10 - end)
        else:
            end = first = _draw(rng, WORKABILITY_WEIGHTS)
        member.workability_end = end
        attended = [v for v in member.visits if v.attendance == "attended"]
        k = len(attended)
        for j, visit in enumerate(attended):
            if j == 0:
                visit.workability = first
            elif j == k - 1:
                visit.workability = end
            else:
                middle = first + (end - first) * j / (k - 1)
                visit.workability = _clip(int(middle + 0.5) + rng.choice((-1, 0, 0, 0, 1)))
        member.confidence_end = _draw(rng, CONFIDENCE_WEIGHTS)
        member.importance_end = _draw(rng, IMPORTANCE_WEIGHTS)
    for member in rng.sample(members, MISSING_END_SCORES):
        member.confidence_end = None
        member.importance_end = None


def _rank_assign(
    rng: random.Random,
    people: list[int],
    latent: dict[int, float],
    values: tuple[str, ...],
    counts: tuple[int, ...],
) -> dict[int, str]:
    """Give the best answers to those most positive overall, with noise per item."""
    keyed = sorted(people, key=lambda p: latent[p] + rng.gauss(0, 1), reverse=True)
    answers = _spread(tuple(zip(values, counts, strict=True)))
    return dict(zip(keyed, answers, strict=True))


def _build_wave1(seed: int, members: list[_Member]) -> list[dict[str, str]]:
    rng = _rng(seed, "wave1")
    chosen = rng.sample(members, F.WAVE1_BASE)
    people = list(range(len(chosen)))
    latent = {p: rng.gauss(0, 1) for p in people}
    answers: dict[str, dict[int, str]] = {}
    for item, (values, counts) in WAVE1_DESIGN.items():
        answers[item] = _rank_assign(rng, people, latent, values, counts)
    answers["read_plan"] = _rank_assign(
        rng, people, latent, YES_NO, (WAVE1_READ_PLAN["yes"], WAVE1_READ_PLAN["no"])
    )
    readers = [p for p in people if answers["read_plan"][p] == "yes"]
    for item, counts in WAVE1_PLAN_DESIGN.items():
        answers[item] = _rank_assign(rng, readers, latent, AGREEMENT, counts)
    answers["comments"] = dict(
        zip(rng.sample(people, len(WAVE1_COMMENTS)), WAVE1_COMMENTS, strict=True)
    )
    by_phone = set(rng.sample(people, WAVE1_TELEPHONE))
    rows = []
    for p, member in zip(people, chosen, strict=True):
        row = {
            "participant_ref": member.ref,
            "submitted_on": (member.completed_on + timedelta(rng.randint(0, 14))).isoformat(),
            "mode": "telephone" if p in by_phone else "web",
        }
        row.update({q: answers[q].get(p, "") for q in WAVE1_QUESTIONS})
        rows.append(row)
    return sorted(rows, key=lambda r: (r["submitted_on"], r["participant_ref"]))


def _follow_up(rng: random.Random, linked: list[_Member], measure: str) -> dict[int, int]:
    """Follow-up scores: exactly the published number higher, the design number lower."""
    end = {m.number: getattr(m, f"{measure}_end") for m in linked}
    order = [m.number for m in linked]
    rng.shuffle(order)
    want_higher = F.WAVE2_HIGHER_THAN_END[measure]
    want_lower = WAVE2_LOWER_THAN_END[measure]
    higher = [n for n in order if end[n] < 10][:want_higher]
    lower = [n for n in order if n not in higher and end[n] > 0][:want_lower]
    if len(higher) < want_higher or len(lower) < want_lower:
        raise DesignError(f"cannot place wave 2 {measure} changes")
    scores = {}
    for n in order:
        if n in higher:
            scores[n] = end[n] + min(rng.choice((1, 1, 2)), 10 - end[n])
        elif n in lower:
            scores[n] = end[n] - min(rng.choice((1, 1, 2, 3)), end[n])
        else:
            scores[n] = end[n]
    return scores


def _build_wave2(seed: int, members: list[_Member]) -> list[dict[str, str]]:
    rng = _rng(seed, "wave2")
    reachable_until = F.EVALUATION_END + timedelta(F.WAVE2_COLLECTION_GRACE_DAYS)
    pool = [
        m
        for m in members
        if m.completed_on + timedelta(F.WAVE2_DAYS_AFTER) <= reachable_until
        and m.confidence_end is not None
        and m.importance_end is not None
    ]
    linked = rng.sample(pool, F.WAVE2_LINKED)
    follow = {
        measure: _follow_up(rng, linked, measure)
        for measure in ("workability", "confidence", "importance")
    }
    rows = []
    for member in linked:
        rows.append(
            {
                "participant_ref": member.ref,
                "submitted_on": (member.completed_on + timedelta(rng.randint(42, 56))).isoformat(),
                **{measure: str(follow[measure][member.number]) for measure in follow},
            }
        )
    first_due = F.EVALUATION_START + timedelta(F.WAVE2_DAYS_AFTER)
    for ref in WAVE2_UNLINKED_REFS:
        on = first_due + timedelta(rng.randint(7, (reachable_until - first_due).days))
        rows.append(
            {
                "participant_ref": ref,
                "submitted_on": on.isoformat(),
                "workability": str(_draw(rng, WORKABILITY_WEIGHTS)),
                "confidence": str(_draw(rng, CONFIDENCE_WEIGHTS)),
                "importance": str(_draw(rng, IMPORTANCE_WEIGHTS)),
            }
        )
    rng.shuffle(rows)
    for row in rows:
        row.update({q: "" for q in WAVE2_QUESTIONS if q not in row})
        row["mode"] = "web"
    for row in rng.sample(rows, WAVE2_TELEPHONE):
        row["mode"] = "telephone"

    for row, taken in zip(rows, _spread(F.WAVE2_STEPS_TAKEN), strict=True):
        row["steps_taken"] = taken
    for taken, helped in F.WAVE2_STEPS_HELPED.items():
        group = [r for r in rows if r["steps_taken"] == taken]
        answers = _spread(helped)
        rng.shuffle(answers)
        for row, answer in zip(group, answers, strict=True):
            row["steps_helped"] = answer
    partial = [r for r in rows if r["steps_taken"] in ("some", "none")]
    planned = _spread(F.WAVE2_MORE_STEPS_PLANNED)
    rng.shuffle(planned)
    reasons = [{reason} for reason in _spread(WAVE2_PRIMARY_REASONS)]
    rng.shuffle(reasons)
    for extra, n in WAVE2_EXTRA_REASONS.items():
        for chosen in [r for r in reasons if extra not in r][:n]:
            chosen.add(extra)
    others = iter(WAVE2_OTHER_REASONS)
    for row, plan, given in zip(partial, planned, reasons, strict=True):
        row["more_steps_planned"] = plan
        row["steps_reasons"] = ";".join(r for r in STEPS_REASONS if r in given)
        if "other" in given:
            row["steps_reasons_other"] = next(others)

    seen = _spread(F.WAVE2_SEEN_WORK_COACH)
    rng.shuffle(seen)
    for row, answer in zip(rows, seen, strict=True):
        row["seen_work_coach"] = answer
    saw = [r for r in rows if r["seen_work_coach"] == "yes"]
    discussed = _spread(
        {
            "yes": F.WAVE2_DISCUSSED_PLAN_YES,
            "no": len(saw) - F.WAVE2_DISCUSSED_PLAN_YES,
        }
    )
    relationship = _spread(F.WAVE2_WORK_COACH_RELATIONSHIP)
    rng.shuffle(discussed)
    rng.shuffle(relationship)
    for row, talked, better in zip(saw, discussed, relationship, strict=True):
        row["discussed_plan"] = talked
        row["work_coach_relationship"] = better
    for row, comment in zip(rng.sample(rows, len(WAVE2_COMMENTS)), WAVE2_COMMENTS, strict=True):
        row["comments"] = comment
    ordered = [{c: row[c] for c in WAVE2_COLUMNS} for row in rows]
    return sorted(ordered, key=lambda r: (r["submitted_on"], r["participant_ref"]))


def _apportion(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), never above `caps`."""
    if total > sum(caps):
        raise DesignError("cannot apportion more than the capacity")
    wsum = sum(weights)
    exact = [total * w / wsum for w in weights]
    shares = [min(int(e), c) for e, c in zip(exact, caps, strict=True)]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (int(exact[i]) - exact[i], i))
    while left:
        for i in order:
            if left and shares[i] < caps[i]:
                shares[i] += 1
                left -= 1
    return shares


def _build_referrals(seed: int) -> list[dict[str, str]]:
    rng = _rng(seed, "referrals")
    capacity = [s.eligible_referrals - s.successfully_closed for s in F.SITES]
    columns: dict[str, list[int]] = {}
    for outcome in ("in_progress", "not_completed_unsuitable", "not_completed_claim_closed"):
        weights = [c * rng.uniform(0.8, 1.2) for c in capacity]
        columns[outcome] = _apportion(F.REFERRAL_OUTCOMES[outcome], weights, capacity)
        capacity = [c - s for c, s in zip(capacity, columns[outcome], strict=True)]
    columns["not_completed_disengaged"] = capacity  # what is left: exactly 270
    rows = []
    for i, site in enumerate(F.SITES):
        rows.append(
            {
                "site": site.name,
                "fte": site.fte,
                "note": site.note,
                "eligible_referrals": str(site.eligible_referrals),
                "successfully_closed": str(site.successfully_closed),
                **{outcome: str(columns[outcome][i]) for outcome in REFERRAL_COLUMNS[5:]},
            }
        )
    return rows


def _participant_row(member: _Member) -> dict[str, str]:
    return {
        "participant_ref": member.ref,
        "site": member.site,
        "completed_on": member.completed_on.isoformat(),
        "language": member.language,
        "email": "",  # historic clients were reached through their UC journal
        "phone": member.phone,
        "workability_end": str(member.workability_end),
        "confidence_end": _text(member.confidence_end),
        "importance_end": _text(member.importance_end),
    }


def _appointment_rows(member: _Member) -> list[dict[str, str]]:
    return [
        {
            "participant_ref": member.ref,
            "appointment_on": visit.on.isoformat(),
            "channel": visit.channel,
            "attendance": visit.attendance,
            "workability": _text(visit.workability),
        }
        for visit in member.visits
    ]


@lru_cache(maxsize=4)
def _demo(seed: int) -> _Demo:
    check_design()
    members = _build_cohort(seed)
    members.sort(key=lambda m: m.number)
    return _Demo(
        participants=tuple(_participant_row(m) for m in members),
        appointments=tuple(row for m in members for row in _appointment_rows(m)),
        wave1=tuple(_build_wave1(seed, members)),
        wave2=tuple(_build_wave2(seed, members)),
        referrals=tuple(_build_referrals(seed)),
    )


def _copy(rows: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    return [dict(row) for row in rows]


def participants_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """The 333 completers (participants.csv), one dict per row, ordered by reference."""
    return _copy(_demo(seed).participants)


def appointments_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """All 748 scheduled appointments of the completers (appointments.csv)."""
    return _copy(_demo(seed).appointments)


def wave1_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """The 82 wave-one responses (responses CSV for wave1)."""
    return _copy(_demo(seed).wave1)


def wave2_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """The 34 wave-two responses, 28 linked to the cohort and 6 not (responses CSV)."""
    return _copy(_demo(seed).wave2)


def referral_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Management information per site: table 3.1 and the referral outcomes."""
    return _copy(_demo(seed).referrals)


# ---------------------------------------------------------------------------------------
# The live demo study: a few current clients with surveys due on the day it is loaded.
# ---------------------------------------------------------------------------------------


class LiveRows(NamedTuple):
    participants: list[dict[str, str]]
    appointments: list[dict[str, str]]
    wave1: list[dict[str, str]]


class _LiveClient(NamedTuple):
    number: int
    site: str
    language: str
    email: str
    phone: str
    days_ago: int  # completed this many days before today
    visits: tuple[tuple[int, str, str, int | None], ...]  # (days before completion, ...)
    end: tuple[int, int, int]


_LIVE_CLIENTS = (
    _LiveClient(
        1,
        "Bradford",
        "en",
        "live-001@example.org",
        "",
        0,
        ((14, "telephone", "attended", 4), (0, "telephone", "attended", 5)),
        (5, 6, 8),
    ),
    _LiveClient(
        2,
        "Aberdare HMO",
        "cy",
        "live-002@example.org",
        "07700 900901",
        0,
        ((0, "face_to_face_site", "attended", 6),),
        (6, 5, 9),
    ),
    _LiveClient(
        3,
        "Hull",
        "en",
        "",
        "07700 900902",
        0,
        (
            (23, "telephone", "attended", 3),
            (16, "telephone", "unable_to_attend", None),
            (9, "video", "attended", 3),
            (0, "video", "attended", 4),
        ),
        (4, 4, 7),
    ),
    _LiveClient(
        4,
        "Newcastle",
        "en",
        "live-004@example.com",
        "",
        F.WAVE2_DAYS_AFTER,
        ((7, "telephone", "attended", 5), (0, "telephone", "attended", 7)),
        (7, 7, 9),
    ),
    _LiveClient(
        5,
        "York",
        "en",
        "",
        "07700 900905",
        F.WAVE2_DAYS_AFTER,
        ((0, "telephone", "attended", 3),),
        (3, 3, 6),
    ),
    _LiveClient(
        6,
        "Norwich",
        "en",
        "live-006@example.org",
        "07700 900906",
        F.WAVE2_DAYS_AFTER,
        (
            (21, "telephone", "failed_to_attend", None),
            (14, "face_to_face_neutral", "attended", 5),
            (0, "telephone", "attended", 6),
        ),
        (6, 5, 8),
    ),
)
_LIVE_WAVE1 = {  # wave one already answered by the clients whose wave two is due today
    4: (
        1,
        "web",
        {
            "satisfaction": "extremely_satisfied",
            "channel_appropriate": "strongly_agree",
            "number_appropriate": "agree",
            "length_appropriate": "agree",
            "honest_open": "strongly_agree",
            "trusted_ehp": "strongly_agree",
            "understood_circumstances": "agree",
            "open_up_vs_work_coach": "more_able",
            "identified_obstacles": "agree",
            "identified_solutions": "agree",
            "read_plan": "yes",
            "plan_tailored": "agree",
            "plan_accurate": "agree",
            "plan_actionable": "agree",
            "plan_will_act": "strongly_agree",
            "right_work_health": "agree",
            "outlook_change": "improved",
            "confidence_change": "improved",
            "importance_change": "no_difference",
            "support_change": "improved",
        },
    ),
    5: (
        3,
        "telephone",
        {
            "satisfaction": "satisfied",
            "channel_appropriate": "agree",
            "number_appropriate": "neither",
            "length_appropriate": "agree",
            "honest_open": "agree",
            "trusted_ehp": "agree",
            "understood_circumstances": "agree",
            "open_up_vs_work_coach": "no_difference",
            "identified_obstacles": "neither",
            "identified_solutions": "agree",
            "read_plan": "no",
            "right_work_health": "neither",
            "outlook_change": "no_difference",
            "confidence_change": "no_difference",
            "importance_change": "no_difference",
            "support_change": "improved",
        },
    ),
    6: (
        0,
        "web",
        {
            "satisfaction": "satisfied",
            "channel_appropriate": "agree",
            "number_appropriate": "agree",
            "length_appropriate": "strongly_agree",
            "honest_open": "strongly_agree",
            "trusted_ehp": "agree",
            "understood_circumstances": "strongly_agree",
            "open_up_vs_work_coach": "more_able",
            "identified_obstacles": "agree",
            "identified_solutions": "neither",
            "read_plan": "yes",
            "plan_tailored": "strongly_agree",
            "plan_accurate": "agree",
            "plan_actionable": "neither",
            "plan_will_act": "agree",
            "right_work_health": "strongly_agree",
            "outlook_change": "improved",
            "confidence_change": "no_difference",
            "importance_change": "improved",
            "support_change": "improved",
            "comments": "Helpful to meet somewhere other than the jobcentre.",
        },
    ),
}


def current_rows(today: date) -> LiveRows:
    """Live clients for a second study: wave one due today for three, wave two for three."""
    participants, appointments, wave1 = [], [], []
    for client in _LIVE_CLIENTS:
        ref = f"{LIVE_REF_PREFIX}{client.number:03d}"
        completed = today - timedelta(client.days_ago)
        participants.append(
            {
                "participant_ref": ref,
                "site": client.site,
                "completed_on": completed.isoformat(),
                "language": client.language,
                "email": client.email,
                "phone": client.phone,
                "workability_end": str(client.end[0]),
                "confidence_end": str(client.end[1]),
                "importance_end": str(client.end[2]),
            }
        )
        for before, channel, attendance, workability in client.visits:
            appointments.append(
                {
                    "participant_ref": ref,
                    "appointment_on": (completed - timedelta(before)).isoformat(),
                    "channel": channel,
                    "attendance": attendance,
                    "workability": _text(workability),
                }
            )
        if client.number in _LIVE_WAVE1:
            after, mode, answers = _LIVE_WAVE1[client.number]
            row = {
                "participant_ref": ref,
                "submitted_on": (completed + timedelta(after)).isoformat(),
                "mode": mode,
            }
            row.update({q: answers.get(q, "") for q in WAVE1_QUESTIONS})
            wave1.append(row)
    return LiveRows(participants, appointments, wave1)


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_csvs(folder: Path, today: date, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the demo as CSV files (UTF-8, header row) into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    live = current_rows(today)
    files = (
        ("participants.csv", PARTICIPANT_COLUMNS, participants_rows(seed)),
        ("appointments.csv", APPOINTMENT_COLUMNS, appointments_rows(seed)),
        ("responses_wave1.csv", WAVE1_COLUMNS, wave1_rows(seed)),
        ("responses_wave2.csv", WAVE2_COLUMNS, wave2_rows(seed)),
        ("referrals.csv", REFERRAL_COLUMNS, referral_rows(seed)),
        ("live_participants.csv", PARTICIPANT_COLUMNS, live.participants),
        ("live_appointments.csv", APPOINTMENT_COLUMNS, live.appointments),
        ("live_responses_wave1.csv", WAVE1_COLUMNS, live.wave1),
    )
    return [_write(folder / name, columns, rows) for name, columns, rows in files]


if __name__ == "__main__":  # python -m surveys.demo.generator OUT_FOLDER
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-csv")
    for written in write_csvs(out, date.today()):
        print(written)
