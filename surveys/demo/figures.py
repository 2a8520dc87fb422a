"""Published figures the synthetic demo cohort reproduces.

Source: DWP ad hoc research report no. 113, "Evaluation of the Employment and Health
Discussion Proof of Concept" (May 2025, Open Government Licence), as summarised in
published-figures.md. Every number the demo generator has to give back lives here and
nowhere else; the generator builds its rows to meet these constants.

Percentages are whole numbers, rounded half-up as the report rounds them.

The HWS_* constants are the Health and Work Support pilot's (study `hws-pilot`,
surveys/demo/hws.py): its report publishes shares only, so its counts are assumed
(350 enrolled, 224 completers, 89 survey respondents) and chosen to round to them.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

EVALUATION_START = date(2024, 7, 8)
EVALUATION_END = date(2024, 11, 5)

# Wave two is issued six weeks after completion; it was still being collected for four
# weeks after the evaluation window closed.
WAVE2_DAYS_AFTER = 42
WAVE2_COLLECTION_GRACE_DAYS = 28


class Site(NamedTuple):
    name: str
    fte: str  # as published, text so that "0" and "0.7" read back unchanged
    note: str
    eligible_referrals: int
    successfully_closed: int


# Table 3.1: referral volumes and closed cases per Jobcentre.
SITES: tuple[Site, ...] = (
    Site("Aberdare HMO", "1.6", "", 86, 26),
    Site("Bradford", "1", "", 112, 38),
    Site("Chelmsford", "0.7", "", 39, 9),
    Site("Doncaster", "1", "", 96, 27),
    Site("Durham", "2", "", 96, 24),
    Site("Hull", "2.2", "", 182, 51),
    Site("Lancaster", "1.4", "", 79, 22),
    Site("Leeds HMO", "0", "virtual cover", 73, 18),
    Site("Newcastle", "1", "", 115, 36),
    Site("Norwich", "1", "", 71, 26),
    Site("Sunderland HMO", "1.6", "", 68, 11),
    Site("Wigan HMO", "1.8", "", 126, 34),
    Site("York", "0.6", "", 76, 11),
)
TOTAL_FTE = "15.9"
TOTAL_ELIGIBLE = 1219
TOTAL_COMPLETED = 333

# Section 3.1.6: what happened to the 1,219 eligible referrals.
REFERRAL_OUTCOMES: dict[str, int] = {
    "successfully_closed": 333,
    "in_progress": 409,
    "not_completed_unsuitable": 199,
    "not_completed_disengaged": 270,
    "not_completed_claim_closed": 8,
}
REFERRAL_OUTCOME_PERCENT = {"successfully_closed": 27, "in_progress": 34, "not_completed": 39}
NOT_COMPLETED_TOTAL = 477

# Figure 3.2.1: appointments attended per completer (base 333).
APPOINTMENTS_ATTENDED: dict[int, int] = {1: 132, 2: 93, 3: 100, 4: 8}

# Table 3.2.1: attendance at all scheduled appointments of completers.
ATTENDANCE_BASE = 748
ATTENDANCE_PERCENT = {"attended": 87, "unable_to_attend": 8, "failed_to_attend": 5}

# Section 3.2.2: channel of scheduled appointments (rounded, so they sum to 101).
CHANNEL_PERCENT = {
    "telephone": 83,
    "face_to_face_site": 10,
    "face_to_face_neutral": 3,
    "video": 5,
}
# "in Chelmsford specifically there are no face-to-face options"
NO_FACE_TO_FACE_SITES = ("Chelmsford",)

# Table 3.3: work ability change from first to last attended appointment.
WORKABILITY_CHANGE_BASE = 201
WORKABILITY_CHANGE_PERCENT = {"improved": 60, "same": 33, "deteriorated": 7}

# Wave 1: survey immediately after completion.
WAVE1_BASE = 82
WAVE1_AGREE_COUNTS = {  # table 3.2.2, agree or strongly agree
    "honest_open": 79,
    "trusted_ehp": 73,
    "understood_circumstances": 76,
}
WAVE1_AGREE_PERCENT = {"honest_open": 96, "trusted_ehp": 89, "understood_circumstances": 93}
WAVE1_SATISFIED_PERCENT = 95  # extremely satisfied or satisfied
WAVE1_APPROPRIATE_PERCENT = {  # agree or strongly agree
    "channel_appropriate": 91,
    "number_appropriate": 79,
    "length_appropriate": 88,
}
WAVE1_MORE_ABLE_PERCENT = 59  # open_up_vs_work_coach: more_able
WAVE1_IDENTIFIED_PERCENT = {"identified_obstacles": 88, "identified_solutions": 89}
WAVE1_READ_PLAN_PERCENT = {"yes": 89, "no": 11}
WAVE1_PLAN_BASE = 73  # those who read their Workability Action Plan
WAVE1_PLAN_AGREE_COUNTS = {
    "plan_tailored": 63,
    "plan_accurate": 61,
    "plan_actionable": 55,
    "plan_will_act": 59,
}
WAVE1_PLAN_AGREE_PERCENT = {
    "plan_tailored": 86,
    "plan_accurate": 84,
    "plan_actionable": 75,
    "plan_will_act": 81,
}
WAVE1_RIGHT_WORK_HEALTH = {"agree": 56, "neither": 18, "disagree": 8}  # figure 3.3.1
WAVE1_RIGHT_WORK_HEALTH_AGREE_PERCENT = 68
WAVE1_CHANGE_COUNTS = {  # figure 3.3.2: improved, no difference, deteriorated
    "outlook_change": {"improved": 39, "no_difference": 41, "deteriorated": 2},
    "confidence_change": {"improved": 33, "no_difference": 47, "deteriorated": 2},
    "importance_change": {"improved": 29, "no_difference": 51, "deteriorated": 2},
    "support_change": {"improved": 47, "no_difference": 34, "deteriorated": 1},
}
WAVE1_CHANGE_IMPROVED_PERCENT = {
    "outlook_change": 48,
    "confidence_change": 40,
    "importance_change": 35,
    "support_change": 57,
}

# Wave 2: survey six weeks after completion.
WAVE2_RESPONSES = 34
WAVE2_LINKED = 28
WAVE2_HIGHER_THAN_END = {"workability": 5, "confidence": 3, "importance": 3}
WAVE2_STEPS_TAKEN = {"all": 10, "some": 12, "none": 12}  # figure 3.3.3
WAVE2_STEPS_HELPED = {
    "all": {"yes": 5, "unsure": 5},
    "some": {"yes": 3, "unsure": 5, "no": 4},
}
WAVE2_MORE_STEPS_PLANNED = {"all": 3, "some": 14, "none": 7}  # of the 24 some + none
WAVE2_SEEN_WORK_COACH = {"yes": 20, "no": 14}
WAVE2_DISCUSSED_PLAN_YES = 12  # of the 20 who saw their Work Coach
WAVE2_WORK_COACH_RELATIONSHIP = {"improved": 13, "no_difference": 7}  # of the 20

# Health and Work Support (HWS) pilot, Dundee and Fife, June 2018 to March 2020: "Health and
# work support pilot: final evaluation" (Scottish Government), as summarised in
# published-figures.md. The report gives shares only, so the counts are ASSUMED (350
# enrolled, 224 completers, 89 survey respondents), each chosen to round half-up to the
# published per cent; study `hws-pilot`, generated by surveys/demo/hws.py.
HWS_START = date(2018, 6, 1)
HWS_END = date(2020, 3, 31)  # closed early (COVID-19): nothing is issued after it
HWS_SITES = {"Dundee": 140, "Fife": 210}
HWS_ENROLLED = 350
HWS_DROPPED_OUT = 126  # dropped out before finishing support
HWS_DROPPED_OUT_PERCENT = 36  # of all participants
HWS_COMPLETED = 224
HWS_RESPONDENTS = 89  # completers who answered the client survey
# Yes at enrolment, of all participants (base HWS_ENROLLED).
HWS_ENROLMENT_YES = {"concerned_job": 119, "absent": 94}
HWS_ENROLMENT_PERCENT = {"concerned_job": 34, "absent": 27}
# Yes at the survey, of the respondents (base HWS_RESPONDENTS).
HWS_SURVEY_YES = {"concerned_job": 11, "absent": 9, "made_difference": 68,
                  "health_improved": 69}
HWS_SURVEY_PERCENT = {"concerned_job": 12, "absent": 10, "made_difference": 76,
                      "health_improved": 78}
# Of those whose health improved (base HWS_SURVEY_YES["health_improved"]).
HWS_HEALTH_CONTRIBUTED = 63
HWS_HEALTH_CONTRIBUTED_PERCENT = 91


def percent(count: int, base: int) -> int:
    """Whole-number percentage rounded half-up, as the report shows them."""
    return (200 * count + base) // (2 * base)
