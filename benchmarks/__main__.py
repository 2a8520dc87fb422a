"""Run every benchmark and print one table: each figure beside its reference, as a ratio.

    python -m benchmarks [--sizes 10000,100000,1000000]
                         [--only web,contention,invitations,report,evaluation,import,startup]
                         [--write benchmarks/results.md]

Needs a PostgreSQL server: SURVEYS_BENCH_DATABASE_URL or SURVEYS_TEST_DATABASE_URL
(`make bench` starts a throwaway one with scripts/with-postgres.sh). Databases named
surveys_bench_* on that server are dropped and re-created.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    bench_contention,
    bench_evaluation,
    bench_import,
    bench_invitations,
    bench_report,
    bench_startup,
    bench_web,
)
from benchmarks.common import Figure, machine

BENCHMARKS = {
    "web": bench_web.run,
    "contention": bench_contention.run,
    "invitations": bench_invitations.run,
    "report": bench_report.run,
    "evaluation": bench_evaluation.run,  # also the demo (333 clients, SQLite)
    "import": bench_import.run,
    "startup": bench_startup.run,  # command-line start-up; independent of the sizes
}
# The figures whose growth with size each benchmark reports, and how to turn them into time.
GROWTH = [
    ("web", "submission latency p50", lambda f: f.value / 1000),
    ("contention", bench_contention.CLIENT_P50, lambda f: f.value / 1000),
    ("invitations", "invitations issued/s (dispatcher pass)", lambda f: f.size / f.value),
    *[("report", bench_report.time_what(v), lambda f: f.value) for v in bench_report.NAMES],
    *[("evaluation", bench_evaluation.variant_name(b, "report"), lambda f: f.value)
      for b in (None, "site", "channel")],
    ("import", "cohort import rows/s", lambda f: f.size / f.value),
]


def number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def ratio(figure: Figure) -> str:
    if figure.reference in (None, 0) or figure.value == 0:
        return "-"
    r = figure.value / figure.reference if figure.higher_is_better else (
        figure.reference / figure.value)
    return f"{r:.2f}"


def table(figures: list[Figure]) -> str:
    head = ("| benchmark | clients | figure | value | reference | ratio | goal | met |\n"
            "| --- | ---: | --- | ---: | --- | ---: | --- | --- |\n")
    rows = []
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "NO")
        rows.append(
            f"| {f.benchmark} | {f.size:,} | {f.what} | {number(f.value, f.unit)} | "
            f"{f.reference_what}: {number(f.reference)} | {ratio(f)} | {f.goal} | {met} |"
        )
    return head + "\n".join(rows) + "\n"


def growth(figures: list[Figure]) -> str:
    lines = []
    for name, what, seconds_of in GROWTH:
        series = sorted((f for f in figures if f.benchmark == name and f.what == what),
                        key=lambda f: f.size)
        if len(series) < 2:
            continue
        parts = [f"{series[0].size:,}: {seconds_of(series[0]):.3g} s"]
        for before, after in zip(series, series[1:], strict=False):
            factor = seconds_of(after) / seconds_of(before)
            parts.append(f"{after.size:,}: {seconds_of(after):.3g} s "
                         f"(x{factor:.1f} for x{after.size / before.size:.0f} clients)")
        lines.append(f"- {name} ({what}): " + "; ".join(parts))
    return "\n".join(lines) + "\n" if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="clients (or rows) per step, comma separated")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help="benchmarks to run: " + ", ".join(BENCHMARKS))
    parser.add_argument("--write", metavar="FILE", help="also write the results (Markdown) "
                        "and FILE.json with every detail")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    facts = machine()
    started = datetime.now(UTC)
    print(f"Benchmarks on {facts['cpus']} x {facts['cpu']}, {facts['memory']}, Python "
          f"{facts['python']}, load {facts['load_at_start']}; sizes {sizes}", flush=True)
    figures: list[Figure] = []
    for name in args.only.split(","):
        start = time.perf_counter()
        figures += BENCHMARKS[name](sizes)
        print(f"  {name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    text = table(figures)
    grown = growth(figures)
    print()
    print(text)
    print("How time grows with size:\n" + grown if grown else "", end="")
    if args.write:
        path = Path(args.write)
        path.write_text(
            f"# Benchmark results\n\nRun {started:%Y-%m-%d %H:%M} UTC with `python -m benchmarks "
            f"--sizes {args.sizes} --only {args.only}`.\n\nMachine: {facts['cpus']} CPUs "
            f"({facts['cpu']}), {facts['memory']} memory, Python {facts['python']}, "
            f"PostgreSQL from scripts/with-postgres.sh; load average at start "
            f"{facts['load_at_start']}.\n\nRatios: ours / reference where higher is better, "
            f"reference / ours where lower is better (times, memory, latency), so above 1 "
            f"means ours is ahead.\n\n{text}\nHow time grows with size:\n\n{grown}"
        )
        Path(str(path) + ".json").write_text(json.dumps(
            {"started": started.isoformat(), "machine": facts,
             "figures": [{**vars(f), "ratio": ratio(f)} for f in figures]}, indent=2))


if __name__ == "__main__":
    main()
