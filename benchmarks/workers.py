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

MEASURES = ("workability", "confidence", "importance")


def report(url: str, slug: str, repeats: str) -> dict:
    """The service's paired-change report, as the web page and CLI build it."""
    from sqlalchemy import select

    import analysis.paired  # noqa: F401 - SciPy is imported once per process, before timing
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Study
    from surveys.reporting import paired_report

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
    numbers = {
        m: {
            "n": e["n"], "improved": e["improved"], "same": e["same"],
            "deteriorated": e["deteriorated"], "mean_change": e["mean_change"],
            "median_change": e["median_change"], "sign_p": e["sign_test"]["p"],
            "wilcoxon_p": e["wilcoxon"]["p"],
            "mean_ci": [e["mean_change_ci"]["low"], e["mean_change_ci"]["high"]],
            "improved_ci": [e["improved_share"]["ci_low"], e["improved_share"]["ci_high"]],
        }
        for m, e in result["measures"].items()
    }
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "numbers": numbers}


def alternative(url: str, wave_id: str, csv_path: str) -> dict:
    """What an evaluator would write: export the pairs to CSV, load with pandas, use SciPy."""
    import pandas as pd
    import psycopg
    from scipy import stats

    from analysis.rounding import places, significant

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    columns = ", ".join(f"p.{m}_end AS b_{m}, r.score_{m} AS f_{m}" for m in MEASURES)
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
    for m in MEASURES:
        pairs = frame[[f"b_{m}", f"f_{m}"]].dropna()
        d = (pairs[f"f_{m}"] - pairs[f"b_{m}"]).to_numpy(dtype=float)
        n = d.size
        improved, deteriorated = int((d > 0).sum()), int((d < 0).sum())
        nonzero = d[d != 0]
        wilcoxon = stats.wilcoxon(nonzero, zero_method="wilcox", method="asymptotic",
                                  correction=True)
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        share = stats.binomtest(improved, n).proportion_ci(method="wilson")
        numbers[m] = {
            "n": n, "improved": improved, "same": n - improved - deteriorated,
            "deteriorated": deteriorated, "mean_change": places(mean),
            "median_change": places(float(pd.Series(d).median())),
            "sign_p": significant(stats.binomtest(improved, improved + deteriorated).pvalue),
            "wilcoxon_p": significant(float(wilcoxon.pvalue)),
            "mean_ci": [places(mean - half), places(mean + half)],
            "improved_ci": [places(float(share.low), 4), places(float(share.high), 4)],
        }
    done = time.perf_counter()
    return {"seconds": [done - start], "export_s": exported - start, "load_s": loaded - exported,
            "compute_s": done - loaded, "rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "numbers": numbers}


def import_cohort(url: str, csv_path: str, slug: str) -> dict:
    """`surveys import-cohort` as a function call on a file path (read as a stream)."""
    from surveys.cohort_import import import_cohort as run_import
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
                    "workability_end": int(r["workability_end"]),
                    "confidence_end": int(r["confidence_end"]),
                    "importance_end": int(r["importance_end"]),
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
