"""Measurements that run in a child process, so that each one's peak memory is its own.

    python -m benchmarks.workers KIND ARGS...

Each prints one JSON object on its last line of output.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from datetime import date
from itertools import islice
from pathlib import Path

from benchmarks.common import peak_rss_mb


def _scale_numbers(e: dict) -> dict:
    return {
        "n": e["n"], "improved": e["improved"], "same": e["same"],
        "deteriorated": e["deteriorated"], "mean_change": e["mean_change"],
        "median_change": e["median_change"], "sign_p": e["sign_test"]["p"],
        "wilcoxon_p": e["wilcoxon"]["p"],
        "mean_ci": [e["mean_change_ci"]["low"], e["mean_change_ci"]["high"]],
        "improved_ci": [e["improved_share"]["ci_low"], e["improved_share"]["ci_high"]],
    }


def _binary_numbers(e: dict) -> dict:
    t, d = e["table"], e["difference"]
    return {
        "n": e["n"], "improved": e["improved"], "same": e["same"],
        "deteriorated": e["deteriorated"],
        "table": [t["before_better_after_better"], t["before_better_after_worse"],
                  t["before_worse_after_better"], t["before_worse_after_worse"]],
        "mcnemar_p": e["mcnemar"]["p"],
        "difference": [d["estimate"], d["ci_low"], d["ci_high"]],
    }


def report(url: str, slug: str, repeats: str) -> dict:
    """The service's paired-change report, as the web page and CLI build it."""
    from sqlalchemy import select

    # SciPy is imported once per process, before timing.
    import analysis.binary  # noqa: F401
    import analysis.paired  # noqa: F401
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Study
    from surveys.reports.paired_change import paired_report

    engine = make_engine(url)
    factory = make_session_factory(engine)
    rss_before = peak_rss_mb()
    seconds = []
    result = None
    for _ in range(int(repeats)):
        with factory() as session:
            start = time.perf_counter()
            study = session.scalar(select(Study).where(Study.slug == slug))
            result = paired_report(session, study, "wave2")
            seconds.append(time.perf_counter() - start)
    engine.dispose()
    numbers = {m: (_binary_numbers(e) if e["kind"] == "binary" else _scale_numbers(e))
               for m, e in result["measures"].items()}
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "numbers": numbers}


def _measures(url: str, wave_id: int) -> list[tuple[str, int, str, str]]:
    """(key, slot, kind, better) of the wave's study's measures, in order."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(
            "SELECT m.key, m.slot, m.kind, m.better FROM measures m JOIN waves w "
            "ON w.study_id = m.study_id WHERE w.id = %s ORDER BY m.position", (wave_id,)
        ).fetchall()


def _wilson(k: int, n: int):
    from scipy import stats

    return stats.binomtest(k, n).proportion_ci(method="wilson")


def _newcombe(a: int, b: int, c: int, d: int) -> list[float]:
    """Newcombe's method 10 for after minus before, written out from the paper (1998).

    a: better before and after; b: better before only; c: after only; d: neither."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    ci1, ci2 = _wilson(a + b, n), _wilson(a + c, n)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if margins == 0 or 0 <= cross <= n / 2:
        phi = 0.0
    else:
        phi = (cross - n / 2 if cross > n / 2 else cross) / math.sqrt(margins)
    estimate = p2 - p1
    x, y = p2 - ci2.low, ci1.high - p1
    low = estimate - math.sqrt(max(0.0, x * x - 2 * phi * x * y + y * y))
    x, y = ci2.high - p2, p1 - ci1.low
    high = estimate + math.sqrt(max(0.0, x * x - 2 * phi * x * y + y * y))
    return [estimate, low, high]


