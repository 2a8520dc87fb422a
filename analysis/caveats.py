"""Caveats as data: a code plus the numbers behind it, and one English template per code.

The web layer wraps CAVEAT_TEMPLATES values in gettext (ngettext for a Plural, chosen by the
count it names) and fills them with str.format(**params), so templates use only {name}
placeholders and params hold ready-to-print numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from analysis.rounding import half_up, percent_half_up
from analysis.scales import EXTREME_HIGH, EXTREME_LOW

if TYPE_CHECKING:
    from analysis.binary import OutcomeBinary, OutcomeScale, PairedBinary
    from analysis.paired import PairedChange

# Below this many pairs the published evaluation called its figures indicative only.
INDICATIVE_BELOW = 30
# Share of extreme baselines from which regression to the mean is worth a warning.
EXTREME_SHARE = 0.2
# Below this many changed yes/no answers the exact McNemar test reaches p < 0.05 only when
# about three quarters or more of them go one way (15 of 20; 9 of 10).
FEW_CHANGES_BELOW = 20


def N_(message: str) -> str:  # noqa: N802 - the gettext marker name Babel extracts (babel.cfg)
    """Mark a template for the Welsh catalog; it stays plain English here (no Babel import)."""
    return message


@dataclass(frozen=True)
class Plural:
    """A template with singular and plural forms; `count` names the param that chooses."""

    singular: str
    plural: str
    count: str

    def form(self, params: Mapping[str, Any]) -> str:
        return self.singular if params.get(self.count) == 1 else self.plural


def ngettext(singular: str, plural: str, *, count: str) -> Plural:
    """Mark a plural template; Babel extracts ngettext's first two arguments by default, so the
    Welsh catalog gets all its plural forms (translated with ngettext where it is used)."""
    return Plural(singular, plural, count)


CAVEAT_TEMPLATES: dict[str, str | Plural] = {
    "no_pairs": N_(
        "No follow-up response could be matched to an earlier score, so change cannot be measured."
    ),
    "indicative_only": ngettext(
        "Based on {n} matched pair: indicative only; treat with caution.",
        "Based on {n} matched pairs: indicative only; treat with caution.",
        count="n",
    ),
    "unlinked_responses": ngettext(
        "{unlinked} of the {responses} responses could not be matched to an earlier score and "
        "is not included.",
        "{unlinked} of the {responses} responses could not be matched to an earlier score and "
        "are not included.",
        count="unlinked",
    ),
    "missing_scores": N_(
        "Matched responses left out because a score was missing at one of the two points: "
        "{dropped}."
    ),
    "no_comparison_group": N_(
        "There is no comparison group, so these changes cannot be attributed to the "
        "intervention; other factors may account for some or all of them."
    ),
    "no_reminder": N_(
        "Respondents were not reminded of their earlier score, so some differences may reflect "
        "how the scale was used on each occasion rather than a real change."
    ),
    "no_nonzero_changes": N_(
        "Every matched respondent gave the same score both times, so the sign test, the "
        "Wilcoxon signed-rank test and the rank-biserial effect size cannot be calculated and "
        "are not shown."
    ),
    "zero_changes_excluded": ngettext(
        "{same} of the {n} matched respondents gave the same score both times; as is usual, "
        "this respondent is left out of the sign test and the Wilcoxon signed-rank test.",
        "{same} of the {n} matched respondents gave the same score both times; as is usual, "
        "they are left out of the sign test and the Wilcoxon signed-rank test.",
        count="same",
    ),
    "ties_in_changes": N_(
        "Some changes are the same size (ties), so standard exact tables for the Wilcoxon "
        "signed-rank test do not apply; tied changes share their average rank, and the "
        "p-value is exact all the same, worked out from every possible pattern of signs."
    ),
    "wilcoxon_asymptotic": N_(
        "With {k} non-zero changes the Wilcoxon signed-rank p-value comes from the normal "
        "approximation (with tie and continuity corrections), not from the exact "
        "distribution; at this size the two differ very little."
    ),
    "no_mean_interval": N_(
        "With a single matched pair there is no interval for the mean change: it needs at "
        "least two pairs."
    ),
    "no_hodges_lehmann_interval": ngettext(
        "With {n} matched pair no {level}% interval can be given for the Hodges-Lehmann "
        "median change: even the most extreme result is not rare enough with so few pairs.",
        "With {n} matched pairs no {level}% interval can be given for the Hodges-Lehmann "
        "median change: even the most extreme result is not rare enough with so few pairs.",
        count="n",
    ),
    "regression_to_mean": N_(
        "{percent}% of earlier scores were at or near the ends of the scale ({low} or below, "
        "{high} or above). Such scores tend to move towards the middle when measured again, "
        "whatever the intervention (regression to the mean)."
    ),
    "reliable_change": N_(
        "Taking a change of at least {threshold} on the scale as reliable, {improved} of the "
        "{n} matched respondents improved reliably and {deteriorated} deteriorated reliably; "
        "smaller changes may be within measurement error."
    ),
    "attrition_may_bias": N_(
        "Those who answered the follow-up survey differed from those who did not in their "
        "scores at the end of the intervention (medians {responder_median} and "
        "{non_responder_median}; p = {p}), so the matched pairs may not represent everyone "
        "who took part."
    ),
    "attrition_no_responders": N_(
        "Nobody who answered the follow-up survey has a score recorded at the end of the "
        "intervention, so whether those who answered started from different scores than "
        "those who did not could not be checked."
    ),
    "attrition_no_non_responders": N_(
        "Nobody who did not answer the follow-up survey has a score recorded at the end of "
        "the intervention, so whether those who answered started from different scores than "
        "those who did not could not be checked."
    ),
    # Yes/no measures with an answer recorded at the start (binary_caveats).
    "binary_no_pairs": N_(
        "No follow-up answer could be matched to an answer recorded at the start, so change "
        "cannot be measured."
    ),
    "binary_unlinked_responses": ngettext(
        "{unlinked} of the {responses} responses could not be matched to a participant's "
        "earlier answer and is not included.",
        "{unlinked} of the {responses} responses could not be matched to a participant's "
        "earlier answer and are not included.",
        count="unlinked",
    ),
    "binary_missing_answers": ngettext(
        "{dropped} matched response is left out because the question was not answered at one "
        "of the two points.",
        "{dropped} matched responses are left out because the question was not answered at "
        "one of the two points.",
        count="dropped",
    ),
    "binary_no_changes": N_(
        "Every matched respondent gave the same answer both times, so the McNemar test, which "
        "looks only at those whose answer changed, cannot be calculated and is not shown."
    ),
    "binary_changes_too_few_to_test": ngettext(
        "Only {k} matched respondent changed their answer. The McNemar test looks only at "
        "those whose answer changed, and with so few it cannot give a p-value below 0.05 even "
        "if every change is in the same direction, so it cannot show a change.",
        "Only {k} matched respondents changed their answer. The McNemar test looks only at "
        "those whose answer changed, and with so few it cannot give a p-value below 0.05 even "
        "if every change is in the same direction, so it cannot show a change.",
        count="k",
    ),
    "binary_few_changes": N_(
        "Only {k} matched respondents changed their answer. The McNemar test looks only at "
        "them, so it can detect only large differences: at least {needed} of the {k} would "
        "have to change in the same direction for a p-value below 0.05. A larger p-value does "
        "not show that nothing changed."
    ),
    "binary_all_better_at_start": ngettext(
        "The {n} matched respondent already gave the better answer at the start, so there was "
        "no room to improve.",
        "All {n} matched respondents already gave the better answer at the start, so there "
        "was no room to improve; only a change for the worse could show.",
        count="n",
    ),
    "binary_none_better_at_start": ngettext(
        "The {n} matched respondent did not give the better answer at the start, so there was "
        "no room to get worse.",
        "None of the {n} matched respondents gave the better answer at the start, so there "
        "was no room to get worse; only an improvement could show.",
        count="n",
    ),
    "binary_different_groups": ngettext(
        "The shares at the start and at follow-up shown beside this come from two different "
        "groups (everyone with an answer at the start, and those who answered the follow-up "
        "survey), so the difference between them mixes any real change with differences "
        "between the groups. The paired change uses only the {n} person who answered both "
        "times.",
        "The shares at the start and at follow-up shown beside this come from two different "
        "groups (everyone with an answer at the start, and those who answered the follow-up "
        "survey), so the difference between them mixes any real change with differences "
        "between the groups. The paired change uses only the {n} people who answered both "
        "times.",
        count="n",
    ),
    # Questions asked at follow-up only, yes/no or scale (outcome_caveats).
    "outcome_no_answers": N_(
        "Nobody answered this question at follow-up, so there is nothing to report."
    ),
    "outcome_indicative_only": ngettext(
        "Based on {n} answer: indicative only; treat with caution.",
        "Based on {n} answers: indicative only; treat with caution.",
        count="n",
    ),
    "outcome_unlinked_responses": ngettext(
        "{unlinked} of the {responses} responses could not be matched to a participant in the "
        "study and is not included.",
        "{unlinked} of the {responses} responses could not be matched to a participant in the "
        "study and are not included.",
        count="unlinked",
    ),
    "outcome_unanswered": ngettext(
        "{unanswered} matched response left this question unanswered and is not included.",
        "{unanswered} matched responses left this question unanswered and are not included.",
        count="unanswered",
    ),
    "outcome_no_baseline": N_(
        "This question was asked only at follow-up, so it shows where people were then, not "
        "whether they changed."
    ),
    "outcome_no_comparison_group": N_(
        "There is no comparison group, so these answers cannot be attributed to the "
        "intervention; other factors may account for some or all of them."
    ),
    "outcome_no_mean_interval": N_(
        "With a single answer there is no interval for the mean: it needs at least two answers."
    ),
    # Comparison groups (analysis/arms.py: comparison_caveats, study_comparison_caveats).
    # Arm names are the study's own identifiers and are not translated.
    "not_randomised": N_(
        "People were not allocated to {first_arm} and {second_arm} at random, so differences "
        "between the arms may come from who was in each arm (selection), not from the "
        "programme."
    ),
    "response_rates_differ": N_(
        "Response rates differed between the arms ({first_rate}% in {first_arm}, "
        "{second_rate}% in {second_arm}; Fisher's exact test p = {p}), so those who answered "
        "may not represent their arm equally (attrition by arm) and the comparison may be "
        "biased."
    ),
    "arm_without_answers": N_(
        "Nobody in {arm} answered this question, so the arms cannot be compared on it."
    ),
    "small_arm": ngettext(
        "Only {n} answer in {arm}: the comparison is indicative only; treat with caution.",
        "Only {n} answers in {arm}: the comparison is indicative only; treat with caution.",
        count="n",
    ),
    "baseline_differs": N_(
        "The arms already differed at the start (mean {first_mean} in {first_arm}, "
        "{second_mean} in {second_arm}; Mann-Whitney p = {p}), so part of any difference "
        "between them may come from where they started, not from the programme."
    ),
    "baseline_differs_binary": N_(
        "The arms already differed at the start ({first_percent}% at the better answer in "
        "{first_arm}, {second_percent}% in {second_arm}; Fisher's exact test p = {p}), so "
        "part of any difference between them may come from where they started, not from the "
        "programme."
    ),
    "risk_ratio_not_estimable": N_(
        "Nobody in {arm} gave the better answer, so the risk ratio cannot be estimated (its "
        "upper limit is unbounded); the difference in shares and Fisher's exact test still "
        "apply."
    ),
    "comparison_no_mean_interval": N_(
        "With a single answer in an arm there is no interval for the difference in means: it "
        "needs at least two answers in each arm."
    ),
    "comparison_no_hodges_lehmann_interval": N_(
        "With {first_n} answers in {first_arm} and {second_n} in {second_arm} no {level}% "
        "interval can be given for the Hodges-Lehmann shift: even the most extreme result is "
        "not rare enough with so few answers."
    ),
    "mann_whitney_ties_asymptotic": N_(
        "Some answers are tied, so the Mann-Whitney p-value comes from the normal "
        "approximation (with tie and continuity corrections, as SciPy computes it) and is "
        "approximate, as is the interval for the Hodges-Lehmann shift."
    ),
}


@dataclass(frozen=True)
class Caveat:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CAVEAT_TEMPLATES:
            raise ValueError(f"unknown caveat code {self.code!r}")


def template(caveat: Caveat) -> str:
    """The English template that fits the caveat's numbers (singular or plural)."""
    found = CAVEAT_TEMPLATES[caveat.code]
    return found.form(caveat.params) if isinstance(found, Plural) else found


