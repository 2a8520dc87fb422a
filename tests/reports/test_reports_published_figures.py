"""Every published number of the evaluation, recomputed by the service from the demo data.

Source of the figures: ../shared/published-figures.md (DWP ad hoc research report 113).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from analysis import change_first_to_last
from surveys.models import Appointment, Participant
from surveys.reports.evaluation import evaluation_report
from tests.reports.conftest import cell, demo_study, find_table, section

SITES = {
    "Aberdare HMO": ("1.6", 86, 26), "Bradford": ("1", 112, 38), "Chelmsford": ("0.7", 39, 9),
    "Doncaster": ("1", 96, 27), "Durham": ("2", 96, 24), "Hull": ("2.2", 182, 51),
    "Lancaster": ("1.4", 79, 22), "Leeds HMO": ("0", 73, 18), "Newcastle": ("1", 115, 36),
    "Norwich": ("1", 71, 26), "Sunderland HMO": ("1.6", 68, 11), "Wigan HMO": ("1.8", 126, 34),
    "York": ("0.6", 76, 11),
}


@pytest.fixture(scope="module")
def report(demo_sessions):
    with demo_sessions() as session:
        return evaluation_report(session, demo_study(session))


def test_referrals_and_completions_per_site(report):
    for site, (fte, eligible, closed) in SITES.items():
        assert cell(report, "referrals-by-site", site, "fte") == float(fte)  # a number
        assert cell(report, "referrals-by-site", site, "eligible_referrals") == eligible
        assert cell(report, "referrals-by-site", site, "successfully_closed") == closed
        assert cell(report, "referrals-by-site", site, "completers_loaded") == closed
    assert cell(report, "referrals-by-site", "Leeds HMO", "note") == "virtual cover"
    assert cell(report, "referrals-by-site", "total", "fte") == 15.9
    assert cell(report, "referrals-by-site", "total", "eligible_referrals") == 1219
    assert cell(report, "referrals-by-site", "total", "successfully_closed") == 333


def test_referral_outcomes(report):
    expected = {"successfully_closed": (333, 27), "in_progress": (409, 34),
                "not_completed": (477, 39), "not_completed_unsuitable": (199, 16),
                "not_completed_disengaged": (270, 22), "not_completed_claim_closed": (8, 1),
                "total": (1219, 100)}
    for row, (count, percent) in expected.items():
        assert cell(report, "referral-outcomes", row) == count, row
        assert cell(report, "referral-outcomes", row, "percent") == percent, row


def test_appointments_attendance_and_channel(report):
    for k, n in {"1": 132, "2": 93, "3": 100, "4": 8, "total": 333}.items():
        assert cell(report, "appointments-per-completer", k) == n
    assert cell(report, "attendance", "total") == 748
    for key, pct in {"attended": 87, "unable_to_attend": 8, "failed_to_attend": 5}.items():
        assert cell(report, "attendance", key, "percent") == pct
    assert cell(report, "channel", "total") == 748
    for key, pct in {"telephone": 83, "face_to_face_site": 10, "face_to_face_neutral": 3,
                     "video": 5}.items():
        assert cell(report, "channel", key, "percent") == pct
    assert find_table(report, "attendance")["base"] == 748


def test_work_ability_first_to_last_appointment(report, demo_session):
    table = "workability-first-to-last"
    assert cell(report, table, "total") == 201
    assert [cell(report, table, k, "percent") for k in ("improved", "same", "deteriorated")] \
        == [60, 33, 7]
    assert cell(report, table, "single") == 132
    # The SQL window-function count agrees with the pure function on the same rows.
    study = demo_study(demo_session)
    series: dict[int, list] = {}
    for pid, score in demo_session.execute(
        select(Appointment.participant_id, Appointment.workability)
        .join(Participant).where(Participant.study_id == study.id)
        .order_by(Appointment.participant_id, Appointment.appointment_on, Appointment.id)
    ):
        series.setdefault(pid, []).append(score)
    pure = change_first_to_last(series)
    assert (pure.base, pure.improved, pure.same, pure.deteriorated, pure.single_score) == (
        cell(report, table, "total"), cell(report, table, "improved"),
        cell(report, table, "same"), cell(report, table, "deteriorated"),
        cell(report, table, "single"))


def test_wave_one_item_tables(report):
    agree = "net_strongly_agree_agree"
    for item, (count, pct) in {"honest_open": (79, 96), "trusted_ehp": (73, 89),
                               "understood_circumstances": (76, 93)}.items():
        assert cell(report, "wave1-about_the_ehp", item, f"{agree}:count") == count
        assert cell(report, "wave1-about_the_ehp", item, f"{agree}:percent") == pct
        assert cell(report, "wave1-about_the_ehp", item, "base") == 82
    for item, (count, pct) in {"plan_tailored": (63, 86), "plan_accurate": (61, 84),
                               "plan_actionable": (55, 75), "plan_will_act": (59, 81)}.items():
        assert cell(report, "wave1-your_plan", item, f"{agree}:count") == count
        assert cell(report, "wave1-your_plan", item, f"{agree}:percent") == pct
        assert cell(report, "wave1-your_plan", item, "base") == 73
    assert cell(report, "wave1-right_work_health", agree) == 56
    assert cell(report, "wave1-right_work_health", "neither") == 18
    assert cell(report, "wave1-right_work_health", "net_disagree_strongly_disagree") == 8
    assert cell(report, "wave1-right_work_health", "total") == 82
    changes = {"outlook_change": (39, 41, 2), "confidence_change": (33, 47, 2),
               "importance_change": (29, 51, 2), "support_change": (47, 34, 1)}
    for item, counts in changes.items():
        got = tuple(cell(report, "wave1-since_the_discussion", item, f"{c}:count")
                    for c in ("improved", "no_difference", "deteriorated"))
        assert got == counts, item
    assert cell(report, "wave1-satisfaction", "net_extremely_satisfied_satisfied",
                "percent") == 95
    for item, pct in {"channel_appropriate": 91, "number_appropriate": 79,
                      "length_appropriate": 88}.items():
        assert cell(report, "wave1-appointments", item, f"{agree}:percent") == pct
    assert cell(report, "wave1-open_up_vs_work_coach", "more_able", "percent") == 59
    assert cell(report, "wave1-obstacles_and_solutions", "identified_obstacles",
                f"{agree}:percent") == 88
    assert cell(report, "wave1-obstacles_and_solutions", "identified_solutions",
                f"{agree}:percent") == 89
    assert cell(report, "wave1-read_plan", "yes", "percent") == 89
    assert cell(report, "wave1-read_plan", "no", "percent") == 11
    assert cell(report, "wave1-read_plan", "total") == 82


def test_six_week_tables(report):
    assert [cell(report, "wave2-steps_taken", k) for k in ("all", "some", "none", "total")] \
        == [10, 12, 12, 34]
    routed = "wave2-steps_helped-by-steps_taken"
    assert [cell(report, routed, k, "all:count") for k in ("yes", "unsure", "no", "total")] \
        == [5, 5, 0, 10]
    assert [cell(report, routed, k, "some:count") for k in ("yes", "unsure", "no", "total")] \
        == [3, 5, 4, 12]
    assert [cell(report, "wave2-more_steps_planned", k) for k in ("all", "some", "none",
                                                                  "total")] == [3, 14, 7, 24]
    assert cell(report, "wave2-steps_reasons", "total") == 24
    assert cell(report, "wave2-steps_reasons", "health") >= 1
    assert cell(report, "wave2-seen_work_coach", "yes") == 20
    assert cell(report, "wave2-seen_work_coach", "total") == 34
    assert cell(report, "wave2-discussed_plan", "yes") == 12
    assert cell(report, "wave2-discussed_plan", "total") == 20
    assert cell(report, "wave2-work_coach_relationship", "improved") == 13
    assert cell(report, "wave2-work_coach_relationship", "no_difference") == 7


def test_paired_changes(report):
    assert {m: cell(report, "paired-change", m, "n") for m in
            ("workability", "confidence", "importance")} == dict.fromkeys(
        ("workability", "confidence", "importance"), 28)
    assert [cell(report, "paired-change", m, "improved") for m in
            ("workability", "confidence", "importance")] == [5, 3, 3]
    assert (report["paired"]["responses"], report["paired"]["linked"]) == (34, 28)
    assert cell(report, "linkage", "total", "wave2:count") == 34
    assert cell(report, "linkage", "linked", "wave2:count") == 28


def test_every_table_states_its_base(report):
    for sec in report["sections"]:
        for table in sec["tables"]:
            assert table["base_text"].startswith("Base"), table["id"]


def test_a_new_question_needs_no_code(report):
    # Every tabulated question of both instruments has a table (or a grid row).
    from instruments import load_instrument

    ids = {t["id"] for s in report["sections"] for t in s["tables"]}
    rows = {(t["id"], r["key"]) for s in report["sections"] for t in s["tables"]
            for r in t["rows"]}
    for wave in ("wave1", "wave2"):
        for question in load_instrument(wave).questions():
            if question.type == "free_text":
                continue
            page = load_instrument(wave).page_of(question.id).id
            assert f"{wave}-{question.id}" in ids or (f"{wave}-{page}", question.id) in rows


def test_who_is_missing(report):
    rates = "response-rates"
    assert [cell(report, rates, k, "wave1:count") for k in
            ("issued_total", "completed", "closed")] == [333, 82, 251]
    assert [cell(report, rates, k, "wave2:count") for k in
            ("issued_total", "completed", "closed", "out_of_window")] == [307, 28, 279, 26]
    assert cell(report, rates, "completed", "wave1:percent") == 25
    assert cell(report, "linkage", "blank", "wave2:count") == 1
    assert cell(report, "linkage", "not_in_cohort", "wave2:count") == 5
    assert cell(report, "linkage", "unlinked", "wave2:count") == 6
    attrition = find_table(report, "attrition-wave2")
    workability = next(r for r in attrition["rows"] if r["key"] == "workability")["cells"]
    assert workability["responders"] == 28
    assert workability["responders"] + workability["non_responders"] == 307
    assert section(report, "wave2")["caveats"][0].startswith("28 of the 307 clients")
