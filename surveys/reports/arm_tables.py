"""The comparison of a study's arms as report tables, for the page and the spreadsheet.

The numbers come from the paired report's `comparison`, `arm_response` and `arms` keys
(surveys.reports.arms, statistics from analysis.arms); this module only lays them out:

- per yes/no measure the 2x2 of arm by answer (the better answer or not), with shares;
- one row per yes/no measure: each arm's share at the better answer with its interval
  (the arms chart draws these), Fisher's exact test, the risk difference and risk ratio
  with their intervals and the methods named;
- one row per scale measure: each arm's n, mean and median (of the change when the
  measure has a baseline), the Mann-Whitney test with SciPy's method and continuity, the
  difference in means and the Hodges-Lehmann shift with their intervals;
- the arms at baseline, and the response rate by arm.

Tables record how their counts add up (surveys.reports.table blocks), so the evaluation
report's publication and evaluator copies hide small arms as every other table does. A
value already hidden in the JSON report ("[c]") is shown as it is.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from typing import Any

from analysis.disclosure import SUPPRESSED
from surveys.i18n import N_
from surveys.reports.build import t
from surveys.reports.methods import method_text
from surveys.reports.paired_tables import follow_up_name
from surveys.reports.table import (
    NOT_AVAILABLE,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    Derived,
    Independent,
    RestsOn,
    Row,
    Table,
    TwoWay,
)

TOTAL = "total"
ANSWERS = {"yes": N_("Yes"), "no": N_("No")}
BASIS = {
    "change": N_("Change from the stored value to follow-up"),
    "follow_up": N_("Answer at follow-up"),
    "baseline": N_("Stored value (baseline)"),
}


def has_arms(report: dict) -> bool:
    return bool(report.get("comparison_arms")) and isinstance(report.get("comparison"), dict)


def _arms(report: dict) -> tuple[str, str]:
    first, second = report["comparison_arms"][:2]
    return first, second


def _name(key: str, report: dict) -> str:
    entry = (report.get("measures") or {}).get(key) or {}
    return entry.get("label") or key


def _pct(value: Any) -> Any:
    """A share (0..1) as a per cent at full precision; None and "[c]" as they are."""
    if value is None or isinstance(value, str | bool):
        return value
    return 100 * value


def _minus(total: Any, part: Any) -> Any:
    return total - part if isinstance(total, int) and isinstance(part, int) else None


def _plus(*values: Any) -> Any:
    return sum(values) if all(isinstance(v, int) for v in values) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _level(entry: dict | None, key: str = "confidence") -> str:
    """The interval's confidence as people write it: "95%"."""
    value = (entry or {}).get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = 0.95
    return f"{100 * value:g}%"


def _better_answer(report: dict, key: str, better: bool, language: str) -> str:
    value = ((report.get("measures") or {}).get(key) or {}).get("better", "yes")
    if not better:
        value = "no" if value == "yes" else "yes"
    return t(ANSWERS.get(value, ANSWERS["yes"]), language)


def _percent(table: Table, row: str, count: str, percent: str, base: tuple[str, str]) -> None:
    """A whole per cent of a count (Table.add_percent); hidden ("[c]") when the count or
    its base is hidden in the JSON report."""
    table.add_percent(row, count, percent, base)
    if SUPPRESSED in (table.value(row, count), table.value(*base)):
        table.row(row).cells[percent] = SUPPRESSED


def _rests_on(table: Table, row: str, people: Any, columns: list[str]) -> None:
    table.blocks.append(RestsOn(_count(people), tuple((row, c) for c in columns)))


# Yes/no measures ---------------------------------------------------------------------


