"""Chart geometry for the report page: plain numbers for server-rendered SVG.

Two charts, each drawn from a table that the page also shows (its table alternative):
a diverging bar of lower / same / higher per measure (from the paired change table) and
a before-and-after chart of mean scores (from the before-and-after table). Colours come
from CSS classes; there is no script and no inline style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.disclosure import SUPPRESSED
from surveys.i18n import N_
from surveys.reports.build import t

# The paired charts: a narrow drawing (as the arms' charts below), the legend one item a
# line at the top, each measure's name (wrapped, never cut) on a line of its own above its
# bar, so at a phone's width (about 345px of page) 14-unit text is drawn at about 14px, and
# the width attribute lets it grow to SHOWN px on wider pages. Legend symbols are the marks'
# own shapes and classes.
WIDTH = 340
SHOWN = 480
PLOT_LEFT = 22  # room for half of the "100%" tick label
PLOT_RIGHT = WIDTH - 22
LABEL_CHARS = 36  # a measure's name wraps at this many characters
LEGEND_CHARS = 34
LINE = 18
BAR_HEIGHT = 24
POINT_HEIGHT = 20
VALUE_MIN_WIDTH = 36  # a segment's per cent is printed inside it when it is this wide


@dataclass
class Segment:
    x: float
    width: float
    css: str
    label: str  # printed inside when wide enough
    show_label: bool


@dataclass
class Bar:
    label: str
    y: float  # top of the bar
    lines: list[str] = field(default_factory=list)  # the label, wrapped
    text_y: float = 0.0  # baseline of the label's first line
    segments: list[Segment] = field(default_factory=list)


@dataclass
class LegendItem:
    css: str
    shape: str  # "rect" or "circle": the shape of the marks it explains
    lines: list[str]
    y: float  # baseline of the first line


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    height: float
    table_id: str
    bars: list[Bar] = field(default_factory=list)
    axis: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    legend_items: list[LegendItem] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    centre: float = 0.0
    plot_left: float = PLOT_LEFT
    plot_right: float = PLOT_RIGHT
    axis_bottom: float = 0.0
    width: int = WIDTH
    shown_width: int = SHOWN

    @property
    def shown_height(self) -> float:
        return round(self.height * self.shown_width / self.width, 1)


def _find(report: dict, table_id: str) -> dict | None:
    for section in report["sections"]:
        for table in section["tables"]:
            if table["id"] == table_id:
                return table
    return None


def _towards_better(report: dict, binary: bool) -> bool:
    """Whether the chart speaks of better and worse (a measure better lower, or yes/no)
    rather than higher and lower (the EHD's words)."""
    from surveys.reports.paired_tables import TOWARDS_BETTER, directions

    paired = report.get("paired") or {"measures": {}}
    return binary or directions(paired) is TOWARDS_BETTER


def _legend(chart: Chart, shapes: tuple[str, ...]) -> float:
    """Lay the legend out one item a line from the top; returns the y below it."""
    from surveys.reports.arm_tables import wrap

    y = 4.0
    for (css, label), shape in zip(chart.legend, shapes, strict=True):
        item = LegendItem(css, shape, wrap(label, LEGEND_CHARS), y + 14)
        chart.legend_items.append(item)
        y += len(item.lines) * LINE + 4
    return y + 8


def _rows(chart: Chart, labels: list[str], y: float, mark_height: float) -> list[tuple]:
    """Place each measure's name (wrapped) above its mark: (lines, text_y, mark_top)."""
    from surveys.reports.arm_tables import wrap

    placed = []
    for label in labels:
        lines = wrap(label, LABEL_CHARS)
        text_y = y + 14
        y += len(lines) * LINE + 4
        placed.append((lines, text_y, y))
        y += mark_height + 12
    chart.axis_bottom = y
    chart.height = round(y + 24, 1)
    return placed


def diverging(report: dict) -> Chart | None:
    """Lower (worse) to the left of the centre, higher (better) to the right, 'same' split
    across it: one bar per measure with a baseline, scale (paired change table) or yes/no."""
    table = _find(report, "paired-change")
    binary = _find(report, "paired-binary")
    rows = [*(table or {}).get("rows", []), *(binary or {}).get("rows", [])]
    if not rows:
        return None
    source = table if table is not None and table["rows"] else binary
    language = report["language"]
    keys = ("deteriorated_percent", "same_percent", "improved_percent")
    if any(not isinstance(row["cells"].get(k), int) for row in rows for k in keys):
        return None  # suppressed for publication or no pairs: the table says why
    towards = _towards_better(report, bool(binary and binary["rows"]))
    centre = (PLOT_LEFT + PLOT_RIGHT) / 2
    scale = (PLOT_RIGHT - PLOT_LEFT) / 200  # -100 % .. +100 %
    chart = Chart(
        "chart-paired-diverging",
        t(N_("Answers worse, the same and better at follow-up than at the start") if towards
          else N_("Scores lower, the same and higher at follow-up than at the end of the "
                  "intervention"), language),
        "", 0.0, source["id"], centre=centre,
    )
    chart.legend = [
        ("app-chart__lower", t(N_("Worse at follow-up") if towards
                               else N_("Lower at follow-up"), language)),
        ("app-chart__same", t(N_("Same"), language)),
        ("app-chart__higher", t(N_("Better at follow-up") if towards
                                else N_("Higher at follow-up"), language)),
    ]
    top = _legend(chart, ("rect", "rect", "rect"))
    placed = _rows(chart, [row["label"] for row in rows], top, BAR_HEIGHT)
    descriptions = []
    for row, (lines, text_y, y) in zip(rows, placed, strict=True):
        c = row["cells"]
        lower, same, higher = (c["deteriorated_percent"], c["same_percent"],
                               c["improved_percent"])
        bar = Bar(row["label"], y, lines, text_y)
        half = same * scale / 2
        for x, width, css, value in (
            (centre - half - lower * scale, lower * scale, "app-chart__lower", lower),
            (centre - half, same * scale, "app-chart__same", same),
            (centre + half, higher * scale, "app-chart__higher", higher),
        ):
            bar.segments.append(Segment(round(x, 1), round(width, 1), css, f"{value}%",
                                        width >= VALUE_MIN_WIDTH))
        chart.bars.append(bar)
        sentence = (N_("{measure}: {lower}% worse, {same}% the same, {higher}% better ({n} "
                       "pairs).") if towards else
                    N_("{measure}: {lower}% lower, {same}% the same, {higher}% higher ({n} "
                       "pairs)."))
        descriptions.append(t(sentence, language, measure=row["label"], lower=lower,
                              same=same, higher=higher, n=c["n"]))
    chart.desc = " ".join(descriptions)
    for pct in (-100, -50, 0, 50, 100):
        chart.axis.append((round(centre + pct * scale, 1), f"{abs(pct)}%"))
    return chart


def before_after(report: dict) -> Chart | None:
    """Mean score at the end of the intervention and at follow-up, joined, per measure."""
    table = _find(report, "paired-before-after")
    if table is None or not table["rows"]:
        return None
    language = report["language"]
    # One axis for every scale measure shown: from the lowest minimum to the highest maximum
    # of their scales (0 to 10 for the EHD).
    entries = [(report.get("paired") or {}).get("measures", {}).get(row["key"]) or {}
               for row in table["rows"]]
    low = min((m["min_value"] for m in entries if isinstance(m.get("min_value"), int)),
              default=0)
    high = max((m["max_value"] for m in entries if isinstance(m.get("max_value"), int)),
               default=10)
    high = high if high > low else low + 1
    scale = (PLOT_RIGHT - PLOT_LEFT) / (high - low)
    chart = Chart(
        "chart-paired-before-after",
        t(N_("Mean scores of the same clients at the end of the intervention and at "
             "follow-up"), language),
        "", 0.0, table["id"],
    )
    chart.legend = [
        ("app-chart__before", t(N_("End of the intervention"), language)),
        ("app-chart__after", t(N_("Follow-up"), language)),
    ]
    shown = []
    for row in table["rows"]:
        before, after = row["cells"].get("baseline_mean"), row["cells"].get("follow_up_mean")
        if before is None or after is None or SUPPRESSED in (before, after):
            continue
        shown.append((row["label"], before, after))
    if not shown:
        return None
    top = _legend(chart, ("circle", "rect"))
    descriptions = []
    placed = _rows(chart, [label for label, _, _ in shown], top, POINT_HEIGHT)
    for (label, before, after), (lines, text_y, y) in zip(shown, placed, strict=True):
        chart.points.append({
            "label": label, "lines": lines, "text_y": text_y, "y": y + POINT_HEIGHT / 2,
            "before_x": round(PLOT_LEFT + (before - low) * scale, 1),
            "after_x": round(PLOT_LEFT + (after - low) * scale, 1),
            "before": f"{before:.2f}", "after": f"{after:.2f}",
        })
        descriptions.append(t(N_("{measure}: mean {before} at the end of the intervention and "
                                 "{after} at follow-up."), language, measure=label,
                              before=f"{before:.2f}", after=f"{after:.2f}"))
    chart.desc = " ".join(descriptions)
    step = max(1, round((high - low) / 5))
    chart.axis = [(round(PLOT_LEFT + (v - low) * scale, 1), str(v))
                  for v in range(low, high + 1, step)]
    return chart


# The comparison of arms ----------------------------------------------------------------

# A narrow drawing, every label on a line of its own above its bar: at a phone's width
# (about 345px of page) it is drawn at about its own size, so 14-unit text reads at 14px or
# so; the width attribute lets it grow to ARMS_SHOWN px on wider pages (text about 20px).
ARMS_WIDTH = 340
ARMS_SHOWN = 480
ARMS_HEADING_CHARS = 34  # a measure's name (bold) wraps at this many characters
ARMS_LABEL_CHARS = 38  # an arm's name and value wrap at this many characters
ARMS_LINE = 18
ARMS_BAR = 20
ARMS_PLOT_LEFT = 14  # room for half of the "0%" tick label
ARMS_PLOT_RIGHT = ARMS_WIDTH - 22  # and of "100%"
ARMS_CSS = ("app-chart__first", "app-chart__second")


@dataclass
class ArmRow:
    """One arm's bar: its name and value (wrapped) above it, the bar and whisker."""

    lines: list[str]
    y: float  # baseline of the first line of text
    bar_y: float  # top of the bar
    bar_x: float
    bar_width: float
    css: str
    whisker: tuple[float, float] | None = None


@dataclass
class ArmGroup:
    lines: list[str]  # the measure's name, wrapped
    y: float  # baseline of its first line
    rows: list[ArmRow] = field(default_factory=list)


@dataclass
class ArmsChart:
    id: str
    title: str
    desc: str
    table_id: str
    height: float = 0.0
    width: int = ARMS_WIDTH
    shown_width: int = ARMS_SHOWN
    groups: list[ArmGroup] = field(default_factory=list)
    axis: list[tuple[float, str]] = field(default_factory=list)
    axis_bottom: float = 0.0
    zero: float | None = None  # x of the zero line (mean change)
    plot_left: float = ARMS_PLOT_LEFT
    plot_right: float = ARMS_PLOT_RIGHT
    caption: str = ""

    @property
    def shown_height(self) -> float:
        return round(self.height * self.shown_width / self.width, 1)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _arm_lines(arm: str, value: str) -> list[str]:
    """The arm's name, then its value on the same line when it fits, else on a line below."""
    from surveys.reports.arm_tables import wrap

    lines = wrap(f"{arm}:", ARMS_LABEL_CHARS)
    if len(lines[-1]) + 1 + len(value) <= ARMS_LABEL_CHARS:
        lines[-1] = f"{lines[-1]} {value}"
    else:
        lines += wrap(value, ARMS_LABEL_CHARS)
    return lines


def _layout(chart: ArmsChart, measures: list[tuple[str, list[tuple[str, float, str,
                                                                     tuple | None]]]],
            x_of) -> None:
    """Place each measure's name, then per arm its name and value over its bar; every label
    is wrapped so none is clipped, and the chart is sized to what it holds."""
    from surveys.reports.arm_tables import wrap

    y = 4.0
    for label, arms in measures:
        group = ArmGroup(wrap(label, ARMS_HEADING_CHARS), y + 14)
        y += len(group.lines) * ARMS_LINE + 4
        for i, (arm, value, text, whisker) in enumerate(arms):
            lines = _arm_lines(arm, text)
            first = y + 14
            y += len(lines) * ARMS_LINE + 4  # clear of the text's descenders
            start, end = sorted((x_of(0.0) if chart.zero is not None else chart.plot_left,
                                 x_of(value)))
            group.rows.append(ArmRow(
                lines, first, y, round(start, 1), round(max(end - start, 1.0), 1),
                ARMS_CSS[i % 2],
                (round(x_of(whisker[0]), 1), round(x_of(whisker[1]), 1)) if whisker else None))
            y += ARMS_BAR + 10
        chart.groups.append(group)
        y += 8
    chart.axis_bottom = y
    chart.height = round(y + 24, 1)


def _share_text(better: Any, n: Any) -> str | None:
    """An arm's per cent at the better answer to one decimal, half-up, from its counts
    (the tables keep the whole per cent for the spreadsheet); None when not a number."""
    from fractions import Fraction

    from analysis.rounding import half_up

    if not (isinstance(better, int) and isinstance(n, int)) or isinstance(better, bool) or n <= 0:
        return None
    return f"{half_up(Fraction(100 * better, n), 1)}"


def arms_binary(report: dict) -> ArmsChart | None:
    """Per yes/no measure, each arm's per cent at the better answer with its interval as a
    whisker, on one 0-100% axis (from the comparison-binary table, its table alternative)."""
    table = _find(report, "comparison-binary")
    arms = (report.get("paired") or {}).get("comparison_arms") or []
    if table is None or not table["rows"] or len(arms) < 2:
        return None
    language = report["language"]
    chart = ArmsChart(
        "chart-arms-binary",
        t(N_("Per cent at the better answer in each arm, with {level} intervals"), language,
          level=_confidence(report)),
        "", table["id"],
        caption=t(N_("Bars show each arm's per cent at the better answer; the lines across "
                     "them its interval. The same figures are in the table below the chart."),
                  language))
    scale = (chart.plot_right - chart.plot_left) / 100
    measures, sentences = [], []
    for row in table["rows"]:
        c = row["cells"]
        shown, said = [], []
        for prefix, arm in zip(("first", "second"), arms, strict=False):
            pct, low, high, n = (_share_text(c.get(f"{prefix}_better"), c.get(f"{prefix}_n")),
                                 c.get(f"{prefix}_ci_low"), c.get(f"{prefix}_ci_high"),
                                 c.get(f"{prefix}_n"))
            if pct is None or not _number(c.get(f"{prefix}_percent")):
                break
            whisker = (low, high) if _number(low) and _number(high) else None
            n = n if n is not None else "–"
            if whisker:
                text = t(N_("{percent}% ({low} to {high})"), language, percent=pct,
                         low=_one(low), high=_one(high))
                said.append(t(N_("{arm} {percent}% of {n} (interval {low}% to {high}%)"),
                              language, arm=arm, percent=pct, n=n, low=_one(low),
                              high=_one(high)))
            else:
                text = f"{pct}%"
                said.append(t(N_("{arm} {percent}% of {n}"), language, arm=arm, percent=pct,
                              n=n))
            shown.append((arm, float(pct), text, whisker))
        if len(shown) == 2:
            measures.append((row["label"], shown))
            sentences.append(f"{row['label']}: {'; '.join(said)}.")
    if not measures:
        return None
    _layout(chart, measures, lambda v: chart.plot_left + max(0.0, min(100.0, v)) * scale)
    chart.axis = [(round(chart.plot_left + v * scale, 1), f"{v}%") for v in (0, 25, 50, 75, 100)]
    chart.desc = " ".join(sentences)
    return chart


def arms_scale(report: dict) -> ArmsChart | None:
    """Per scale measure, each arm's mean (of the change, for a measure with a baseline)
    as a bar from zero (from the comparison-scale table, its table alternative)."""
    import math

    table = _find(report, "comparison-scale")
    arms = (report.get("paired") or {}).get("comparison_arms") or []
    if table is None or not table["rows"] or len(arms) < 2:
        return None
    language = report["language"]
    measures, sentences = [], []
    for row in table["rows"]:
        c = row["cells"]
        means = [c.get(f"{p}_mean") for p in ("first", "second")]
        if not all(_number(m) for m in means):
            continue
        shown = [(arm, float(m), _two(m), None) for arm, m in zip(arms, means, strict=False)]
        measures.append((row["label"], shown))
        sentences.append(t(N_("{measure} ({basis}): mean {first_mean} in {first} ({first_n}), "
                              "{second_mean} in {second} ({second_n})."), language,
                           measure=row["label"], basis=str(c.get("basis") or "").lower(),
                           first=arms[0], second=arms[1], first_mean=_two(means[0]),
                           second_mean=_two(means[1]), first_n=c.get("first_n"),
                           second_n=c.get("second_n")))
    if not measures:
        return None
    reach = max(abs(v) for _, shown in measures for _, v, _, _ in shown)
    top = max(1, math.ceil(reach))
    chart = ArmsChart(
        "chart-arms-scale",
        t(N_("Mean in each arm: the change for measures with a baseline, else the answer at "
             "follow-up"), language),
        " ".join(sentences), table["id"],
        caption=t(N_("Bars start at zero; to the right is a higher mean, to the left a lower. "
                     "The same figures are in the table below the chart."), language))
    low = -top if any(v < 0 for _, shown in measures for _, v, _, _ in shown) else 0
    scale = (chart.plot_right - chart.plot_left) / (top - low)
    chart.zero = round(chart.plot_left + (0 - low) * scale, 1)
    _layout(chart, measures,
            lambda v: chart.plot_left + (max(low, min(top, v)) - low) * scale)
    step = (top - low) / 4
    chart.axis = [(round(chart.plot_left + i * step * scale, 1), _tick(low + i * step))
                  for i in range(5)]
    return chart


def _confidence(report: dict) -> str:
    for c in ((report.get("paired") or {}).get("comparison") or {}).values():
        level = (c.get("risk_difference") or {}).get("confidence")
        if _number(level):
            return f"{100 * level:g}%"
    return "95%"


def _one(value: Any) -> str:
    from analysis.rounding import half_up

    return f"{half_up(float(value), 1)}" if _number(value) else str(value)


def _two(value: Any) -> str:
    from analysis.rounding import half_up

    return f"{half_up(float(value), 2)}" if _number(value) else str(value)


def _tick(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"