def english(caveat: Caveat) -> str:
    return template(caveat).format(**caveat.params)


def paired_caveats(
    result: PairedChange,
    *,
    linked: int,
    responses: int,
    reminder_given: bool = False,
    comparison_group: bool = False,
    indicative_below: int = INDICATIVE_BELOW,
    extreme_share: float = EXTREME_SHARE,
) -> tuple[Caveat, ...]:
    """Caveats for one measure, worked out from its numbers, most fundamental first.

    `responses` counts follow-up responses received, linked or not; `linked` those matched to
    a participant. `comparison_group`: the study has arms (no "no comparison group" caveat).
    """
    if not 0 <= linked <= responses:
        raise ValueError("need 0 <= linked <= responses")
    n = result.n
    out: list[Caveat] = []
    if n == 0:
        out.append(Caveat("no_pairs"))
    elif n < indicative_below:
        out.append(Caveat("indicative_only", {"n": n}))
    if responses > linked:
        out.append(
            Caveat("unlinked_responses", {"unlinked": responses - linked, "responses": responses})
        )
    if result.dropped:
        out.append(Caveat("missing_scores", {"dropped": result.dropped}))
    if not comparison_group:
        out.append(Caveat("no_comparison_group"))
    if not reminder_given:
        out.append(Caveat("no_reminder"))
    if n == 0:
        return tuple(out)
    if result.same == n:
        out.append(Caveat("no_nonzero_changes"))
    elif result.same:
        out.append(Caveat("zero_changes_excluded", {"same": result.same, "n": n}))
    if n == 1:
        out.append(Caveat("no_mean_interval"))
    hl = result.hodges_lehmann
    if hl is not None and hl.interval is None:
        level = _number(float(half_up(100 * result.confidence, 1) or 0))
        out.append(Caveat("no_hodges_lehmann_interval", {"n": n, "level": level}))
    if result.wilcoxon.method == "asymptotic":
        out.append(Caveat("wilcoxon_asymptotic", {"k": result.wilcoxon.n_nonzero}))
    elif result.wilcoxon.ties:
        out.append(Caveat("ties_in_changes"))
    if result.extreme_baselines / n >= extreme_share:
        out.append(
            Caveat(
                "regression_to_mean",
                {
                    "share": result.extreme_baselines / n,
                    "percent": percent_half_up(result.extreme_baselines, n),
                    "low": EXTREME_LOW,
                    "high": EXTREME_HIGH,
                },
            )
        )
    if result.reliable_change is not None:
        out.append(
            Caveat(
                "reliable_change",
                {
                    "threshold": _number(result.reliable_change),
                    "n": n,
                    "improved": result.reliably_improved,
                    "deteriorated": result.reliably_deteriorated,
                },
            )
        )
    return tuple(out)