def binary_table(report: dict, key: str, language: str) -> Table:
    """The 2x2 of arm by answer at follow-up, with each arm's per cent at the better answer."""
    c = report["comparison"][key]
    first, second = _arms(report)
    arms = c.get("arms") or {}
    better, other = (_better_answer(report, key, True, language),
                     _better_answer(report, key, False, language))
    table = Table(
        f"comparison-binary-{key}",
        t(N_("{measure}: answers by arm"), language, measure=_name(key, report)),
        t(N_("Arm"), language),
        [Column("better", t(N_("{answer} (the better answer)"), language, answer=better)),
         Column("other", t(N_("{answer}"), language, answer=other)),
         Column(TOTAL, t(N_("Total"), language)),
         Column("better_percent", t(N_("Per cent at the better answer"), language), PERCENT),
         Column("ci_low", t(N_("{level} interval, lower per cent"), language,
                            level=_level(c.get("risk_difference"))), NUMBER, 1),
         Column("ci_high", t(N_("{level} interval, upper per cent"), language,
                             level=_level(c.get("risk_difference"))), NUMBER, 1)],
        [],
    )
    for arm in (first, second):
        a = arms.get(arm) or {}
        table.rows.append(Row(arm, arm, {
            "better": a.get("better"), "other": _minus(a.get("n"), a.get("better")),
            TOTAL: a.get("n"), "ci_low": _pct(a.get("ci_low")), "ci_high": _pct(a.get("ci_high")),
        }))
        if isinstance(a.get("better"), str):  # hidden in the JSON report: so is the rest
            table.row(arm).cells["other"] = a["better"]
    firsts, seconds = arms.get(first) or {}, arms.get(second) or {}
    table.rows.append(Row(TOTAL, t(N_("Both arms"), language), {
        "better": _plus(firsts.get("better"), seconds.get("better")),
        "other": _plus(_minus(firsts.get("n"), firsts.get("better")),
                       _minus(seconds.get("n"), seconds.get("better"))),
        TOTAL: _plus(firsts.get("n"), seconds.get("n")),
    }, kind="total"))
    table.blocks.append(TwoWay(
        (((first, "better"), (first, "other")), ((second, "better"), (second, "other"))),
        ((first, TOTAL), (second, TOTAL)),
        ((TOTAL, "better"), (TOTAL, "other")),
        (TOTAL, TOTAL),
    ))
    for row in (first, second, TOTAL):
        _percent(table, row, "better", "better_percent", (row, TOTAL))
    for arm in (first, second):
        for end in ("ci_low", "ci_high"):
            table.blocks.append(Derived((arm, end), ((arm, "better"), (arm, "other"))))
        _rests_on(table, arm, (arms.get(arm) or {}).get("n"),
                  ["better", "other", TOTAL, "better_percent", "ci_low", "ci_high"])
    total = _plus(firsts.get("n"), seconds.get("n"))
    table.base = _count(total)
    table.base_text = t(N_("Base: the responses to {wave} linked to a participant in either arm "
                           "that answered the question."), language, wave=follow_up_name(report))
    table.notes.append(t(N_("Intervals for each arm's per cent: Wilson score intervals."),
                         language))
    table.caveats.extend(c.get("caveats") or [])
    return table


