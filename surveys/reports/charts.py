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

WIDTH = 640
LABEL_WIDTH = 210
BAR_HEIGHT = 28
ROW_GAP = 16
TOP = 40


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
    y: float
    segments: list[Segment] = field(default_factory=list)


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
    points: list[dict[str, Any]] = field(default_factory=list)
    centre: float = 0.0
    plot_left: float = LABEL_WIDTH
    plot_right: float = WIDTH - 20


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
    plot_left, plot_right = LABEL_WIDTH, WIDTH - 20
    centre = (plot_left + plot_right) / 2
    scale = (plot_right - plot_left) / 200  # -100 % .. +100 %
    chart = Chart(
        "chart-paired-diverging",
        t(N_("Answers worse, the same and better at follow-up than at the start") if towards
          else N_("Scores lower, the same and higher at follow-up than at the end of the "
                  "intervention"), language),
        "",
        TOP + len(rows) * (BAR_HEIGHT + ROW_GAP) + 30,
        source["id"],
        centre=centre, plot_left=plot_left, plot_right=plot_right,
    )
    descriptions = []
    for i, row in enumerate(rows):
        c = row["cells"]
        lower, same, higher = (c["deteriorated_percent"], c["same_percent"],
                               c["improved_percent"])
        y = TOP + i * (BAR_HEIGHT + ROW_GAP)
        bar = Bar(row["label"], y)
        half = same * scale / 2
        for x, width, css, value in (
            (centre - half - lower * scale, lower * scale, "app-chart__lower", lower),
            (centre - half, same * scale, "app-chart__same", same),
            (centre + half, higher * scale, "app-chart__higher", higher),
        ):
            bar.segments.append(Segment(round(x, 1), round(width, 1), css, f"{value}%",
                                        width >= 34))
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
    chart.legend = [
        ("app-chart__lower", t(N_("Worse at follow-up") if towards
                               else N_("Lower at follow-up"), language)),
        ("app-chart__same", t(N_("Same"), language)),
        ("app-chart__higher", t(N_("Better at follow-up") if towards
                                else N_("Higher at follow-up"), language)),
    ]
    return chart


def before_after(report: dict) -> Chart | None:
    """Mean score at the end of the intervention and at follow-up, joined, per measure."""
    table = _find(report, "paired-before-after")
    if table is None or not table["rows"]:
        return None
    language = report["language"]
    plot_left, plot_right = LABEL_WIDTH, WIDTH - 20
    # One axis for every scale measure shown: from the lowest minimum to the highest maximum
    # of their scales (0 to 10 for the EHD).
    entries = [(report.get("paired") or {}).get("measures", {}).get(row["key"]) or {}
               for row in table["rows"]]
    low = min((m["min_value"] for m in entries if isinstance(m.get("min_value"), int)),
              default=0)
    high = max((m["max_value"] for m in entries if isinstance(m.get("max_value"), int)),
               default=10)
    high = high if high > low else low + 1
    scale = (plot_right - plot_left) / (high - low)
    chart = Chart(
        "chart-paired-before-after",
        t(N_("Mean scores of the same clients at the end of the intervention and at "
             "follow-up"), language),
        "",
        TOP + len(table["rows"]) * (BAR_HEIGHT + ROW_GAP) + 30,
        table["id"],
        plot_left=plot_left, plot_right=plot_right,
    )
    descriptions = []
    for i, row in enumerate(table["rows"]):
        c = row["cells"]
        before, after = c.get("baseline_mean"), c.get("follow_up_mean")
        if before is None or after is None or SUPPRESSED in (before, after):
            continue
        y = TOP + i * (BAR_HEIGHT + ROW_GAP) + BAR_HEIGHT / 2
        chart.points.append({
            "label": row["label"], "y": y,
            "before_x": round(plot_left + (before - low) * scale, 1),
            "after_x": round(plot_left + (after - low) * scale, 1),
            "before": f"{before:.2f}", "after": f"{after:.2f}",
        })
        descriptions.append(t(N_("{measure}: mean {before} at the end of the intervention and "
                                 "{after} at follow-up."), language, measure=row["label"],
                              before=f"{before:.2f}", after=f"{after:.2f}"))
    if not chart.points:
        return None
    chart.desc = " ".join(descriptions)
    step = max(1, round((high - low) / 5))
    chart.axis = [(round(plot_left + (v - low) * scale, 1), str(v))
                  for v in range(low, high + 1, step)]
    chart.legend = [
        ("app-chart__before", t(N_("End of the intervention"), language)),
        ("app-chart__after", t(N_("Follow-up"), language)),
    ]
    return chart
