"""Paired change as report tables, and the paired report's publication copy.

The numbers come from `surveys.reports.paired_change.paired_report` (statistics from `analysis`);
this module lays them out as tables and applies the disclosure rule to the JSON report
itself. Scale measures with a baseline get the change, statistics and before-and-after
tables; yes/no measures with a baseline a 2x2 each and a summary (McNemar, the paired
difference); measures asked at follow-up only one table of their answers.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from analysis.disclosure import SUPPRESSED, suppress_frequencies
from surveys.i18n import N_
from surveys.models import Study, Wave
from surveys.reports import queries
from surveys.reports.breakdowns import NOT_LINKED, Breakdown, group_value
from surveys.reports.build import Category, crosstab, t
from surveys.reports.methods import method_text
from surveys.reports.table import (
    COUNT,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    Derived,
    Independent,
    OneWay,
    RestsOn,
    Row,
    Table,
    TwoWay,
)

DIRECTIONS = (
    ("improved", N_("Higher at follow-up")),
    ("same", N_("Same")),
    ("deteriorated", N_("Lower at follow-up")),
)
# When a measure is better lower, or yes/no: improved means moved towards the better value.
TOWARDS_BETTER = (
    ("improved", N_("Better at follow-up")),
    ("same", N_("Same")),
    ("deteriorated", N_("Worse at follow-up")),
)
ANSWERS = {"yes": N_("Yes"), "no": N_("No")}
TOTAL_COLUMN = "total"  # the total column (and row) of a yes/no measure's 2x2


def _rests_on_pairs(table: Table, measure: str, n: int | None) -> RestsOn:
    """The whole row of a measure rests on its pairs (evaluator rule)."""
    return RestsOn(n, tuple((measure, c.key) for c in table.columns))


def measure_name(measure: str, language: str, paired: dict | None = None) -> str:
    """The measure's label in `language` (the study's text; English, then the key, if none)."""
    entry = (paired or {}).get("measures", {}).get(measure) or {}
    return entry.get("label") or measure


def follow_up_name(paired: dict) -> str:
    """The follow-up wave's name for readers (its code in a report made without one)."""
    return paired.get("follow_up_label") or paired["follow_up"]


def _scale(m: dict) -> bool:
    """A scale measure with a baseline (the statistics of contracts section 4)."""
    return m.get("kind", "scale") == "scale" and m.get("baseline", True) is not False


def _paired_binary(m: dict) -> bool:
    return m.get("kind") == "binary" and m.get("baseline", True) is not False


def _outcome(m: dict) -> bool:
    return m.get("baseline", True) is False


def scale_measures(paired: dict) -> dict:
    return {k: m for k, m in paired["measures"].items() if _scale(m)}


def directions(paired: dict) -> tuple:
    """Higher/lower while every scale measure is better higher (the EHD's words), else
    better/worse."""
    if all(m.get("better", "higher") == "higher" for m in scale_measures(paired).values()):
        return DIRECTIONS
    return TOWARDS_BETTER


def ehd_words(paired: dict) -> bool:
    """Whether the report speaks of scores stored at the end of the intervention (the EHD
    studies, contract section 4), or of the value stored in the cohort file (any other):
    surveys.reports.paired_change.baseline_at_end_of_intervention decides, and
    `baseline_source` carries it."""
    return paired.get("baseline_source", "end_of_intervention") == "end_of_intervention"


def _pct(value: Any) -> float | None:
    """A share as a per cent at full precision: the table rounds it once when shown."""
    if value is None or isinstance(value, str):
        return value  # not available, or "[c]"
    return 100 * value