def binary_summary_table(report: dict, keys: list[str], language: str) -> Table:
    """One row per yes/no measure: the arms side by side, Fisher's test, the risk difference
    and the risk ratio with their intervals (the arms chart's table alternative)."""
    first, second = _arms(report)
    comparison = report["comparison"]
    level = _level(next((comparison[k].get("risk_difference") for k in keys), None))
    columns: list[Column] = []
    for prefix, arm in (("first", first), ("second", second)):
        columns += [
            Column(f"{prefix}_n", t(N_("{arm}: answered"), language, arm=arm)),
            Column(f"{prefix}_better", t(N_("{arm}: better answer"), language, arm=arm)),
            Column(f"{prefix}_percent", t(N_("{arm}: per cent at the better answer"), language,
                                          arm=arm), PERCENT),
            Column(f"{prefix}_ci_low", t(N_("{arm}: {level} interval, lower per cent"), language,
                                         arm=arm, level=level), NUMBER, 1),
            Column(f"{prefix}_ci_high", t(N_("{arm}: {level} interval, upper per cent"),
                                          language, arm=arm, level=level), NUMBER, 1),
        ]
    columns += [
        Column("fisher_p", t(N_("Fisher's exact test p (two-sided)"), language), NUMBER, 3,
               p_value=True),
        Column("rd", t(N_("Risk difference ({first} minus {second}, percentage points)"),
                       language, first=first, second=second), NUMBER, 1),
        Column("rd_low", t(N_("Risk difference: {level} interval, lower"), language,
                           level=level), NUMBER, 1),
        Column("rd_high", t(N_("Risk difference: {level} interval, upper"), language,
                            level=level), NUMBER, 1),
        Column("rd_method", t(N_("Risk difference: interval method"), language), TEXT),
        Column("rr", t(N_("Risk ratio ({first} over {second})"), language, first=first,
                       second=second), NUMBER, 2),
        Column("rr_low", t(N_("Risk ratio: {level} interval, lower"), language, level=level),
               NUMBER, 2),
        Column("rr_high", t(N_("Risk ratio: {level} interval, upper"), language, level=level),
               NUMBER, 2),
        Column("rr_method", t(N_("Risk ratio: interval method"), language), TEXT),
    ]
    table = Table(
        "comparison-binary",
        t(N_("Yes/no measures: {first} compared with {second} at {wave}"), language,
          first=first, second=second, wave=follow_up_name(report)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: each measure's table of answers by arm."), language),
    )
    for key in keys:
        c = comparison[key]
        arms = c.get("arms") or {}
        rd, rr = c.get("risk_difference") or {}, c.get("risk_ratio") or {}
        cells: dict[str, Any] = {}
        for prefix, arm in (("first", first), ("second", second)):
            a = arms.get(arm) or {}
            cells.update({f"{prefix}_n": a.get("n"), f"{prefix}_better": a.get("better"),
                          f"{prefix}_ci_low": _pct(a.get("ci_low")),
                          f"{prefix}_ci_high": _pct(a.get("ci_high"))})
        cells.update({
            "fisher_p": (c.get("fisher") or {}).get("p"),
            "rd": _pct(rd.get("estimate")), "rd_low": _pct(rd.get("ci_low")),
            "rd_high": _pct(rd.get("ci_high")), "rd_method": rd.get("method") or "",
            "rr": rr.get("estimate"), "rr_low": rr.get("ci_low"), "rr_high": rr.get("ci_high"),
            "rr_method": rr.get("method") or "",
        })
        table.rows.append(Row(key, _name(key, report), cells))
        source = f"comparison-binary-{key}"
        counts = []
        for prefix, arm in (("first", first), ("second", second)):
            table.mirror[(key, f"{prefix}_n")] = (source, (arm, TOTAL))
            table.mirror[(key, f"{prefix}_better")] = (source, (arm, "better"))
            _percent(table, key, f"{prefix}_better", f"{prefix}_percent", (key, f"{prefix}_n"))
            for end in ("ci_low", "ci_high"):
                table.blocks.append(Derived((key, f"{prefix}_{end}"),
                                            ((key, f"{prefix}_better"), (key, f"{prefix}_n"))))
            counts += [(key, f"{prefix}_better"), (key, f"{prefix}_n")]
            _rests_on(table, key, (arms.get(arm) or {}).get("n"),
                      [col.key for col in columns if col.key.startswith(prefix)])
        stats = ["fisher_p", "rd", "rd_low", "rd_high", "rr", "rr_low", "rr_high"]
        for k in stats:  # worked out from all four counts: hidden with any of them
            table.blocks.append(Derived((key, k), tuple(counts)))
        smaller = [n for n in (_count((arms.get(a) or {}).get("n")) for a in (first, second))
                   if n is not None]
        _rests_on(table, key, min(smaller) if smaller else None, stats)
    methods = {}
    for key in keys:
        for name in ("fisher", "risk_difference", "risk_ratio"):
            method = (comparison[key].get(name) or {}).get("method")
            if method:
                methods.setdefault(name, method)
    table.notes.append(t(N_("Fisher's exact test is two-sided, on the 2x2 table of arm by "
                            "answer (scipy.stats.fisher_exact). The risk difference is the per "
                            "cent at the better answer in {first} minus that in {second}; the "
                            "risk ratio is the first share over the second."), language,
                         first=first, second=second))
    names = {"risk_difference": N_("Interval for the risk difference"),
             "risk_ratio": N_("Interval for the risk ratio")}
    for name, label in names.items():
        if name in methods:
            table.notes.append(f"{t(label, language)}: {method_text(methods[name], language)}.")
    return table


# Scale measures ----------------------------------------------------------------------


def _mw_method(mw: dict, language: str) -> str:
    method = mw.get("method")
    if not method:
        return ""
    continuity = mw.get("use_continuity")
    if continuity is None:
        return str(method)
    return t(N_("method={method}, use_continuity={continuity}"), language, method=method,
             continuity=continuity)


def scale_table(report: dict, keys: list[str], language: str) -> Table:
    first, second = _arms(report)
    comparison = report["comparison"]
    level = _level(next((comparison[k].get("mean_difference") for k in keys), None))
    columns = [Column("basis", t(N_("Compared"), language), TEXT)]
    for prefix, arm in (("first", first), ("second", second)):
        columns += [
            Column(f"{prefix}_n", t(N_("{arm}: number"), language, arm=arm)),
            Column(f"{prefix}_mean", t(N_("{arm}: mean"), language, arm=arm), NUMBER, 2),
            Column(f"{prefix}_median", t(N_("{arm}: median"), language, arm=arm), NUMBER, 1),
        ]
    columns += [
        Column("mw_p", t(N_("Mann-Whitney U test p (two-sided)"), language), NUMBER, 3,
               p_value=True),
        Column("mw_method", t(N_("Mann-Whitney method (SciPy)"), language), TEXT),
        Column("md", t(N_("Difference in means ({first} minus {second})"), language,
                       first=first, second=second), NUMBER, 2),
        Column("md_low", t(N_("Difference in means: {level} interval, lower"), language,
                           level=level), NUMBER, 2),
        Column("md_high", t(N_("Difference in means: {level} interval, upper"), language,
                            level=level), NUMBER, 2),
        Column("md_method", t(N_("Difference in means: interval method"), language), TEXT),
        Column("hl", t(N_("Hodges-Lehmann shift ({first} minus {second})"), language,
                       first=first, second=second), NUMBER, 2),
        Column("hl_low", t(N_("Hodges-Lehmann: interval, lower"), language), NUMBER, 2),
        Column("hl_high", t(N_("Hodges-Lehmann: interval, upper"), language), NUMBER, 2),
        Column("hl_confidence", t(N_("Hodges-Lehmann: confidence achieved, per cent"),
                                  language), NUMBER, 1),
        Column("hl_method", t(N_("Hodges-Lehmann: interval method"), language), TEXT),
    ]
    table = Table(
        "comparison-scale",
        t(N_("Scale measures: {first} compared with {second} at {wave}"), language,
          first=first, second=second, wave=follow_up_name(report)),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: each arm's responses to {wave} linked to a participant, with a "
                       "stored value and a follow-up answer when the measure has a baseline "
                       "(its change is compared), else with a follow-up answer."), language,
                    wave=follow_up_name(report)),
    )
    for key in keys:
        c = comparison[key]
        arms = c.get("arms") or {}
        mw = c.get("mann_whitney") or {}
        md, hl = c.get("mean_difference") or {}, c.get("hodges_lehmann") or {}
        cells: dict[str, Any] = {"basis": t(BASIS.get(c.get("basis"), BASIS["follow_up"]),
                                            language)}
        for prefix, arm in (("first", first), ("second", second)):
            a = arms.get(arm) or {}
            cells.update({f"{prefix}_n": a.get("n"), f"{prefix}_mean": a.get("mean"),
                          f"{prefix}_median": a.get("median")})
        cells.update({
            "mw_p": mw.get("p"), "mw_method": _mw_method(mw, language),
            "md": md.get("estimate"), "md_low": md.get("ci_low"), "md_high": md.get("ci_high"),
            "md_method": md.get("method") or "",
            "hl": hl.get("estimate"), "hl_low": hl.get("ci_low"), "hl_high": hl.get("ci_high"),
            "hl_confidence": _pct(hl.get("achieved_confidence")),
            "hl_method": hl.get("method") or "",
        })
        table.rows.append(Row(key, _name(key, report), cells))
        table.blocks.append(Independent(((key, "first_n"), (key, "second_n"))))
        for prefix, arm in (("first", first), ("second", second)):
            for k in ("mean", "median"):
                table.blocks.append(Derived((key, f"{prefix}_{k}"), ((key, f"{prefix}_n"),)))
            _rests_on(table, key, (arms.get(arm) or {}).get("n"),
                      [f"{prefix}_n", f"{prefix}_mean", f"{prefix}_median"])
        stats = ["mw_p", "md", "md_low", "md_high", "hl", "hl_low", "hl_high", "hl_confidence"]
        for k in stats:
            table.blocks.append(Derived((key, k), ((key, "first_n"), (key, "second_n"))))
        smaller = [n for n in (_count((arms.get(a) or {}).get("n")) for a in (first, second))
                   if n is not None]
        _rests_on(table, key, min(smaller) if smaller else None, stats)
    table.notes.append(t(N_("For a measure with a baseline, each participant's change (follow-up "
                            "minus stored value) is compared between the arms; otherwise the "
                            "follow-up answers are. The Mann-Whitney U test is "
                            "scipy.stats.mannwhitneyu, two-sided, with the method and "
                            "continuity correction named in each row. The Hodges-Lehmann shift "
                            "is the median of all differences between a value in {first} and "
                            "one in {second}."), language, first=first, second=second))
    return table