def binary_caveats(
    result: PairedBinary,
    *,
    linked: int,
    responses: int,
    comparison_group: bool = False,
    unpaired_shares_shown: bool = False,
    indicative_below: int = INDICATIVE_BELOW,
    few_changes_below: int = FEW_CHANGES_BELOW,
) -> tuple[Caveat, ...]:
    """Caveats for one yes/no measure with a baseline, from its numbers, most fundamental first.

    `responses` and `linked` as for paired_caveats. `unpaired_shares_shown`: the report shows,
    beside the paired change, shares of everyone answered at each point (two different groups).
    """
    if not 0 <= linked <= responses:
        raise ValueError("need 0 <= linked <= responses")
    n = result.n
    out: list[Caveat] = []
    if n == 0:
        out.append(Caveat("binary_no_pairs"))
    elif n < indicative_below:
        out.append(Caveat("indicative_only", {"n": n}))
    if responses > linked:
        out.append(Caveat(
            "binary_unlinked_responses", {"unlinked": responses - linked, "responses": responses}
        ))
    if result.dropped:
        out.append(Caveat("binary_missing_answers", {"dropped": result.dropped}))
    if not comparison_group:
        out.append(Caveat("no_comparison_group"))
    if n == 0:
        return tuple(out)
    k = result.improved + result.deteriorated
    if k == 0:
        out.append(Caveat("binary_no_changes"))
    elif k < few_changes_below:
        needed = changes_needed_for_significance(k)
        if needed is None:
            out.append(Caveat("binary_changes_too_few_to_test", {"k": k}))
        else:
            out.append(Caveat("binary_few_changes", {"k": k, "needed": needed}))
    if result.before_better == n:
        out.append(Caveat("binary_all_better_at_start", {"n": n}))
    elif result.before_better == 0:
        out.append(Caveat("binary_none_better_at_start", {"n": n}))
    if unpaired_shares_shown:
        out.append(Caveat("binary_different_groups", {"n": n}))
    return tuple(out)


