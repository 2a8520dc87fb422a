"""The synthetic demo cohort gives back every published figure, counted from its rows.

The expected numbers are written out here from published-figures.md on purpose, rather
than read from surveys.demo.figures, so a slip in either place shows up.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from surveys.demo import generator

SEEDS = (generator.DEFAULT_SEED, 1, 2025)
WINDOW_START = date(2024, 7, 8)
WINDOW_END = date(2024, 11, 5)
REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

TABLE_3_1 = {  # site: (fte, eligible referrals, successfully closed)
    "Aberdare HMO": ("1.6", 86, 26),
    "Bradford": ("1", 112, 38),
    "Chelmsford": ("0.7", 39, 9),
    "Doncaster": ("1", 96, 27),
    "Durham": ("2", 96, 24),
    "Hull": ("2.2", 182, 51),
    "Lancaster": ("1.4", 79, 22),
    "Leeds HMO": ("0", 73, 18),
    "Newcastle": ("1", 115, 36),
    "Norwich": ("1", 71, 26),
    "Sunderland HMO": ("1.6", 68, 11),
    "Wigan HMO": ("1.8", 126, 34),
    "York": ("0.6", 76, 11),
}


def pct(count: int, base: int) -> int:
    """Half-up whole percentage, computed independently of the generator."""
    exact = Decimal(100 * count) / Decimal(base)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def iso(value: str) -> date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
    return date.fromisoformat(value)


def score(value: str) -> int:
    assert re.fullmatch(r"\d{1,2}", value), value
    number = int(value)
    assert 0 <= number <= 10
    return number


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def demo(request):
    seed = request.param
    return {
        "seed": seed,
        "participants": generator.participants_rows(seed),
        "appointments": generator.appointments_rows(seed),
        "wave1": generator.wave1_rows(seed),
        "wave2": generator.wave2_rows(seed),
        "referrals": generator.referral_rows(seed),
    }


@pytest.fixture(scope="module")
def people(demo):
    return {row["participant_ref"]: row for row in demo["participants"]}


@pytest.fixture(scope="module")
def visits(demo):
    by_ref = defaultdict(list)
    for row in demo["appointments"]:
        by_ref[row["participant_ref"]].append(row)
    for rows in by_ref.values():
        rows.sort(key=lambda r: r["appointment_on"])
    return by_ref


# --- participants -----------------------------------------------------------------------


def test_completions_per_site_match_table_3_1(demo):
    counts = Counter(row["site"] for row in demo["participants"])
    assert counts == {site: closed for site, (_, _, closed) in TABLE_3_1.items()}
    assert len(demo["participants"]) == 333


def test_participant_rows_follow_the_contract(demo, people):
    rows = demo["participants"]
    assert len(people) == len(rows)  # refs unique
    for row in rows:
        assert list(row) == [
            "participant_ref",
            "site",
            "completed_on",
            "language",
            "email",
            "phone",
            "workability_end",
            "confidence_end",
            "importance_end",
        ]
        assert all(isinstance(v, str) for v in row.values())
        assert REF.match(row["participant_ref"])
        assert re.fullmatch(r"EHD-\d{4}", row["participant_ref"])
        assert WINDOW_START <= iso(row["completed_on"]) <= WINDOW_END
        assert row["email"] == ""
        assert row["phone"] == "" or re.fullmatch(r"07700 900\d{3}", row["phone"])
        assert row["language"] in ("en", "cy")
        if row["language"] == "cy":
            assert row["site"] == "Aberdare HMO"
        score(row["workability_end"])
        for column in ("confidence_end", "importance_end"):
            if row[column]:
                score(row[column])
    welsh = sum(row["language"] == "cy" for row in rows)
    assert 1 <= welsh <= 10
    phones = [row["phone"] for row in rows if row["phone"]]
    assert len(phones) == len(set(phones))


def test_completion_dates_spread_over_the_window(demo):
    months = Counter(iso(row["completed_on"]).month for row in demo["participants"])
    assert set(months) == {7, 8, 9, 10, 11}
    assert all(months[m] >= 30 for m in (7, 8, 9, 10))


def test_end_score_distributions_are_plausible(demo):
    rows = demo["participants"]

    def mean(column):
        values = [int(row[column]) for row in rows if row[column]]
        return sum(values) / len(values)

    assert 4 <= mean("workability_end") <= 6
    assert 4 <= mean("confidence_end") <= 6.5
    assert mean("importance_end") > mean("confidence_end") + 1
    confidence = [int(r["confidence_end"]) for r in rows if r["confidence_end"]]
    assert sum(3 <= c <= 8 for c in confidence) / len(confidence) > 0.8


# --- appointments -----------------------------------------------------------------------


def test_appointments_attended_per_completer(people, visits):
    assert set(visits) == set(people)
    attended = Counter(sum(v["attendance"] == "attended" for v in rows) for rows in visits.values())
    assert attended == {1: 132, 2: 93, 3: 100, 4: 8}


def test_attendance_over_scheduled_appointments(demo):
    rows = demo["appointments"]
    assert len(rows) == 748
    counts = Counter(row["attendance"] for row in rows)
    assert set(counts) == {"attended", "unable_to_attend", "failed_to_attend"}
    assert pct(counts["attended"], 748) == 87
    assert pct(counts["unable_to_attend"], 748) == 8
    assert pct(counts["failed_to_attend"], 748) == 5


def test_channel_of_scheduled_appointments(demo):
    rows = demo["appointments"]
    counts = Counter(row["channel"] for row in rows)
    assert sum(counts.values()) == 748
    assert {c: pct(n, 748) for c, n in counts.items()} == {
        "telephone": 83,
        "face_to_face_site": 10,
        "face_to_face_neutral": 3,
        "video": 5,
    }


def test_chelmsford_had_no_face_to_face(people, visits):
    for ref, rows in visits.items():
        if people[ref]["site"] == "Chelmsford":
            assert all(not v["channel"].startswith("face_to_face") for v in rows)


def test_appointment_dates_and_workability(people, visits):
    for ref, rows in visits.items():
        person = people[ref]
        dates = [iso(v["appointment_on"]) for v in rows]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert all(b - a >= timedelta(2) for a, b in zip(dates, dates[1:], strict=False))
        assert dates[0] >= WINDOW_START - timedelta(21)
        assert all(d.weekday() < 5 for d in dates)
        last = rows[-1]
        assert last["attendance"] == "attended"
        assert last["appointment_on"] == person["completed_on"]
        assert last["workability"] == person["workability_end"]
        for v in rows:
            if v["attendance"] == "attended":
                score(v["workability"])
            else:
                assert v["workability"] == ""


def test_table_3_3_workability_change(visits):
    changes = Counter()
    for rows in visits.values():
        scores = [int(v["workability"]) for v in rows if v["attendance"] == "attended"]
        if len(scores) < 2:
            continue
        first, last = scores[0], scores[-1]
        changes["improved" if last > first else "deteriorated" if last < first else "same"] += 1
    base = sum(changes.values())
    assert base == 201
    assert {k: pct(n, base) for k, n in changes.items()} == {
        "improved": 60,
        "same": 33,
        "deteriorated": 7,
    }


# --- wave 1 -----------------------------------------------------------------------------


AGREE = ("strongly_agree", "agree")


def agree(rows, item):
    return sum(row[item] in AGREE for row in rows)


def test_wave1_rows_link_to_completers(demo, people):
    rows = demo["wave1"]
    assert len(rows) == 82
    refs = [row["participant_ref"] for row in rows]
    assert len(set(refs)) == 82 and set(refs) <= set(people)
    for row in rows:
        days = iso(row["submitted_on"]) - iso(people[row["participant_ref"]]["completed_on"])
        assert 0 <= days.days <= 14
        assert row["mode"] in ("web", "telephone")
    assert Counter(row["mode"] for row in rows)["web"] > 70


def test_wave1_answers_use_the_instrument_values(demo):
    allowed = {
        "satisfaction": {
            "extremely_satisfied",
            "satisfied",
            "neither",
            "dissatisfied",
            "extremely_dissatisfied",
        },
        "open_up_vs_work_coach": {"more_able", "no_difference", "less_able"},
        "read_plan": {"yes", "no"},
    }
    agreement = {"strongly_agree", "agree", "neither", "disagree", "strongly_disagree"}
    change = {"improved", "no_difference", "deteriorated"}
    for item in (
        "channel_appropriate",
        "number_appropriate",
        "length_appropriate",
        "honest_open",
        "trusted_ehp",
        "understood_circumstances",
        "identified_obstacles",
        "identified_solutions",
        "right_work_health",
    ):
        allowed[item] = agreement
    for item in ("outlook_change", "confidence_change", "importance_change", "support_change"):
        allowed[item] = change
    for row in demo["wave1"]:
        for item, values in allowed.items():
            assert row[item] in values, (item, row[item])
        for item in ("plan_tailored", "plan_accurate", "plan_actionable", "plan_will_act"):
            if row["read_plan"] == "yes":
                assert row[item] in agreement
            else:
                assert row[item] == ""
    comments = [row["comments"] for row in demo["wave1"] if row["comments"]]
    assert 1 <= len(comments) <= 10


def test_wave1_published_figures(demo):
    rows = demo["wave1"]
    assert agree(rows, "honest_open") == 79 and pct(79, 82) == 96
    assert agree(rows, "trusted_ehp") == 73 and pct(73, 82) == 89
    assert agree(rows, "understood_circumstances") == 76 and pct(76, 82) == 93
    satisfied = sum(r["satisfaction"] in ("extremely_satisfied", "satisfied") for r in rows)
    assert pct(satisfied, 82) == 95
    assert pct(agree(rows, "channel_appropriate"), 82) == 91
    assert pct(agree(rows, "number_appropriate"), 82) == 79
    assert pct(agree(rows, "length_appropriate"), 82) == 88
    open_up = Counter(r["open_up_vs_work_coach"] for r in rows)
    assert pct(open_up["more_able"], 82) == 59 and open_up["less_able"] == 0
    assert pct(agree(rows, "identified_obstacles"), 82) == 88
    assert pct(agree(rows, "identified_solutions"), 82) == 89
    read = Counter(r["read_plan"] for r in rows)
    assert read == {"yes": 73, "no": 9}
    assert (pct(read["yes"], 82), pct(read["no"], 82)) == (89, 11)


def test_wave1_plan_views_of_those_who_read_it(demo):
    readers = [r for r in demo["wave1"] if r["read_plan"] == "yes"]
    assert len(readers) == 73
    expected = {
        "plan_tailored": (63, 86),
        "plan_accurate": (61, 84),
        "plan_actionable": (55, 75),
        "plan_will_act": (59, 81),
    }
    for item, (count, percent) in expected.items():
        assert agree(readers, item) == count
        assert pct(count, 73) == percent


def test_wave1_outlook_on_work(demo):
    rows = demo["wave1"]
    right = Counter(r["right_work_health"] for r in rows)
    assert right["strongly_agree"] + right["agree"] == 56
    assert right["neither"] == 18
    assert right["disagree"] + right["strongly_disagree"] == 8
    assert pct(56, 82) == 68
    expected = {
        "outlook_change": (39, 41, 2),
        "confidence_change": (33, 47, 2),
        "importance_change": (29, 51, 2),
        "support_change": (47, 34, 1),
    }
    for item, (improved, same, worse) in expected.items():
        counts = Counter(r[item] for r in rows)
        assert counts == {"improved": improved, "no_difference": same, "deteriorated": worse}
    assert [pct(n, 82) for n in (39, 47, 33, 29)] == [48, 57, 40, 35]


# --- wave 2 -----------------------------------------------------------------------------


def test_wave2_linking_and_follow_up_scores(demo, people):
    rows = demo["wave2"]
    assert len(rows) == 34
    linked = [r for r in rows if r["participant_ref"] in people]
    unlinked = [r for r in rows if r["participant_ref"] not in people]
    assert len(linked) == 28 and len(unlinked) == 6
    assert len({r["participant_ref"] for r in linked}) == 28
    normalised = {ref.upper() for ref in people}
    for row in unlinked:
        ref = row["participant_ref"].upper().replace(" ", "-").replace("O", "0")
        assert ref not in normalised  # no plausible clean-up would link them either
    higher = Counter()
    for row in rows:
        assert row["mode"] in ("web", "telephone")
        for measure in ("workability", "confidence", "importance"):
            score(row[measure])
    for row in linked:
        person = people[row["participant_ref"]]
        completed = iso(person["completed_on"])
        assert completed + timedelta(42) <= WINDOW_END + timedelta(28)
        assert 42 <= (iso(row["submitted_on"]) - completed).days <= 56
        for measure in ("workability", "confidence", "importance"):
            end = person[f"{measure}_end"]
            assert end != ""
            higher[measure] += int(row[measure]) > score(end)
    assert higher == {"workability": 5, "confidence": 3, "importance": 3}
    for row in unlinked:
        iso(row["submitted_on"])


def test_wave2_steps(demo):
    rows = demo["wave2"]
    taken = Counter(r["steps_taken"] for r in rows)
    assert taken == {"all": 10, "some": 12, "none": 12}
    helped = {
        group: Counter(r["steps_helped"] for r in rows if r["steps_taken"] == group)
        for group in ("all", "some", "none")
    }
    assert helped["all"] == {"yes": 5, "unsure": 5}
    assert helped["some"] == {"yes": 3, "unsure": 5, "no": 4}
    assert helped["none"] == {"": 12}
    partial = [r for r in rows if r["steps_taken"] in ("some", "none")]
    assert len(partial) == 24
    assert Counter(r["more_steps_planned"] for r in partial) == {"all": 3, "some": 14, "none": 7}
    for row in rows:
        if row["steps_taken"] == "all":
            assert row["more_steps_planned"] == row["steps_reasons"] == ""
        reasons = row["steps_reasons"].split(";") if row["steps_reasons"] else []
        assert set(reasons) <= {"health", "other_issues", "no_places", "other"}
        assert len(reasons) == len(set(reasons))
        assert bool(row["steps_reasons_other"]) == ("other" in reasons)
    mentioned = Counter(
        reason for r in partial for reason in r["steps_reasons"].split(";") if reason
    )
    assert mentioned.most_common(1)[0][0] == "health"
    assert {"other_issues", "no_places"} <= set(mentioned)


def test_wave2_work_coach(demo):
    rows = demo["wave2"]
    assert Counter(r["seen_work_coach"] for r in rows) == {"yes": 20, "no": 14}
    saw = [r for r in rows if r["seen_work_coach"] == "yes"]
    assert sum(r["discussed_plan"] == "yes" for r in saw) == 12
    assert {r["discussed_plan"] for r in saw} == {"yes", "no"}
    assert Counter(r["work_coach_relationship"] for r in saw) == {
        "improved": 13,
        "no_difference": 7,
    }
    for row in rows:
        if row["seen_work_coach"] == "no":
            assert row["discussed_plan"] == row["work_coach_relationship"] == ""


# --- referrals --------------------------------------------------------------------------


OUTCOMES = (
    "successfully_closed",
    "in_progress",
    "not_completed_unsuitable",
    "not_completed_disengaged",
    "not_completed_claim_closed",
)


def test_referral_outcomes(demo, people):
    rows = demo["referrals"]
    assert [r["site"] for r in rows] == list(TABLE_3_1)
    completed_here = Counter(p["site"] for p in people.values())
    for row in rows:
        fte, eligible, closed = TABLE_3_1[row["site"]]
        assert row["fte"] == fte
        assert row["note"] == ("virtual cover" if row["site"] == "Leeds HMO" else "")
        assert int(row["eligible_referrals"]) == eligible
        assert int(row["successfully_closed"]) == closed == completed_here[row["site"]]
        assert sum(int(row[c]) for c in OUTCOMES) == eligible
        assert all(int(row[c]) >= 0 for c in OUTCOMES)
    totals = {c: sum(int(r[c]) for r in rows) for c in ("eligible_referrals", *OUTCOMES)}
    assert totals == {
        "eligible_referrals": 1219,
        "successfully_closed": 333,
        "in_progress": 409,
        "not_completed_unsuitable": 199,
        "not_completed_disengaged": 270,
        "not_completed_claim_closed": 8,
    }
    not_completed = 199 + 270 + 8
    assert not_completed == 477
    assert [pct(n, 1219) for n in (333, 409, 477)] == [27, 34, 39]
    assert f"{sum(Decimal(r['fte']) for r in rows)}" == "15.9"


# --- determinism and files ----------------------------------------------------------------


def test_rows_are_deterministic_and_fresh():
    first = generator.participants_rows()
    first[0]["site"] = "changed"
    assert generator.participants_rows() != first
    for function in (
        generator.participants_rows,
        generator.appointments_rows,
        generator.wave1_rows,
        generator.wave2_rows,
        generator.referral_rows,
    ):
        assert function() == function()
    assert generator.current_rows(date(2025, 3, 3)) == generator.current_rows(date(2025, 3, 3))


def test_seeds_give_different_cohorts():
    assert generator.participants_rows(1) != generator.participants_rows(2)


@pytest.mark.parametrize("today", [date(2025, 3, 3), date(2026, 1, 10)])
def test_live_study_has_surveys_due_today(today):
    live = generator.current_rows(today)
    refs = [p["participant_ref"] for p in live.participants]
    assert len(refs) == len(set(refs)) == 6
    assert all(re.fullmatch(r"LIVE-\d{3}", ref) and REF.match(ref) for ref in refs)
    completed = Counter(iso(p["completed_on"]) for p in live.participants)
    assert completed == {today: 3, today - timedelta(42): 3}
    emails = [p["email"] for p in live.participants if p["email"]]
    assert 0 < len(emails) < 6
    assert all(re.fullmatch(r"[a-z0-9.-]+@example\.(org|com)", e) for e in emails)
    assert sum(p["language"] == "cy" for p in live.participants) == 1
    by_ref = {p["participant_ref"]: p for p in live.participants}
    for p in live.participants:
        for column in ("workability_end", "confidence_end", "importance_end"):
            score(p[column])
    for ref, person in by_ref.items():
        rows = sorted(
            (a for a in live.appointments if a["participant_ref"] == ref),
            key=lambda a: a["appointment_on"],
        )
        assert rows and rows[-1]["attendance"] == "attended"
        assert rows[-1]["appointment_on"] == person["completed_on"]
        assert rows[-1]["workability"] == person["workability_end"]
    answered = {r["participant_ref"] for r in live.wave1}
    assert answered == {
        p["participant_ref"] for p in live.participants if iso(p["completed_on"]) < today
    }
    for row in live.wave1:
        completed_on = iso(by_ref[row["participant_ref"]]["completed_on"])
        assert completed_on <= iso(row["submitted_on"]) <= completed_on + timedelta(14)
        assert row["satisfaction"] and row["read_plan"] in ("yes", "no")


def test_write_csvs(tmp_path):
    today = date(2025, 3, 3)
    written = generator.write_csvs(tmp_path / "demo", today)
    names = {path.name for path in written}
    assert names == {
        "participants.csv",
        "appointments.csv",
        "responses_wave1.csv",
        "responses_wave2.csv",
        "referrals.csv",
        "live_participants.csv",
        "live_appointments.csv",
        "live_responses_wave1.csv",
    }
    expected = {
        "participants.csv": generator.participants_rows(),
        "appointments.csv": generator.appointments_rows(),
        "responses_wave1.csv": generator.wave1_rows(),
        "responses_wave2.csv": generator.wave2_rows(),
        "referrals.csv": generator.referral_rows(),
        "live_participants.csv": generator.current_rows(today).participants,
    }
    for name, rows in expected.items():
        with (tmp_path / "demo" / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == list(rows[0])
            assert list(reader) == rows
    header = (tmp_path / "demo" / "responses_wave1.csv").read_text("utf-8").splitlines()[0]
    assert header.startswith("participant_ref,submitted_on,mode,")