# Baseline, response, caveats ---------------------------------------------------------


def baseline_table(report: dict, language: str) -> Table | None:
    """The arms at baseline, per measure with one: are they alike before the programme?"""
    first, second = _arms(report)
    rows = {k: c["baseline"] for k, c in report["comparison"].items()
            if isinstance(c.get("baseline"), dict)}
    if not rows:
        return None
    columns: list[Column] = []
    for prefix, arm in (("first", first), ("second", second)):
        columns += [
            Column(f"{prefix}_n", t(N_("{arm}: number"), language, arm=arm)),
            Column(f"{prefix}_percent", t(N_("{arm}: per cent at the better answer"), language,
                                          arm=arm), NUMBER, 1),
            Column(f"{prefix}_mean", t(N_("{arm}: mean"), language, arm=arm), NUMBER, 2),
        ]
    columns += [Column("test", t(N_("Test"), language), TEXT),
                Column("p", t(N_("p (two-sided)"), language), NUMBER, 3, p_value=True)]
    table = Table(
        "comparison-baseline",
        t(N_("The arms at baseline: {first} compared with {second}"), language, first=first,
          second=second),
        t(N_("Measure"), language), columns, [],
        base_text=t(N_("Base: the pairs analysed in each arm, by their stored value."),
                    language),
    )
    for key, b in rows.items():
        arms = b.get("arms") or {}
        binary = b.get("kind", report["comparison"][key].get("kind")) == "binary"
        cells: dict[str, Any] = {}
        for prefix, arm in (("first", first), ("second", second)):
            a = arms.get(arm) or {}
            cells.update({f"{prefix}_n": a.get("n"),
                          f"{prefix}_percent": _pct(a.get("share")) if binary else None,
                          f"{prefix}_mean": None if binary else a.get("mean")})
        if binary:
            test = t(N_("Fisher's exact test"), language)
            p = (b.get("fisher") or {}).get("p")
        else:
            mw = b.get("mann_whitney") or {}
            test = t(N_("Mann-Whitney U test ({method})"), language,
                     method=_mw_method(mw, language) or "–")
            p = mw.get("p")
        cells.update({"test": test, "p": p})
        table.rows.append(Row(key, _name(key, report), cells))
        table.blocks.append(Independent(((key, "first_n"), (key, "second_n"))))
        for prefix, arm in (("first", first), ("second", second)):
            for k in ("percent", "mean"):
                table.blocks.append(Derived((key, f"{prefix}_{k}"), ((key, f"{prefix}_n"),)))
            _rests_on(table, key, (arms.get(arm) or {}).get("n"),
                      [f"{prefix}_n", f"{prefix}_percent", f"{prefix}_mean"])
        table.blocks.append(Derived((key, "p"), ((key, "first_n"), (key, "second_n"))))
        smaller = [n for n in (_count((arms.get(a) or {}).get("n")) for a in (first, second))
                   if n is not None]
        _rests_on(table, key, min(smaller) if smaller else None, ["p"])
    table.notes.append(t(N_("Arms that differ at baseline may differ at follow-up for that "
                            "reason alone."), language))
    return table


