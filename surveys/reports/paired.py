"""Paired change as report tables, and the paired report's publication copy.

The numbers come from `surveys.reporting.paired_report` (statistics from `analysis`);
this module lays them out as tables (counts, intervals and effect sizes, before and
after) and applies the disclosure rule to the JSON report itself.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from analysis.disclosure import SUPPRESSED, suppress_frequencies
from surveys.i18n import N_
from surveys.models import Study, Wave
from surveys.reporting import MEASURES
from surveys.reports import queries
from surveys.reports.breakdowns import NOT_LINKED, Breakdown, group_value
from surveys.reports.build import Category, crosstab, t
from surveys.reports.table import (
    COUNT,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    Independent,
    OneWay,
    RestsOn,
    Row,
    Table,
)

MEASURE_NAMES = {
    "workability": N_("Work ability (0 to 10)"),
    "confidence": N_("Confidence about getting into work (0 to 10)"),
    "importance": N_("Importance of getting into work (0 to 10)"),
}
DIRECTIONS = (
    ("improved", N_("Higher at follow-up")),
    ("same", N_("Same")),
    ("deteriorated", N_("Lower at follow-up")),
)


def _rests_on_pairs(table: Table, measure: str, n: int | None) -> RestsOn:
    """The whole row of a measure rests on its pairs (evaluator rule)."""
    return RestsOn(n, tuple((measure, c.key) for c in table.columns))


def measure_name(measure: str, language: str) -> str:
    return t(MEASURE_NAMES.get(measure, measure), language)


def _pct(value: Any) -> float | None:
    """A share as a per cent at full precision: the table rounds it once when shown."""
    if value is None or isinstance(value, str):
        return value  # not available, or "[c]"
    return 100 * value


def change_table(paired: dict, language: str) -> Table:
    columns = [Column("n", t(N_("Pairs"), language), COUNT)]
    for key, label in DIRECTIONS:
        columns.append(Column(key, t(N_("{direction}: number"), language,
                                     direction=t(label, language)), COUNT))
        columns.append(Column(f"{key}_percent", t(N_("{direction}: per cent"), language,
                                                  direction=t(label, language)), PERCENT))
    columns += [
        Column("mean_change", t(N_("Mean change"), language), NUMBER, 2),
        Column("median_change", t(N_("Median change"), language), NUMBER, 1),
        Column("sign_test_p", t(N_("Sign test p"), language), NUMBER, 3),
        Column("wilcoxon_p", t(N_("Wilcoxon signed-rank p"), language), NUMBER, 3),
    ]
    table = Table(
        "paired-change",
        t(N_("Change from the end of the intervention to {wave}"), language,
          wave=paired["follow_up"]),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the responses to {wave} linked to a client with a score stored "
                       "at the end of the intervention and a follow-up score ({linked} linked "
                       "of {responses} received)."), language, wave=paired["follow_up"],
                    linked=paired["linked"], responses=paired["responses"]),
    )
    for measure, m in paired["measures"].items():
        table.rows.append(Row(measure, measure_name(measure, language), {
            "n": m["n"], "improved": m["improved"], "same": m["same"],
            "deteriorated": m["deteriorated"], "mean_change": m["mean_change"],
            "median_change": m["median_change"], "sign_test_p": m["sign_test"]["p"],
            "wilcoxon_p": m["wilcoxon"]["p"],
        }))
        table.blocks.append(OneWay(tuple((measure, k) for k, _ in DIRECTIONS), (measure, "n")))
        table.blocks.append(_rests_on_pairs(table, measure, m["n"]))
        for key, _ in DIRECTIONS:
            table.add_percent(measure, key, f"{key}_percent", (measure, "n"))
    code = f"{paired['follow_up']}:count"
    table.foreign_numbers += [("linkage", ("linked", code), paired["linked"]),
                              ("linkage", ("total", code), paired["responses"])]
    if paired["measures"]:
        table.base = next(iter(paired["measures"].values()))["n"]
    table.notes.append(t(N_("Change is the follow-up score minus the score stored at the end of "
                            "the intervention. The sign test is an exact two-sided binomial "
                            "test on the non-zero changes; the Wilcoxon signed-rank test uses "
                            "the SciPy method named in the statistics table."), language))
    return table


def statistics_table(paired: dict, language: str) -> Table:
    columns = [
        Column("improved_ci_low", t(N_("Higher: 95% interval, lower per cent"), language),
               NUMBER, 1),
        Column("improved_ci_high", t(N_("Higher: 95% interval, upper per cent"), language),
               NUMBER, 1),
        Column("deteriorated_ci_low", t(N_("Lower: 95% interval, lower per cent"), language),
               NUMBER, 1),
        Column("deteriorated_ci_high", t(N_("Lower: 95% interval, upper per cent"), language),
               NUMBER, 1),
        Column("mean_change_ci_low", t(N_("Mean change: 95% interval, lower"), language),
               NUMBER, 2),
        Column("mean_change_ci_high", t(N_("Mean change: 95% interval, upper"), language),
               NUMBER, 2),
        Column("hodges_lehmann", t(N_("Hodges-Lehmann median change"), language), NUMBER, 2),
        Column("hodges_lehmann_ci_low", t(N_("Hodges-Lehmann: 95% interval, lower"),
                                          language), NUMBER, 2),
        Column("hodges_lehmann_ci_high", t(N_("Hodges-Lehmann: 95% interval, upper"),
                                           language), NUMBER, 2),
        Column("rank_biserial", t(N_("Rank-biserial correlation (effect size)"), language),
               NUMBER, 3),
        Column("reliable_threshold", t(N_("Reliable change threshold (points)"), language),
               NUMBER, 1),
        Column("reliably_improved", t(N_("Reliably higher"), language), COUNT),
        Column("reliably_deteriorated", t(N_("Reliably lower"), language), COUNT),
        Column("wilcoxon_method", t(N_("Wilcoxon method (SciPy)"), language), TEXT),
    ]
    table = Table(
        "paired-statistics",
        t(N_("Intervals, effect size and reliable change, end of the intervention to {wave}"),
          language, wave=paired["follow_up"]),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs in the change table."), language),
    )
    methods: dict[str, str] = {}
    for measure, m in paired["measures"].items():
        hl = m.get("hodges_lehmann") or {}
        mean_ci = m.get("mean_change_ci") or {}
        rc = m.get("reliable_change") or {}
        table.rows.append(Row(measure, measure_name(measure, language), {
            "improved_ci_low": _pct(m["improved_share"]["ci_low"]),
            "improved_ci_high": _pct(m["improved_share"]["ci_high"]),
            "deteriorated_ci_low": _pct(m["deteriorated_share"]["ci_low"]),
            "deteriorated_ci_high": _pct(m["deteriorated_share"]["ci_high"]),
            "mean_change_ci_low": mean_ci.get("low"),
            "mean_change_ci_high": mean_ci.get("high"),
            "hodges_lehmann": hl.get("estimate"),
            "hodges_lehmann_ci_low": hl.get("ci_low"),
            "hodges_lehmann_ci_high": hl.get("ci_high"),
            "rank_biserial": (m.get("rank_biserial") or {}).get("value"),
            "reliable_threshold": rc.get("threshold"),
            "reliably_improved": rc.get("reliably_improved"),
            "reliably_deteriorated": rc.get("reliably_deteriorated"),
            "wilcoxon_method": m["wilcoxon"]["method"] or "",
        }))
        for key in ("improved", "deteriorated"):
            for end in ("low", "high"):
                table.mirror[(measure, f"{key}_ci_{end}")] = ("paired-change", (measure, key))
        table.blocks.append(Independent(((measure, "reliably_improved"),
                                         (measure, "reliably_deteriorated"))))
        table.blocks.append(_rests_on_pairs(table, measure, m["n"]))
        for name, method in (m.get("methods") or {}).items():
            methods.setdefault(name, method)
        methods.setdefault("share_ci_method", m["improved_share"]["method"] or "")
    names = {
        "sign_test": N_("Sign test"), "wilcoxon": N_("Wilcoxon signed-rank test"),
        "share_ci": N_("Intervals for the shares higher and lower"),
        "mean_change_ci": N_("Interval for the mean change"),
        "hodges_lehmann": N_("Hodges-Lehmann estimate"),
        "rank_biserial": N_("Effect size"),
    }
    for key, label in names.items():
        if key in methods:
            table.notes.append(f"{t(label, language)}: {methods[key]}.")
    table.notes.append(t(N_("Reliable change: a change of at least the threshold, up or down, "
                            "counted separately; smaller changes may be measurement error. "
                            "Thresholds are a study setting."), language))
    return table


def before_after_table(paired: dict, language: str) -> Table:
    columns = [
        Column("n", t(N_("Pairs"), language), COUNT),
        Column("baseline_mean", t(N_("Mean at the end of the intervention"), language),
               NUMBER, 2),
        Column("follow_up_mean", t(N_("Mean at follow-up"), language), NUMBER, 2),
        Column("baseline_median", t(N_("Median at the end of the intervention"), language),
               NUMBER, 1),
        Column("follow_up_median", t(N_("Median at follow-up"), language), NUMBER, 1),
    ]
    table = Table(
        "paired-before-after",
        t(N_("Scores before and after: end of the intervention and {wave}, same clients"),
          language, wave=paired["follow_up"]),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs in the change table."), language),
    )
    for measure, m in paired["measures"].items():
        table.rows.append(Row(measure, measure_name(measure, language), {
            "n": m["n"], "baseline_mean": m.get("baseline_mean"),
            "follow_up_mean": m.get("follow_up_mean"),
            "baseline_median": m.get("baseline_median"),
            "follow_up_median": m.get("follow_up_median"),
        }))
        table.mirror[(measure, "n")] = ("paired-change", (measure, "n"))
        table.blocks.append(_rests_on_pairs(table, measure, m["n"]))
    return table


def paired_section(
    session: Session, study: Study, wave: Wave, paired: dict, language: str,
    breakdown: Breakdown | None, dim, caveats_from: dict | None = None,
):
    from surveys.reports.evaluation import Section

    section = Section("paired", t(N_("Paired change: end of the intervention to {wave}"),
                                  language, wave=wave.code))
    section.tables += [change_table(paired, language), statistics_table(paired, language),
                       before_after_table(paired, language)]
    if breakdown is not None:
        cats = [Category(k, t(label, language)) for k, label in DIRECTIONS]
        for measure, baseline in MEASURES.items():
            counts = queries.paired_directions(session, wave, measure, baseline, dim)
            groups = breakdown.groups({g for g, _ in counts}, NOT_LINKED)
            cells = {(g.key, c): n for g in groups for (v, c), n in counts.items()
                     if v == group_value(g)}
            section.tables.append(crosstab(
                f"paired-{measure}-by-{breakdown.key}",
                t(N_("{measure}: change by {breakdown}"), language,
                  measure=measure_name(measure, language), breakdown=breakdown.label.lower()),
                t(N_("Change"), language), cats, groups, cells, language=language,
                base_text=t(N_("Base: pairs with both scores."), language),
            ))
    # Caveats shared by every measure are said once; the others name their measure.
    per_measure = {m: p["caveats"] for m, p in (caveats_from or paired)["measures"].items()}
    shared = [c for c in next(iter(per_measure.values()), []) if
              all(c in cs for cs in per_measure.values())]
    section.caveats.extend(shared)
    for measure, caveats in per_measure.items():
        for caveat in caveats:
            if caveat not in shared:
                section.caveats.append(f"{measure_name(measure, language)}: {caveat}")
    return section


# The paired report (contract JSON) for publication -------------------------------------


# Caveat parameters that are counts, and where the published count is.
_CAVEAT_COUNTS = {
    "n": lambda out, m: m["n"],
    "same": lambda out, m: m["same"],
    "dropped": lambda out, m: m.get("dropped_pairs"),
    "unlinked": lambda out, m: out["unlinked"],
    "responses": lambda out, m: out["responses"],
}


def _published_caveats(out: dict, m: dict, language: str) -> list[str]:
    from analysis.caveats import Caveat
    from surveys.reporting import caveat_sentence

    sentences = []
    rc = m.get("reliable_change") or {}
    for code, params in zip(m["caveat_codes"], m.get("caveat_params") or [], strict=False):
        shown = dict(params)
        for name in shown:
            if name in _CAVEAT_COUNTS and _CAVEAT_COUNTS[name](out, m) == SUPPRESSED:
                shown[name] = SUPPRESSED
        if code == "reliable_change":
            shown["improved"] = rc.get("reliably_improved", shown["improved"])
            shown["deteriorated"] = rc.get("reliably_deteriorated", shown["deteriorated"])
        if code == "regression_to_mean" and m.get("extreme_baselines") == SUPPRESSED:
            shown["percent"] = SUPPRESSED
        m.setdefault("caveat_params_published", []).append(shown)
        sentences.append(caveat_sentence(Caveat(code, shown), language))
    return sentences


def publish_paired(paired: dict, threshold: int, rule: str, language: str = "en") -> dict:
    """The paired report with the disclosure rule applied to its counts.

    Counts of improved, same and deteriorated are suppressed with their pairs total as in
    the tables; shares and intervals of a suppressed count, and the sign-test and Wilcoxon
    counts and rank sums that would reveal one, are suppressed with it.
    """
    out = copy.deepcopy(paired)
    responses = suppress_frequencies([out["linked"], out["unlinked"]], threshold)
    out["linked"], out["unlinked"] = responses.cells
    out["responses"] = responses.total
    for m in out["measures"].values():
        shown = suppress_frequencies([m["improved"], m["same"], m["deteriorated"]], threshold)
        m["improved"], m["same"], m["deteriorated"] = shown.cells
        m["n"] = shown.total
        for key in ("improved", "deteriorated"):
            if m[key] == SUPPRESSED:
                m[f"{key}_share"] = {k: (v if k == "method" else SUPPRESSED)
                                     for k, v in m[f"{key}_share"].items()}
        if SUPPRESSED in shown.cells:
            m["sign_test"]["n"] = SUPPRESSED
            for key in ("n", "statistic", "w_plus", "w_minus"):
                m["wilcoxon"][key] = SUPPRESSED
        rc = m.get("reliable_change")
        if rc:
            for key in ("reliably_improved", "reliably_deteriorated"):
                if isinstance(rc[key], int) and 1 <= rc[key] <= threshold:
                    rc[key] = SUPPRESSED
        if isinstance(m.get("extreme_baselines"), int) and 1 <= m["extreme_baselines"] <= threshold:
            m["extreme_baselines"] = SUPPRESSED
        if isinstance(m.get("dropped_pairs"), int) and 1 <= m["dropped_pairs"] <= threshold:
            m["dropped_pairs"] = SUPPRESSED
    for m in out["measures"].values():
        if m.get("caveat_params") is not None:
            m["caveats"] = _published_caveats(out, m, language)
            m["caveat_params"] = m.pop("caveat_params_published", [])
    out["publication"] = {"threshold": threshold, "rule": rule}
    return out


# The evaluator rule --------------------------------------------------------------------

EVALUATOR_RULE = N_(
    "Evaluator rule: a figure that rests on a group of {threshold} or fewer people (a whole "
    "table, a breakdown column, or a statistic such as a mean, median, p-value or interval) is "
    "suppressed and shown as [c], so that no one's answers can be recognised; where a total "
    "would give a suppressed column back, a further column is suppressed too. Counts of 1 to "
    "{threshold} within a larger group are shown."
)
SMALL_STUDY = N_(
    "This study has {threshold} or fewer clients, so every figure rests on a group that small "
    "and none is shown to evaluators."
)
SMALL_MEASURE = N_(
    "These figures rest on {threshold} or fewer pairs, so they are not shown to evaluators."
)
# Study settings inside a measure's figures: not worked out from anyone's answers.
_SETTINGS = frozenset({"threshold", "confidence", "kind", "method", "zero_method", "methods"})


def _hide_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v if k in _SETTINGS else _hide_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_numbers(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return SUPPRESSED


def clients(session: Session, study: Study) -> int:
    """The study's clients (every participant, whatever their status)."""
    from sqlalchemy import func, select

    from surveys.models import Participant

    return session.scalar(select(func.count()).select_from(Participant)
                          .where(Participant.study_id == study.id)) or 0


