"""The paired-change report for `size` linked clients, beside the obvious alternative.

Ours: surveys.reporting.paired_report as the web page and `surveys report paired` run it
(counts in the database, statistics from the counts), in a child process, median of 3.
The alternative: export the linked pairs to CSV (COPY), load it with pandas, compute the
same numbers with SciPy (all but Hodges-Lehmann, whose n(n+1)/2 Walsh averages are out
of reach at this size), in its own child process. Both report their peak memory.
"""

from __future__ import annotations

import statistics
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.common import Figure, child, engine_for, fresh_database, vacuum
from benchmarks.data import add_participants, add_responses, make_study

KEYS = ("n", "improved", "same", "deteriorated", "mean_change", "median_change", "sign_p",
        "wilcoxon_p", "mean_ci", "improved_ci")


def run(sizes: list[int]) -> list[Figure]:
    figures = []
    for size in sizes:
        url = fresh_database("surveys_bench_report")
        engine = engine_for(url)
        with engine.begin() as conn:
            study, _, wave2 = make_study(conn, "report")
            add_participants(conn, study, size, date(2026, 1, 5))
            add_responses(conn, study, wave2, date(2026, 2, 20))
        engine.dispose()
        vacuum(url)
        ours = child(["report", url, "report", "3"])
        with tempfile.TemporaryDirectory() as folder:
            theirs = child(["alternative", url, str(wave2), str(Path(folder) / "pairs.csv")])
        differ = [
            (m, k, ours["numbers"][m][k], theirs["numbers"][m][k])
            for m in ours["numbers"] for k in KEYS
            if ours["numbers"][m][k] != theirs["numbers"][m][k]
        ]
        if differ:
            raise RuntimeError(f"the two ways disagree: {differ}")
        seconds = statistics.median(ours["seconds"])
        figures += [
            Figure("report", size, "paired report time (median of 3)", seconds, "s",
                   "CSV export + pandas + SciPy, s", theirs["seconds"][0],
                   higher_is_better=False, goal="faster and < 2 s",
                   met=seconds < theirs["seconds"][0] and seconds < 2,
                   extra={"runs": ours["seconds"], "alternative_parts": {
                       k: theirs[k] for k in ("export_s", "load_s", "compute_s")}}),
            Figure("report", size, "paired report peak memory (whole process)", ours["rss_mb"],
                   "MB", "alternative's peak memory, MB", theirs["rss_mb"],
                   higher_is_better=False, goal="< 300 MB", met=ours["rss_mb"] < 300,
                   extra={"after_imports_mb": ours["rss_before_mb"],
                          "alternative_after_imports_mb": theirs["rss_before_mb"]}),
        ]
    return figures