def response_table(report: dict, language: str) -> Table | None:
    """Who was surveyed and who answered, by arm: unequal response is attrition by arm."""
    response = report.get("arm_response")
    if not isinstance(response, dict) or not response.get("arms"):
        return None
    first, second = _arms(report)
    arms = response["arms"]
    table = Table(
        "comparison-response",
        t(N_("Response to {wave} by arm"), language, wave=follow_up_name(report)),
        t(N_("Arm"), language),
        [Column("responses", t(N_("Responded"), language)),
         Column("not_responded", t(N_("Did not respond"), language)),
         Column("surveyed", t(N_("Surveyed"), language)),
         Column("rate", t(N_("Response rate"), language), PERCENT)],
        [],
        base_text=t(N_("Base: the participants of each arm sent {wave}."), language,
                    wave=follow_up_name(report)),
    )
    for arm in (first, second):
        a = arms.get(arm) or {}
        table.rows.append(Row(arm, arm, {
            "responses": a.get("responses"), "surveyed": a.get("surveyed"),
            "not_responded": _minus(a.get("surveyed"), a.get("responses"))}))
    f, s = arms.get(first) or {}, arms.get(second) or {}
    table.rows.append(Row(TOTAL, t(N_("Both arms"), language), {
        "responses": _plus(f.get("responses"), s.get("responses")),
        "surveyed": _plus(f.get("surveyed"), s.get("surveyed")),
        "not_responded": _plus(_minus(f.get("surveyed"), f.get("responses")),
                               _minus(s.get("surveyed"), s.get("responses")))}, kind="total"))
    table.blocks.append(TwoWay(
        (((first, "responses"), (first, "not_responded")),
         ((second, "responses"), (second, "not_responded"))),
        ((first, "surveyed"), (second, "surveyed")),
        ((TOTAL, "responses"), (TOTAL, "not_responded")),
        (TOTAL, "surveyed"),
    ))
    for row in (first, second, TOTAL):
        _percent(table, row, "responses", "rate", (row, "surveyed"))
    table.base = _count(table.value(TOTAL, "surveyed"))
    p = (response.get("fisher") or {}).get("p")
    if p is not None:
        from analysis.rounding import p_text

        shown = p if isinstance(p, str) else p_text(p)
        table.notes.append(t(N_("Fisher's exact test of response by arm (two-sided): p = {p}."),
                             language, p=shown))
    return table


def caveats(report: dict) -> list[str]:
    """The comparison's caveats, then each measure's own, naming its measure."""
    out = list(report.get("comparison_caveats") or [])
    for key, c in report["comparison"].items():
        for sentence in c.get("caveats") or []:
            line = f"{_name(key, report)}: {sentence}"
            if sentence not in out and line not in out:
                out.append(line)
    return out