def alternative(url: str, wave_id: str, csv_path: str) -> dict:
    """What an evaluator would write: export the pairs to CSV, load with pandas, use SciPy.

    Every measure of the study: a scale one gets the scale statistics, a yes/no one (1/0)
    the 2x2 of before and after, the exact McNemar test (a binomial test on the discordant
    pairs) and the paired difference with Newcombe's interval."""
    import pandas as pd
    import psycopg
    from scipy import stats


    measures = _measures(url, int(wave_id))
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    columns = ", ".join(f"p.baseline_{slot} AS b_{key}, r.score_{slot} AS f_{key}"
                        for key, slot, _, _ in measures)
    query = (f"COPY (SELECT {columns} FROM responses r JOIN participants p "
             f"ON p.id = r.participant_id WHERE r.wave_id = {int(wave_id)} "
             "AND r.status = 'submitted') TO STDOUT WITH (FORMAT csv, HEADER)")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, \
            conn.cursor() as cur, open(csv_path, "wb") as out, cur.copy(query) as copy:
        for block in copy:
            out.write(block)
    exported = time.perf_counter()
    frame = pd.read_csv(csv_path)
    loaded = time.perf_counter()
    numbers = {}
    for m, _, kind, better in measures:
        pairs = frame[[f"b_{m}", f"f_{m}"]].dropna()
        if kind == "binary":
            good = 0 if better == "no" else 1
            before = (pairs[f"b_{m}"] == good).to_numpy()
            after = (pairs[f"f_{m}"] == good).to_numpy()
            a, b = int((before & after).sum()), int((before & ~after).sum())
            c, d = int((~before & after).sum()), int((~before & ~after).sum())
            numbers[m] = {
                "n": a + b + c + d, "improved": c, "same": a + d, "deteriorated": b,
                "table": [a, b, c, d],
                "mcnemar_p": float(stats.binomtest(c, b + c, 0.5).pvalue),
                "difference": _newcombe(a, b, c, d),
            }
            continue
        d = (pairs[f"f_{m}"] - pairs[f"b_{m}"]).to_numpy(dtype=float)
        n = d.size
        improved, deteriorated = int((d > 0).sum()), int((d < 0).sum())
        nonzero = d[d != 0]
        wilcoxon = stats.wilcoxon(nonzero, zero_method="wilcox", method="asymptotic",
                                  correction=True)
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        share = stats.binomtest(improved, n).proportion_ci(method="wilson")
        numbers[m] = {  # full precision, as the report returns them (rounding is display's)
            "n": n, "improved": improved, "same": n - improved - deteriorated,
            "deteriorated": deteriorated, "mean_change": mean,
            "median_change": float(pd.Series(d).median()),
            "sign_p": float(stats.binomtest(improved, improved + deteriorated).pvalue),
            "wilcoxon_p": float(wilcoxon.pvalue),
            "mean_ci": [mean - half, mean + half],
            "improved_ci": [float(share.low), float(share.high)],
        }
    done = time.perf_counter()
    return {"seconds": [done - start], "export_s": exported - start, "load_s": loaded - exported,
            "compute_s": done - loaded, "rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "numbers": numbers}


def import_cohort(url: str, csv_path: str, slug: str) -> dict:
    """`surveys import-cohort` as a function call on a file path (read as a stream)."""
    from surveys.cohort.importer import import_cohort as run_import
    from surveys.db import make_engine, make_session_factory
    from surveys.studies import create_study

    engine = make_engine(url)
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    with make_session_factory(engine)() as session:
        study = create_study(session, slug, "Import benchmark")
        result = run_import(session, study, Path(csv_path))
        session.commit()
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": [seconds], "rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "created": result.created, "scheduled": result.invitations_scheduled}


def insert_rows(url: str, csv_path: str, slug: str) -> dict:
    """The reference for the import: the same rows, bulk INSERTed as they are (no checks)."""
    from sqlalchemy import insert

    from surveys.db import make_engine
    from surveys.models import Participant
    from surveys.studies import create_study

    engine = make_engine(url)
    from sqlalchemy.orm import Session

    start = time.perf_counter()
    with Session(engine) as session:
        study_id = create_study(session, slug, "Insert reference").id
        conn = session.connection()
        with open(csv_path, encoding="utf-8", newline="") as source:
            rows = csv.DictReader(source)
            while chunk := list(islice(rows, 5000)):
                conn.execute(insert(Participant.__table__), [{
                    "study_id": study_id, "ref": r["participant_ref"], "site": r["site"],
                    "completed_on": date.fromisoformat(r["completed_on"]),
                    "language": r["language"], "email": r["email"], "phone": r["phone"],
                    # The EHD's measures are in slots 1..3 (decision 0009).
                    "baseline_1": int(r["workability_end"]),
                    "baseline_2": int(r["confidence_end"]),
                    "baseline_3": int(r["importance_end"]),
                } for r in chunk])
        session.commit()
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": [seconds], "rss_mb": peak_rss_mb()}


KINDS = {"report": report, "alternative": alternative, "import": import_cohort,
         "insert": insert_rows}

if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps(KINDS[kind](*args)))
