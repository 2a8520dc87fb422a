"""Caveats as data: a code plus the numbers behind it, and one English template per code.

The web layer wraps CAVEAT_TEMPLATES values in gettext and fills them with str.format(**params),
so templates use only {name} placeholders and params hold ready-to-print numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analysis.rounding import percent_half_up

if TYPE_CHECKING:
    from analysis.paired import PairedChange

# Below this many pairs the published evaluation called its figures indicative only.
INDICATIVE_BELOW = 30
# Share of extreme baselines from which regression to the mean is worth a warning.
EXTREME_SHARE = 0.2


def N_(message: str) -> str:  # noqa: N802 - the gettext marker name Babel extracts (babel.cfg)
    """Mark a template for the Welsh catalog; it stays plain English here (no Babel import)."""
    return message


CAVEAT_TEMPLATES: dict[str, str] = {
    "no_pairs": N_(
        "No follow-up response could be matched to an earlier score, so change cannot be measured."
    ),
    "indicative_only": N_("Based on {n} matched pairs: indicative only; treat with caution."),
    "unlinked_responses": N_(
        "{unlinked} of the {responses} responses could not be matched to an earlier score and "
        "are not included."
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
        "Every matched respondent gave the same score both times, so the sign test and the "
        "Wilcoxon signed-rank test cannot be calculated and are not shown."
    ),
    "zero_changes_excluded": N_(
        "{same} of the {n} matched respondents gave the same score both times; as is usual, "
        "they are left out of the sign test and the Wilcoxon signed-rank test."
    ),
    "ties_in_changes": N_(
        "Some changes are the same size (ties), so standard exact tables for the Wilcoxon "
        "signed-rank test do not apply; its p-value was calculated instead with SciPy's "
        "method {method}."
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
}


@dataclass(frozen=True)
class Caveat:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CAVEAT_TEMPLATES:
            raise ValueError(f"unknown caveat code {self.code!r}")


def english(caveat: Caveat) -> str:
    return CAVEAT_TEMPLATES[caveat.code].format(**caveat.params)


def paired_caveats(
    result: PairedChange,
    *,
    linked: int,
    responses: int,
    reminder_given: bool = False,
    indicative_below: int = INDICATIVE_BELOW,
    extreme_share: float = EXTREME_SHARE,
) -> tuple[Caveat, ...]:
    """Caveats for one measure, worked out from its numbers, most fundamental first.

    `responses` counts follow-up responses received, linked or not; `linked` those matched to
    a participant.
    """
    from analysis.paired import EXTREME_HIGH, EXTREME_LOW  # paired imports this module

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
    out.append(Caveat("no_comparison_group"))
    if not reminder_given:
        out.append(Caveat("no_reminder"))
    if n == 0:
        return tuple(out)
    if result.same == n:
        out.append(Caveat("no_nonzero_changes"))
    elif result.same:
        out.append(Caveat("zero_changes_excluded", {"same": result.same, "n": n}))
    if result.wilcoxon.ties:
        out.append(Caveat("ties_in_changes", {"method": result.wilcoxon.method}))
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


def _number(value: float) -> int | float:
    """Print 2.0 as 2 in a sentence."""
    return int(value) if float(value).is_integer() else value