def comparison_tables(report: dict, language: str) -> list[Table]:
    """Every table of the comparison, in reading order; none for a study without arms."""
    if not has_arms(report):
        return []
    comparison = report["comparison"]
    binary = [k for k, c in comparison.items() if c.get("kind") == "binary"]
    scale = [k for k, c in comparison.items() if c.get("kind") == "scale"]
    tables: list[Table] = []
    if binary:
        tables.append(binary_summary_table(report, binary, language))
        tables += [binary_table(report, k, language) for k in binary]
    if scale:
        tables.append(scale_table(report, scale, language))
    for extra in (baseline_table(report, language), response_table(report, language)):
        if extra is not None:
            tables.append(extra)
    return tables


def intro(report: dict, language: str) -> str:
    first, second = _arms(report)
    return t(N_("{first} (the first arm) is compared with {second} (the second). Participants "
                "were allocated to the arms at random.") if report.get("randomised") else
             N_("{first} (the first arm) is compared with {second} (the second). Participants "
                "were not allocated to the arms at random, so the arms may differ in ways that "
                "affect the outcomes."), language, first=first, second=second)


def arm_reports(report: dict) -> list[tuple[str, dict]]:
    """The paired report within each arm, shaped as the page's per-measure tables read it."""
    out = []
    for arm, entry in (report.get("arms") or {}).items():
        if not isinstance(entry, dict):
            continue
        out.append((arm, {
            "follow_up": report["follow_up"], "follow_up_label": follow_up_name(report),
            "baseline_source": report.get("baseline_source", "end_of_intervention"),
            "responses": entry.get("responses"), "linked": entry.get("linked"), "unlinked": 0,
            "surveyed": entry.get("surveyed"), "measures": entry.get("measures") or {},
        }))
    return out


# The page's own rendering -------------------------------------------------------------
# The tables above are the spreadsheet's: one number a cell, every method in a column. The
# page shows the same figures compactly, as the per-measure tables do ("23.9 (19.7 to
# 28.8)"): an estimate and its interval in one cell, per cents to one decimal (half-up),
# the methods named once in the notes, and the wide summaries split in two.

FIGURES = "figures"  # a page column of pre-formatted figures (right-aligned, shown as is)


def _fmt(value: Any, decimals: int) -> str:
    """One figure rounded once, half-up, as the tables' formatter does; "[c]" as it is."""
    from analysis.rounding import half_up

    if isinstance(value, str):
        return value
    rounded = half_up(value, decimals) if _number(value) else None
    return NOT_AVAILABLE if rounded is None else f"{rounded:,.{decimals}f}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Fraction) and not isinstance(value, bool)


def _share(count: Any, base: Any) -> Any:
    """A per cent of a count, exactly (rounded only when shown); "[c]" when either is."""
    if SUPPRESSED in (count, base):
        return SUPPRESSED
    if _count(count) is None or not _count(base):
        return None
    return Fraction(100 * count, base)


