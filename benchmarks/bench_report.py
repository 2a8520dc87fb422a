"""The paired-change report for `size` linked clients, beside the obvious alternative.

Two studies: the EHD's three 0-10 measures, and the issue's "two measures of each kind"
(two 0-10 scales, two yes/no). Ours: surveys.reports.paired_change.paired_report as the
web page and `surveys report paired` run it (counts in the database, statistics from the
counts), in a child process, median of 3. The alternative: export the linked pairs to CSV
(COPY), load it with pandas, compute the same numbers with SciPy (all but Hodges-Lehmann,
whose n(n+1)/2 Walsh averages are out of reach at this size; for yes/no: the 2x2, the
exact McNemar test and Newcombe's interval), in its own child process. Both report their
peak memory.

Building the data also measures what the response triggers of migration 0009 cost a bulk
load: the same INSERT of `size` responses (answers only) into the table, whose triggers
fill the score and baseline columns, and into a copy with the same indexes and no triggers.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from benchmarks.common import Figure, child, engine_for, fresh_database, vacuum
from benchmarks.data import VARIANTS, add_participants, add_responses, make_study

NAMES = {"ehd": "EHD, 3 scale measures", "mixed": "2 scale + 2 yes/no measures"}


def time_what(variant: str) -> str:
    return f"paired report time, {NAMES[variant]} (median of 3)"


def _same(a, b) -> bool:
    """Equal counts; floats equal to 1e-9 (Newcombe's interval is computed two ways)."""
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9,
                                                                 abs_tol=1e-12)
    return a == b


def _load(url: str, variant: str, size: int) -> tuple[int, float, float]:
    """Cohort and wave2 answers; returns (wave2 id, triggered INSERT s, plain INSERT s)."""
    measures = VARIANTS[variant]
    engine = engine_for(url)
    with engine.begin() as conn:
        study, _, wave2 = make_study(conn, "report", measures)
        add_participants(conn, study, size, date(2026, 1, 5), measures=measures)
    with engine.begin() as conn:  # the reference first: a copy without triggers, dropped
        conn.execute(text("CREATE TABLE responses_plain (LIKE responses INCLUDING ALL)"))
    with engine.begin() as conn:
        start = time.perf_counter()
        add_responses(conn, study, wave2, date(2026, 2, 20), measures=measures,
                      table="responses_plain")
        plain = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE responses_plain"))
    with engine.begin() as conn:
        start = time.perf_counter()
        add_responses(conn, study, wave2, date(2026, 2, 20), measures=measures)
        triggered = time.perf_counter() - start
        filled = conn.execute(text(
            "SELECT count(score_1), count(baseline_1) FROM responses WHERE wave_id = :w"
        ), {"w": wave2}).one()
    engine.dispose()
    if min(filled) < size * 0.9:
        raise RuntimeError(f"the triggers filled {filled} score/baseline columns of {size}")
    return wave2, triggered, plain


def run(sizes: list[int]) -> list[Figure]:
    figures = []
    for size in sizes:
        for variant in VARIANTS:
            url = fresh_database("surveys_bench_report")
            wave2, triggered, plain = _load(url, variant, size)
            vacuum(url)
            ours = child(["report", url, "report", "3"])
            with tempfile.TemporaryDirectory() as folder:
                theirs = child(["alternative", url, str(wave2), str(Path(folder) / "pairs.csv")])
            if set(ours["numbers"]) != set(theirs["numbers"]):
                raise RuntimeError(f"measures differ: {ours['numbers']} {theirs['numbers']}")
            differ = [
                (m, k, ours["numbers"][m][k], theirs["numbers"][m][k])
                for m in ours["numbers"] for k in ours["numbers"][m]
                if not _same(ours["numbers"][m][k], theirs["numbers"][m][k])
            ]
            if differ:
                raise RuntimeError(f"the two ways disagree: {differ}")
            seconds = statistics.median(ours["seconds"])
            name = NAMES[variant]
            figures += [
                Figure("report", size, time_what(variant), seconds, "s",
                       "CSV export + pandas + SciPy, s", theirs["seconds"][0],
                       higher_is_better=False, goal="faster and < 2 s",
                       met=seconds < theirs["seconds"][0] and seconds < 2,
                       extra={"runs": ours["seconds"], "alternative_parts": {
                           k: theirs[k] for k in ("export_s", "load_s", "compute_s")}}),
                Figure("report", size, f"paired report peak memory, {name} (whole process)",
                       ours["rss_mb"], "MB", "alternative's peak memory, MB", theirs["rss_mb"],
                       higher_is_better=False, goal="< 300 MB", met=ours["rss_mb"] < 300,
                       extra={"after_imports_mb": ours["rss_before_mb"],
                              "alternative_after_imports_mb": theirs["rss_before_mb"]}),
                Figure("report", size, f"responses bulk INSERT with score triggers, {name}",
                       size / triggered, "rows/s",
                       "same INSERT into a copy without triggers, rows/s", size / plain,
                       extra={"triggered_s": triggered, "plain_s": plain}),
            ]
    return figures