def change_table(paired: dict, language: str) -> Table:
    columns = [Column("n", t(N_("Pairs"), language), COUNT)]
    for key, label in directions(paired):
        columns.append(Column(key, t(N_("{direction}: number"), language,
                                     direction=t(label, language)), COUNT))
        columns.append(Column(f"{key}_percent", t(N_("{direction}: per cent"), language,
                                                  direction=t(label, language)), PERCENT))
    columns += [
        Column("mean_change", t(N_("Mean change"), language), NUMBER, 2),
        Column("median_change", t(N_("Median change"), language), NUMBER, 1),
        Column("sign_test_p", t(N_("Sign test p"), language), NUMBER, 3, p_value=True),
        Column("wilcoxon_p", t(N_("Wilcoxon signed-rank p"), language), NUMBER, 3,
               p_value=True),
    ]
    ehd = ehd_words(paired)
    table = Table(
        "paired-change",
        t(N_("Change from the end of the intervention to {wave}") if ehd else
          N_("Change from the stored value to {wave}"), language, wave=follow_up_name(paired)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the responses to {wave} linked to a client with a score stored "
                       "at the end of the intervention and a follow-up score ({linked} linked "
                       "of {responses} received).") if ehd else
                    N_("Base: the responses to {wave} linked to a client with a value stored "
                       "in the cohort file and a follow-up score ({linked} linked of "
                       "{responses} received)."), language, wave=follow_up_name(paired),
                    linked=paired["linked"], responses=paired["responses"]),
    )
    for measure, m in scale_measures(paired).items():
        table.rows.append(Row(measure, measure_name(measure, language, paired), {
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
    if scale_measures(paired):
        table.base = next(iter(scale_measures(paired).values()))["n"]
    if directions(paired) is TOWARDS_BETTER:
        table.notes.append(t(N_("Better and worse follow each measure's better direction: "
                                "for a measure where lower is better, a lower score at "
                                "follow-up counts as better."), language))
    table.notes.append(t(N_("Change is the follow-up score minus the score stored at the end of "
                            "the intervention. The sign test is an exact two-sided binomial "
                            "test on the non-zero changes; the Wilcoxon signed-rank test uses "
                            "the SciPy method named in the statistics table.") if ehd else
                         N_("Change is the follow-up score minus the value stored for each "
                            "participant in the cohort file (the measure's _end column). The "
                            "sign test is an exact two-sided binomial test on the non-zero "
                            "changes; the Wilcoxon signed-rank test uses the SciPy method "
                            "named in the statistics table."), language))
    return table


def statistics_table(paired: dict, language: str) -> Table:
    if directions(paired) is TOWARDS_BETTER:
        labels = (N_("Better: 95% interval, lower per cent"),
                  N_("Better: 95% interval, upper per cent"),
                  N_("Worse: 95% interval, lower per cent"),
                  N_("Worse: 95% interval, upper per cent"))
        reliably_up, reliably_down = N_("Reliably better"), N_("Reliably worse")
    else:
        labels = (N_("Higher: 95% interval, lower per cent"),
                  N_("Higher: 95% interval, upper per cent"),
                  N_("Lower: 95% interval, lower per cent"),
                  N_("Lower: 95% interval, upper per cent"))
        reliably_up, reliably_down = N_("Reliably higher"), N_("Reliably lower")
    columns = [
        Column(key, t(text, language), NUMBER, 1) for key, text in zip(
            ("improved_ci_low", "improved_ci_high", "deteriorated_ci_low",
             "deteriorated_ci_high"), labels, strict=True)
    ]
    columns += [
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
        Column("reliably_improved", t(reliably_up, language), COUNT),
        Column("reliably_deteriorated", t(reliably_down, language), COUNT),
        Column("wilcoxon_method", t(N_("Wilcoxon method (SciPy)"), language), TEXT),
    ]
    table = Table(
        "paired-statistics",
        t(N_("Intervals, effect size and reliable change, end of the intervention to {wave}")
          if ehd_words(paired) else
          N_("Intervals, effect size and reliable change, stored value to {wave}"),
          language, wave=follow_up_name(paired)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs in the change table."), language),
    )
    methods: dict[str, str] = {}
    for measure, m in scale_measures(paired).items():
        hl = m.get("hodges_lehmann") or {}
        mean_ci = m.get("mean_change_ci") or {}
        rc = m.get("reliable_change") or {}
        table.rows.append(Row(measure, measure_name(measure, language, paired), {
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
            table.notes.append(f"{t(label, language)}: {method_text(methods[key], language)}.")
    table.notes.append(t(N_("Reliable change: a change of at least the threshold, up or down, "
                            "counted separately; smaller changes may be measurement error. "
                            "Thresholds are a study setting."), language))
    return table


def before_after_table(paired: dict, language: str) -> Table:
    ehd = ehd_words(paired)
    columns = [
        Column("n", t(N_("Pairs"), language), COUNT),
        Column("baseline_mean", t(N_("Mean at the end of the intervention") if ehd else
                                  N_("Mean of the stored values"), language), NUMBER, 2),
        Column("follow_up_mean", t(N_("Mean at follow-up"), language), NUMBER, 2),
        Column("baseline_median", t(N_("Median at the end of the intervention") if ehd else
                                    N_("Median of the stored values"), language), NUMBER, 1),
        Column("follow_up_median", t(N_("Median at follow-up"), language), NUMBER, 1),
    ]
    table = Table(
        "paired-before-after",
        t(N_("Scores before and after: end of the intervention and {wave}, same clients")
          if ehd else N_("Scores before and after: stored value and {wave}, same clients"),
          language, wave=follow_up_name(paired)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs in the change table."), language),
    )
    for measure, m in scale_measures(paired).items():
        table.rows.append(Row(measure, measure_name(measure, language, paired), {
            "n": m["n"], "baseline_mean": m.get("baseline_mean"),
            "follow_up_mean": m.get("follow_up_mean"),
            "baseline_median": m.get("baseline_median"),
            "follow_up_median": m.get("follow_up_median"),
        }))
        table.mirror[(measure, "n")] = ("paired-change", (measure, "n"))
        table.blocks.append(_rests_on_pairs(table, measure, m["n"]))
    return table


def _answer(m: dict, better: bool, language: str) -> str:
    """The better answer of a yes/no measure (or the other one), as a reader sees it."""
    value = m.get("better", "yes")
    if not better:
        value = "no" if value == "yes" else "yes"
    return t(ANSWERS[value], language)


def binary_tables(paired: dict, language: str) -> list[Table]:
    """Yes/no measures with a baseline: one 2x2 of before and after per measure, then one row
    per measure with the change, the exact McNemar test and the paired difference."""
    measures = {k: m for k, m in paired["measures"].items() if _paired_binary(m)}
    if not measures:
        return []
    wave = follow_up_name(paired)
    tables = []
    for key, m in measures.items():
        cells = m.get("table") or {}
        better, other = _answer(m, True, language), _answer(m, False, language)
        grid = [[cells.get("before_better_after_better"), cells.get("before_better_after_worse")],
                [cells.get("before_worse_after_better"), cells.get("before_worse_after_worse")]]
        table = Table(
            f"paired-binary-{key}",
            t(N_("{measure}: answers at the start and at {wave}, same clients"), language,
              measure=measure_name(key, language, paired), wave=wave),
            t(N_("Answer at the start"), language),
            [Column("after_better", t(N_("{answer} at follow-up (the better answer)"), language,
                                      answer=better), COUNT),
             Column("after_worse", t(N_("{answer} at follow-up"), language, answer=other),
                    COUNT),
             Column(TOTAL_COLUMN, t(N_("Total"), language), COUNT)],
            [Row("before_better", t(N_("{answer} at the start (the better answer)"), language,
                                    answer=better),
                 {"after_better": grid[0][0], "after_worse": grid[0][1],
                  TOTAL_COLUMN: m.get("before_better")}),
             Row("before_worse", t(N_("{answer} at the start"), language, answer=other),
                 {"after_better": grid[1][0], "after_worse": grid[1][1],
                  TOTAL_COLUMN: _minus(m["n"], m.get("before_better"))}),
             Row(TOTAL_COLUMN, t(N_("Total (base)"), language),
                 {"after_better": m.get("after_better"),
                  "after_worse": _minus(m["n"], m.get("after_better")),
                  TOTAL_COLUMN: m["n"]}, kind="total")],
            base=m["n"] if isinstance(m["n"], int) else None,
            base_text=t(N_("Base: the {n} responses to {wave} linked to a client with an answer "
                           "recorded at the start and an answer at follow-up."), language,
                        n=m["n"], wave=wave),
        )
        table.blocks.append(TwoWay(
            ((("before_better", "after_better"), ("before_better", "after_worse")),
             (("before_worse", "after_better"), ("before_worse", "after_worse"))),
            (("before_better", TOTAL_COLUMN), ("before_worse", TOTAL_COLUMN)),
            ((TOTAL_COLUMN, "after_better"), (TOTAL_COLUMN, "after_worse")),
            (TOTAL_COLUMN, TOTAL_COLUMN),
        ))
        table.blocks.append(RestsOn(m["n"] if isinstance(m["n"], int) else None,
                                    tuple((r.key, c.key) for r in table.rows
                                          for c in table.columns)))
        table.text_numbers.append(((TOTAL_COLUMN, TOTAL_COLUMN), m["n"]))
        tables.append(table)
    tables.append(binary_summary_table(paired, measures, language))
    shares = binary_shares_table(paired, measures, language)
    if shares is not None:
        tables.append(shares)
    return tables


# The two groups a publication sets side by side, and the words for each.
SHARE_GROUPS = (
    ("baseline_all_participants", "baseline", N_("At baseline, all participants with a value")),
    ("follow_up_all_respondents", "follow_up", N_("At follow-up, everyone who answered")),
)


def binary_shares_table(paired: dict, measures: dict, language: str) -> Table | None:
    """Yes among all participants with a baseline (every status) and among everyone who
    answered the follow-up: the published style of comparison, with its counts and Wilson
    intervals. Two different groups, said in a note and in each measure's caveats."""
    measures = {k: m for k, m in measures.items()
                if isinstance(m.get("baseline_all_participants"), dict)}
    if not measures:
        return None
    columns = []
    for _, prefix, label in SHARE_GROUPS:
        group = t(label, language)
        for key, text, kind, decimals in (
            ("n", N_("{group}: number"), COUNT, 0),
            ("yes", N_("{group}: yes"), COUNT, 0),
            ("no", N_("{group}: no"), COUNT, 0),
            ("percent", N_("{group}: per cent yes"), PERCENT, 0),
            ("ci_low", N_("{group}: 95% interval, lower per cent"), NUMBER, 1),
            ("ci_high", N_("{group}: 95% interval, upper per cent"), NUMBER, 1),
        ):
            columns.append(Column(f"{prefix}_{key}", t(text, language, group=group), kind,
                                  decimals))
    table = Table(
        "paired-binary-shares",
        t(N_("Share answering yes: all participants at baseline vs everyone who answered at "
             "follow-up"), language),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: at baseline, every participant of the study with a value "
                       "stored, whatever their status; at follow-up, every linked response to "
                       "{wave} that answered the question."), language,
                    wave=follow_up_name(paired)),
    )
    for key, m in measures.items():
        cells: dict[str, Any] = {}
        for group_key, prefix, _ in SHARE_GROUPS:
            g = m[group_key]
            cells.update({f"{prefix}_n": g.get("n"), f"{prefix}_yes": g.get("yes"),
                          f"{prefix}_no": _minus(g.get("n"), g.get("yes")),
                          f"{prefix}_ci_low": _pct(g.get("ci_low")),
                          f"{prefix}_ci_high": _pct(g.get("ci_high"))})
        table.rows.append(Row(key, measure_name(key, language, paired), cells))
        for group_key, prefix, _ in SHARE_GROUPS:
            table.blocks.append(OneWay(((key, f"{prefix}_yes"), (key, f"{prefix}_no")),
                                       (key, f"{prefix}_n")))
            table.add_percent(key, f"{prefix}_yes", f"{prefix}_percent", (key, f"{prefix}_n"))
            for end in ("ci_low", "ci_high"):
                table.blocks.append(Derived((key, f"{prefix}_{end}"),
                                            ((key, f"{prefix}_yes"), (key, f"{prefix}_no"))))
            n = m[group_key].get("n")
            table.blocks.append(RestsOn(n if isinstance(n, int) else None, tuple(
                (key, c.key) for c in columns if c.key.startswith(f"{prefix}_"))))
    # No counts in the text: notes are not cells, so the disclosure rule could not hide them.
    table.notes.append(t(N_(
        "At baseline: every participant of the study with a value stored, whatever became of "
        "them (completed, dropped out or still in progress). At follow-up: everyone linked to "
        "the study who answered the question. These are two different groups, so the "
        "difference between the two shares is not the change in the same people: the paired "
        "change compares each person with themselves."), language))
    table.notes.append(t(N_("Intervals: Wilson score intervals "
                            "(scipy.stats.binomtest(...).proportion_ci, method='wilson')."),
                         language))
    return table


def _minus(total: Any, part: Any) -> Any:
    return total - part if isinstance(total, int) and isinstance(part, int) else None


def binary_summary_table(paired: dict, measures: dict, language: str) -> Table:
    columns = [Column("n", t(N_("Pairs"), language), COUNT)]
    for key, label in (("before_better", N_("Better answer at the start")),
                       ("after_better", N_("Better answer at follow-up"))):
        columns.append(Column(key, t(N_("{direction}: number"), language,
                                     direction=t(label, language)), COUNT))
        columns.append(Column(f"{key}_percent", t(N_("{direction}: per cent"), language,
                                                  direction=t(label, language)), PERCENT))
    for key, label in TOWARDS_BETTER:
        columns.append(Column(key, t(N_("{direction}: number"), language,
                                     direction=t(label, language)), COUNT))
        columns.append(Column(f"{key}_percent", t(N_("{direction}: per cent"), language,
                                                  direction=t(label, language)), PERCENT))
    columns += [
        Column("mcnemar_p", t(N_("McNemar exact p"), language), NUMBER, 3, p_value=True),
        Column("difference", t(N_("Difference in the per cent at the better answer (follow-up "
                                  "minus start, percentage points)"), language), NUMBER, 1),
        Column("difference_ci_low", t(N_("Difference: 95% interval, lower"), language),
               NUMBER, 1),
        Column("difference_ci_high", t(N_("Difference: 95% interval, upper"), language),
               NUMBER, 1),
        Column("difference_method", t(N_("Interval method"), language), TEXT),
    ]
    wave = follow_up_name(paired)
    table = Table(
        "paired-binary",
        t(N_("Yes/no answers: change from the start to {wave}"), language, wave=wave),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs in each measure's table of answers at the start and "
                       "at follow-up."), language),
    )
    methods: dict[str, str] = {}
    for key, m in measures.items():
        diff = m.get("difference") or {}
        table.rows.append(Row(key, measure_name(key, language, paired), {
            "n": m["n"], "before_better": m.get("before_better"),
            "after_better": m.get("after_better"), "improved": m.get("improved"),
            "same": m.get("same"), "deteriorated": m.get("deteriorated"),
            "mcnemar_p": (m.get("mcnemar") or {}).get("p"),
            "difference": _pct(diff.get("estimate")),
            "difference_ci_low": _pct(diff.get("ci_low")),
            "difference_ci_high": _pct(diff.get("ci_high")),
            "difference_method": diff.get("method") or "",
        }))
        source = f"paired-binary-{key}"
        table.mirror.update({
            (key, "n"): (source, (TOTAL_COLUMN, TOTAL_COLUMN)),
            (key, "before_better"): (source, ("before_better", TOTAL_COLUMN)),
            (key, "after_better"): (source, (TOTAL_COLUMN, "after_better")),
            (key, "improved"): (source, ("before_worse", "after_better")),
            (key, "deteriorated"): (source, ("before_better", "after_worse")),
        })
        table.blocks.append(OneWay(tuple((key, k) for k, _ in TOWARDS_BETTER), (key, "n")))
        table.blocks.append(Independent(((key, "before_better"), (key, "after_better"))))
        for k in ("before_better", "after_better", "improved", "same", "deteriorated"):
            table.add_percent(key, k, f"{k}_percent", (key, "n"))
        # The difference is (improved - deteriorated) / n: it gives back either count.
        for k in ("difference", "difference_ci_low", "difference_ci_high"):
            table.blocks.append(Derived((key, k), ((key, "improved"), (key, "deteriorated"))))
        table.blocks.append(_rests_on_pairs(table, key, m["n"]))
        for name, method in (m.get("methods") or {}).items():
            methods.setdefault(name, method)
    names = {"mcnemar": N_("McNemar test"),
             "difference": N_("Interval for the difference in per cents")}
    for key, label in names.items():
        if key in methods:
            table.notes.append(f"{t(label, language)}: {method_text(methods[key], language)}.")
    table.notes.append(t(N_("Better and worse: the answer moved towards or away from the "
                            "measure's better answer. The McNemar test looks only at those "
                            "whose answer changed."), language))
    return table


def outcome_table(paired: dict, language: str) -> Table | None:
    """Questions asked at follow-up only: where people were then (not a change)."""
    measures = {k: m for k, m in paired["measures"].items() if _outcome(m)}
    if not measures:
        return None
    columns = [
        Column("n", t(N_("Answered"), language), COUNT),
        Column("better_count", t(N_("Better answer: number"), language), COUNT),
        Column("better_percent", t(N_("Better answer: per cent"), language), PERCENT),
        Column("other_count", t(N_("Other answer: number"), language), COUNT),
        Column("share_ci_low", t(N_("Better answer: 95% interval, lower per cent"), language),
               NUMBER, 1),
        Column("share_ci_high", t(N_("Better answer: 95% interval, upper per cent"), language),
               NUMBER, 1),
        Column("mean", t(N_("Mean"), language), NUMBER, 2),
        Column("median", t(N_("Median"), language), NUMBER, 1),
    ]
    table = Table(
        "paired-outcomes",
        t(N_("Asked at {wave} only: answers"), language, wave=follow_up_name(paired)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the responses to {wave} linked to a client that answered the "
                       "question."), language, wave=follow_up_name(paired)),
    )
    for key, m in measures.items():
        share = m.get("share") or {}
        binary = m.get("kind") == "binary"
        table.rows.append(Row(key, measure_name(key, language, paired), {
            "n": m["n"], "better_count": m.get("better_count") if binary else None,
            "other_count": _minus(m["n"], m.get("better_count")) if binary else None,
            "share_ci_low": _pct(share.get("ci_low")), "share_ci_high": _pct(share.get("ci_high")),
            "mean": m.get("mean"), "median": m.get("median"),
        }))
        if binary:
            table.blocks.append(OneWay(((key, "better_count"), (key, "other_count")),
                                       (key, "n")))
            for k in ("share_ci_low", "share_ci_high"):
                table.blocks.append(Derived((key, k), ((key, "better_count"),)))
        else:
            table.blocks.append(Independent(((key, "n"),)))
        table.add_percent(key, "better_count", "better_percent", (key, "n"))
        table.blocks.append(_rests_on_pairs(table, key, m["n"]))
    table.notes.append(t(N_("These questions were asked only at follow-up, so they show where "
                            "people were then, not whether they changed."), language))
    return table


def paired_section(
    session: Session, study: Study, wave: Wave, paired: dict, language: str,
    breakdown: Breakdown | None, dim, caveats_from: dict | None = None,
):
    from surveys.reports.evaluation import Section

    section = Section("paired", t(N_("Paired change: end of the intervention to {wave}")
                                  if ehd_words(paired) else
                                  N_("Paired change: stored value to {wave}"),
                                  language, wave=follow_up_name(paired)))
    if scale_measures(paired) or not paired["measures"]:
        section.tables += [change_table(paired, language), statistics_table(paired, language),
                           before_after_table(paired, language)]
    section.tables += binary_tables(paired, language)
    outcomes = outcome_table(paired, language)
    if outcomes is not None:
        section.tables.append(outcomes)
    if breakdown is not None:
        for measure in study.measures:
            if not measure.baseline:
                continue
            scale = measure.kind == "scale"
            words = directions(paired) if scale else TOWARDS_BETTER
            cats = [Category(k, t(label, language)) for k, label in words]
            counts = queries.paired_directions(session, wave, measure, dim)
            groups = breakdown.groups({g for g, _ in counts}, NOT_LINKED)
            by_value = defaultdict(list)  # one pass over the counts, not one per group
            for (v, c), n in counts.items():
                by_value[v].append((c, n))
            cells = {(g.key, c): n for g in groups for c, n in by_value.get(group_value(g), ())}
            section.tables.append(crosstab(
                f"paired-{measure.key}-by-{breakdown.key}",
                t(N_("{measure}: change by {breakdown}"), language,
                  measure=measure_name(measure.key, language, paired),
                  breakdown=breakdown.label.lower()),
                t(N_("Change"), language), cats, groups, cells, language=language,
                base_text=t(N_("Base: pairs with both scores.") if scale else
                            N_("Base: pairs with both answers."), language),
            ))
    # Caveats shared by every measure are said once; the others name their measure.
    per_measure = {m: p["caveats"] for m, p in (caveats_from or paired)["measures"].items()}
    shared = [c for c in next(iter(per_measure.values()), []) if
              all(c in cs for cs in per_measure.values())]
    section.caveats.extend(shared)
    for measure, caveats in per_measure.items():
        for caveat in caveats:
            if caveat not in shared:
                section.caveats.append(f"{measure_name(measure, language, paired)}: {caveat}")
    return section


# The paired report (contract JSON) for publication -------------------------------------


# Caveat parameters that are counts, and where the published count is.
_CAVEAT_COUNTS = {
    "n": lambda out, m: m["n"],
    "same": lambda out, m: m.get("same"),
    # Changed yes/no answers (binary caveats): n - same.
    "k": lambda out, m: SUPPRESSED if m.get("kind") == "binary" and SUPPRESSED in (
        m.get("improved"), m.get("deteriorated"), m.get("same")) else None,
    "unanswered": lambda out, m: m.get("unanswered"),
    "dropped": lambda out, m: m.get("dropped_pairs"),
    "unlinked": lambda out, m: out["unlinked"],
    "responses": lambda out, m: out["responses"],
}


def _published_caveats(out: dict, m: dict, language: str) -> list[str]:
    from analysis.caveats import Caveat
    from surveys.reports.paired_change import caveat_sentence

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


def _small(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= threshold


def _hide_share(m: dict, key: str) -> None:
    if isinstance(m.get(key), dict):
        m[key] = {k: (v if k == "method" else SUPPRESSED) for k, v in m[key].items()}


def _publish_scale(m: dict, threshold: int) -> None:
    shown = suppress_frequencies([m["improved"], m["same"], m["deteriorated"]], threshold)
    m["improved"], m["same"], m["deteriorated"] = shown.cells
    m["n"] = shown.total
    for key in ("improved", "deteriorated"):
        if m[key] == SUPPRESSED:
            _hide_share(m, f"{key}_share")
    if SUPPRESSED in shown.cells:
        m["sign_test"]["n"] = SUPPRESSED
        for key in ("n", "statistic", "w_plus", "w_minus"):
            m["wilcoxon"][key] = SUPPRESSED
    rc = m.get("reliable_change")
    if rc:
        for key in ("reliably_improved", "reliably_deteriorated"):
            if _small(rc[key], threshold):
                rc[key] = SUPPRESSED
    if _small(m.get("extreme_baselines"), threshold):
        m["extreme_baselines"] = SUPPRESSED


# The 2x2 of a yes/no measure: (row, column) of each cell of its "table".
_BINARY_CELLS = {
    "before_better_after_better": (0, 0), "before_better_after_worse": (0, 1),
    "before_worse_after_better": (1, 0), "before_worse_after_worse": (1, 1),
}


def _publish_binary(m: dict, threshold: int) -> None:
    """The 2x2 with the cell rule (and its margins), and every count or share it gives back."""
    from analysis.disclosure import suppress

    cells = m["table"]
    grid = [[0, 0], [0, 0]]
    for key, (r, c) in _BINARY_CELLS.items():
        grid[r][c] = cells[key]
    shown = suppress(grid, threshold)
    for key, (r, c) in _BINARY_CELLS.items():
        cells[key] = shown.cells[r][c]
    m["before_better"] = shown.row_totals[0]
    m["after_better"] = m["better_count"] = shown.column_totals[0]
    directions = suppress_frequencies([m["improved"], m["same"], m["deteriorated"]], threshold)
    hidden = {k for k, v in zip(("improved", "same", "deteriorated"), directions.cells,
                                strict=True) if v == SUPPRESSED}
    if cells["before_worse_after_better"] == SUPPRESSED:
        hidden.add("improved")
    if cells["before_better_after_worse"] == SUPPRESSED:
        hidden.add("deteriorated")
    if SUPPRESSED in (cells["before_better_after_better"], cells["before_worse_after_worse"]):
        hidden.add("same")
    if hidden and len(hidden) == 1:  # n and two of the three would give the third back
        hidden.add("same" if "same" not in hidden else "improved")
    for key in hidden:
        m[key] = SUPPRESSED
    if directions.total == SUPPRESSED or shown.grand_total == SUPPRESSED:
        m["n"] = SUPPRESSED
    for key, share in (("improved", "improved_share"), ("deteriorated", "deteriorated_share"),
                       ("before_better", "before_share"), ("after_better", "after_share")):
        if m[key] == SUPPRESSED:
            _hide_share(m, share)
    if {"improved", "deteriorated"} & hidden:
        # The difference is (improved - deteriorated) / n, and the test counts both.
        if m.get("mcnemar"):
            m["mcnemar"]["n"] = SUPPRESSED
        if m.get("difference"):
            for key in ("estimate", "ci_low", "ci_high", "phi"):
                m["difference"][key] = SUPPRESSED
    for key in ("baseline_all", "follow_up_all"):
        everyone = m.get(key)
        if isinstance(everyone, dict) and (
                _small(everyone.get("count"), threshold)
                or _small(_minus(everyone.get("n"), everyone.get("count")), threshold)):
            m[key] = {k: (v if k == "method" else SUPPRESSED) for k, v in everyone.items()}
    for key in ("baseline_all_participants", "follow_up_all_respondents"):
        group = m.get(key)
        if not isinstance(group, dict):
            continue
        if _small(group.get("yes"), threshold) or _small(_minus(group.get("n"),
                                                                group.get("yes")), threshold):
            group.update({k: SUPPRESSED for k in ("yes", "share_yes", "ci_low", "ci_high",
                                                  "percent_yes")})
        statuses = group.get("by_status")
        if isinstance(statuses, dict) and statuses:
            # The statuses add up to n: the frequency rule, as for any one-way table.
            shown = suppress_frequencies(list(statuses.values()), threshold)
            group["by_status"] = dict(zip(statuses, shown.cells, strict=True))
            if shown.total == SUPPRESSED:
                group.update({k: SUPPRESSED for k in ("n", "yes", "share_yes", "ci_low",
                                                      "ci_high", "percent_yes")})


def _publish_outcome(m: dict, threshold: int) -> None:
    if m.get("kind") == "binary":
        shown = suppress_frequencies([m["better_count"], _minus(m["n"], m["better_count"])],
                                     threshold)
        m["better_count"] = shown.cells[0]
        m["n"] = shown.total
        if m["better_count"] == SUPPRESSED:
            _hide_share(m, "share")
    elif _small(m["n"], threshold):
        m["n"] = SUPPRESSED
    if _small(m.get("unanswered"), threshold):
        m["unanswered"] = SUPPRESSED


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
        if _outcome(m):
            _publish_outcome(m, threshold)
        elif m.get("kind") == "binary":
            _publish_binary(m, threshold)
        else:
            _publish_scale(m, threshold)
        if isinstance(m.get("dropped_pairs"), int) and 1 <= m["dropped_pairs"] <= threshold:
            m["dropped_pairs"] = SUPPRESSED
    for m in out["measures"].values():
        if m.get("caveat_params") is not None:
            m["caveats"] = _published_caveats(out, m, language)
            m["caveat_params"] = m.pop("caveat_params_published", [])
    if "arms" in out:  # the same rule within each arm, and on the comparison
        from surveys.reports.arms import publish_arms

        publish_arms(out, threshold, rule, language)
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
_SETTINGS = frozenset({"threshold", "confidence", "kind", "method", "zero_method", "methods",
                       "better", "baseline", "label", "min_value", "max_value"})


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
    from surveys.reports.kept import kept_for

    kept = kept_for(session, study.id)
    if kept:
        return kept.total("people")
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
    if "arms" in out:  # the same rule within each arm, and on the comparison
        from surveys.reports.arms import evaluator_arms

        evaluator_arms(out, threshold, language)
    return out