def _estimate(value: Any, low: Any, high: Any, decimals: int,
              language: str = "en") -> str | None:
    """ "23.9 (19.7 to 28.8)" ("23.9 (19.7 i 28.8)" in Welsh); the estimate alone without its
    interval; None when none."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if low is None and high is None:
        return _fmt(value, decimals)
    return t(N_("{estimate} ({low} to {high})"), language, estimate=_fmt(value, decimals),
             low=_fmt(low, decimals), high=_fmt(high, decimals))


def _figures(key: str, label: str) -> Column:
    return Column(key, label, FIGURES)


def _methods_note(table: Table, label: str, by_key: dict[str, str], report: dict,
                  language: str) -> None:
    """Name a method once when every measure used the same, else per measure."""
    named = {k: m for k, m in by_key.items() if m}
    if not named:
        return
    if len(set(named.values())) == 1:
        table.notes.append(f"{t(label, language)}: {next(iter(named.values()))}.")
    else:
        each = "; ".join(f"{_name(k, report)}: {m}" for k, m in named.items())
        table.notes.append(f"{t(label, language)}: {each}.")


def _page_binary(report: dict, source: Table, language: str) -> list[Table]:
    """The yes/no summary as two narrow tables: each arm's per cent at the better answer
    (the chart's figures), then the differences between the arms."""
    first, second = _arms(report)
    comparison = report["comparison"]
    level = _level(next((comparison[r.key].get("risk_difference") for r in source.rows),
                        None))
    shares = Table(
        source.id,
        t(N_("Yes/no measures: per cent at the better answer in {first} and {second} at "
             "{wave}"), language, first=first, second=second, wave=follow_up_name(report)),
        source.row_header,
        [col for prefix, arm in (("first", first), ("second", second)) for col in (
            Column(f"{prefix}_n", t(N_("{arm}: answered"), language, arm=arm)),
            _figures(f"{prefix}_percent",
                     t(N_("{arm}: per cent at the better answer ({level} interval)"),
                       language, arm=arm, level=level)))],
        [], base_text=source.base_text,
        notes=[t(N_("Intervals for each arm's per cent: Wilson score intervals."), language)],
    )
    differences = Table(
        "comparison-differences-binary",
        source.title, source.row_header,
        [Column("fisher_p", t(N_("Fisher's exact test p (two-sided)"), language), NUMBER, 3,
                p_value=True),
         _figures("rd", t(N_("Risk difference, {first} minus {second}, percentage points "
                             "({level} interval)"), language, first=first, second=second,
                          level=level)),
         _figures("rr", t(N_("Risk ratio, {first} over {second} ({level} interval)"),
                          language, first=first, second=second, level=level))],
        [], base_text=source.base_text, notes=list(source.notes),
    )
    for row in source.rows:
        c = row.cells
        shares.rows.append(Row(row.key, row.label, {
            **{f"{p}_n": c.get(f"{p}_n") for p in ("first", "second")},
            **{f"{p}_percent": _estimate(_share(c.get(f"{p}_better"), c.get(f"{p}_n")),
                                         c.get(f"{p}_ci_low"), c.get(f"{p}_ci_high"), 1, language)
               for p in ("first", "second")}}))
        differences.rows.append(Row(row.key, row.label, {
            "fisher_p": c.get("fisher_p"),
            "rd": _estimate(c.get("rd"), c.get("rd_low"), c.get("rd_high"), 1, language),
            "rr": _estimate(c.get("rr"), c.get("rr_low"), c.get("rr_high"), 2, language)}))
    return [shares, differences]


def _page_two_by_two(report: dict, source: Table, language: str) -> Table:
    """A measure's answers by arm with each arm's per cent and its interval in one cell."""
    key = source.id.removeprefix("comparison-binary-")
    level = _level(report["comparison"][key].get("risk_difference"))
    table = Table(
        source.id, source.title, source.row_header,
        [*(col for col in source.columns if col.key in ("better", "other", TOTAL)),
         _figures("better_percent",
                  t(N_("Per cent at the better answer ({level} interval)"), language,
                    level=level))],
        [], base=source.base, base_text=source.base_text, notes=list(source.notes),
        caveats=list(source.caveats),
    )
    for row in source.rows:
        c = row.cells
        cells = {k: c.get(k) for k in ("better", "other", TOTAL)}
        cells["better_percent"] = _estimate(_share(c.get("better"), c.get(TOTAL)),
                                            c.get("ci_low"), c.get("ci_high"), 1, language)
        table.rows.append(Row(row.key, row.label, cells, kind=row.kind))
    return table


def _page_scale(report: dict, source: Table, language: str) -> list[Table]:
    """The scale summary as two narrow tables: each arm's number, mean and median, then the
    differences between the arms with their intervals; the methods in the notes."""
    first, second = _arms(report)
    comparison = report["comparison"]
    level = _level(next((comparison[r.key].get("mean_difference") for r in source.rows),
                        None))
    arms_table = Table(
        source.id,
        t(N_("Scale measures: number, mean and median in {first} and {second} at {wave}"),
          language, first=first, second=second, wave=follow_up_name(report)),
        source.row_header,
        [col for col in source.columns if col.key.split("_", 1)[-1] in ("n", "mean", "median")],
        [], base_text=source.base_text,
    )
    _methods_note(arms_table, N_("Compared"), {r.key: r.cells.get("basis") for r in source.rows},
                  report, language)
    differences = Table(
        "comparison-differences-scale", source.title, source.row_header,
        [Column("mw_p", t(N_("Mann-Whitney U test p (two-sided)"), language), NUMBER, 3,
                p_value=True),
         _figures("md", t(N_("Difference in means, {first} minus {second} ({level} "
                             "interval)"), language, first=first, second=second,
                          level=level)),
         _figures("hl", t(N_("Hodges-Lehmann shift, {first} minus {second} (interval)"),
                          language, first=first, second=second)),
         Column("hl_confidence", t(N_("Hodges-Lehmann: confidence achieved, per cent"),
                                   language), NUMBER, 1)],
        [], base_text=source.base_text, notes=list(source.notes),
    )
    keep = {col.key for col in arms_table.columns}
    for row in source.rows:
        c = row.cells
        arms_table.rows.append(Row(row.key, row.label, {k: c.get(k) for k in keep}))
        differences.rows.append(Row(row.key, row.label, {
            "mw_p": c.get("mw_p"),
            "md": _estimate(c.get("md"), c.get("md_low"), c.get("md_high"), 2, language),
            "hl": _estimate(c.get("hl"), c.get("hl_low"), c.get("hl_high"), 2, language),
            "hl_confidence": c.get("hl_confidence")}))
    for column, label in (("mw_method", N_("Mann-Whitney method (SciPy)")),
                          ("md_method", N_("Difference in means: interval method")),
                          ("hl_method", N_("Hodges-Lehmann: interval method"))):
        _methods_note(differences, label, {r.key: r.cells.get(column) for r in source.rows},
                      report, language)
    return [arms_table, differences]


def _page_percent(source: Table) -> Table:
    """A table whose per cent column (whole per cents for the spreadsheet) the page shows to
    one decimal ("75.3%"), worked out again from its counts."""
    percents = {col.key for col in source.columns if col.kind == PERCENT}
    table = Table(source.id, source.title, source.row_header,
                  [_figures(col.key, col.label) if col.key in percents else col
                   for col in source.columns],
                  [], base=source.base, base_text=source.base_text, notes=list(source.notes),
                  caveats=list(source.caveats))
    for row in source.rows:
        cells = dict(row.cells)
        if "rate" in percents:  # the response table: responses of those surveyed
            share = _share(cells.get("responses"), cells.get("surveyed"))
            cells["rate"] = (share if share is None or isinstance(share, str)
                             else f"{_fmt(share, 1)}%")
        table.rows.append(Row(row.key, row.label, cells, kind=row.kind))
    return table


def _page_baseline(report: dict, source: Table, language: str) -> Table:
    """The arms at baseline in six columns: per arm its number and its per cent at the better
    answer (yes/no) or mean (scale), then the test's p; the tests named in the notes."""
    first, second = _arms(report)
    table = Table(
        source.id, source.title, source.row_header,
        [col for prefix, arm in (("first", first), ("second", second)) for col in (
            Column(f"{prefix}_n", t(N_("{arm}: number"), language, arm=arm)),
            _figures(f"{prefix}_value", t(N_("{arm}: per cent at the better answer, or mean"),
                                          language, arm=arm)))]
        + [col for col in source.columns if col.key == "p"],
        [], base_text=source.base_text, notes=list(source.notes),
    )
    for row in source.rows:
        c = row.cells
        entry = report["comparison"][row.key]
        binary = (entry.get("baseline") or {}).get("kind", entry.get("kind")) == "binary"
        cells = {"p": c.get("p")}
        for prefix in ("first", "second"):
            cells[f"{prefix}_n"] = c.get(f"{prefix}_n")
            cells[f"{prefix}_value"] = (_estimate(c.get(f"{prefix}_percent"), None, None, 1)
                                        if binary else
                                        _estimate(c.get(f"{prefix}_mean"), None, None, 2))
        table.rows.append(Row(row.key, row.label, cells))
    _methods_note(table, N_("Test"), {r.key: r.cells.get("test") for r in source.rows},
                  report, language)
    return table


def page_tables(report: dict, language: str) -> list[dict]:
    """The comparison's tables as the page shows them (see above)."""
    out: list[Table] = []
    for table in comparison_tables(report, language):
        if table.id == "comparison-binary":
            out += _page_binary(report, table, language)
        elif table.id.startswith("comparison-binary-"):
            out.append(_page_two_by_two(report, table, language))
        elif table.id == "comparison-scale":
            out += _page_scale(report, table, language)
        elif table.id == "comparison-response":
            out.append(_page_percent(table))
        elif table.id == "comparison-baseline":
            out.append(_page_baseline(report, table, language))
        else:
            out.append(table)
    return [table.to_dict() for table in out]


def page_model(report: dict, language: str) -> dict | None:
    """What the paired report page shows about arms; None for a study without them."""
    from surveys.reports import charts

    if not has_arms(report):
        return None
    tables = [table.to_dict() for table in comparison_tables(report, language)]
    holder = {"sections": [{"tables": tables}], "language": language, "paired": report}
    return {
        "intro": intro(report, language),
        "tables": page_tables(report, language),
        "charts": {"binary": charts.arms_binary(holder), "scale": charts.arms_scale(holder)},
        "caveats": caveats(report),
        "arms": arm_reports(report),
    }


def comparison_section(paired: dict, language: str, caveats_from: dict | None = None):
    """The evaluation report's section comparing the arms (its tables become worksheets)."""
    from surveys.reports.evaluation import Section

    first, second = _arms(paired)
    section = Section("comparison", t(N_("Comparison of arms: {first} and {second}"), language,
                                      first=first, second=second))
    section.notes.append(intro(paired, language))
    section.tables = comparison_tables(paired, language)
    source = caveats_from if caveats_from is not None and has_arms(caveats_from) else paired
    section.caveats = caveats(source)
    return section


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters (a longer word stays whole), at least one."""
    return textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False) or [""]