def evaluator_paired(
    paired: dict, threshold: int, language: str = "en", *, cohort: int
) -> dict:
    """The paired report as an evaluator may see it (publication copy or not).

    A measure of 1..threshold pairs shows no figure at all (counts, shares, means, medians,
    p-values, intervals, reliable change), with a caveat saying why; a study of 1..threshold
    clients shows nothing, not even how many responded. Study settings (thresholds, methods)
    stay. The rule is stated under `evaluator_rule`.
    """
    out = copy.deepcopy(paired)
    everything = 1 <= cohort <= threshold
    if everything:
        for key in ("responses", "linked", "unlinked"):
            if key in out:
                out[key] = SUPPRESSED
    hidden = []
    for name, m in out["measures"].items():
        if not everything and not (isinstance(m["n"], int) and 1 <= m["n"] <= threshold):
            continue
        hidden.append(name)
        sentence = t(SMALL_STUDY if everything else SMALL_MEASURE, language, threshold=threshold)
        for key, value in list(m.items()):
            if key not in ("caveats", "caveat_codes", "caveat_params"):
                m[key] = value if key in _SETTINGS else _hide_numbers(value)
        m["caveats"] = [sentence]
        m["caveat_codes"] = ["evaluator_rule"]
        if "caveat_params" in m:
            m["caveat_params"] = [{"threshold": threshold}]
    out["evaluator_rule"] = {
        "applied": True,
        "threshold": threshold,
        "rule": t(EVALUATOR_RULE, language, threshold=threshold),
        "suppressed_measures": hidden,
    }
    return out