def changes_needed_for_significance(k: int, alpha: float = 0.05) -> int | None:
    """Fewest of k changed answers that must go one way for the exact two-sided McNemar
    p-value, 2 * P(X >= m) with X ~ Binomial(k, 1/2), to be at most alpha; None when even
    all k in one direction is not enough. Exact fractions: the boundary case counts."""
    limit = Fraction(alpha).limit_denominator(10**9)
    tail = Fraction(0)
    for m in range(k, k // 2, -1):  # m > k/2: one direction strictly in the majority
        tail += Fraction(math.comb(k, m), 2**k)
        if 2 * tail > limit:
            return m + 1 if m < k else None
    return k // 2 + 1


def outcome_caveats(
    result: OutcomeBinary | OutcomeScale,
    *,
    linked: int,
    responses: int,
    comparison_group: bool = False,
    indicative_below: int = INDICATIVE_BELOW,
) -> tuple[Caveat, ...]:
    """Caveats for a question asked at follow-up only (yes/no or scale), most fundamental
    first. `linked` counts the responses whose answers were counted, of `responses` received."""
    if not 0 <= linked <= responses:
        raise ValueError("need 0 <= linked <= responses")
    n = result.n
    out: list[Caveat] = []
    if n == 0:
        out.append(Caveat("outcome_no_answers"))
    elif n < indicative_below:
        out.append(Caveat("outcome_indicative_only", {"n": n}))
    if responses > linked:
        out.append(Caveat(
            "outcome_unlinked_responses", {"unlinked": responses - linked, "responses": responses}
        ))
    if result.unanswered:
        out.append(Caveat("outcome_unanswered", {"unanswered": result.unanswered}))
    out.append(Caveat("outcome_no_baseline"))
    if not comparison_group:
        out.append(Caveat("outcome_no_comparison_group"))
    if n == 1 and getattr(result, "mean_ci", False) is None:  # a scale: no t interval for one
        out.append(Caveat("outcome_no_mean_interval"))
    return tuple(out)


def _number(value: float) -> int | float:
    """Print 2.0 as 2 in a sentence."""
    return int(value) if float(value).is_integer() else value
