"""Cohort import of `size` rows: rows per second and peak memory.

Ours: surveys.cohort.importer.import_cohort on participants.csv (checked row by row,
all-or-nothing, one invitation per wave scheduled for every client), in a child
process. Reference: the same rows bulk INSERTed into participants with no checks and
no invitations (multi-row INSERTs of 5,000), in another child process and database.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from benchmarks.common import Figure, child, fresh_database
from benchmarks.data import participants_csv


def run(sizes: list[int]) -> list[Figure]:
    figures = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "participants.csv"
            file_bytes = participants_csv(path, size, date(2026, 1, 5))
            url = fresh_database("surveys_bench_import_reference")
            reference = child(["insert", url, str(path), "insert"])
            url = fresh_database("surveys_bench_import")
            ours = child(["import", url, str(path), "import"])
        if ours["created"] != size:
            raise RuntimeError(f"imported {ours['created']} of {size}")
        rate = size / ours["seconds"][0]
        figures += [
            Figure("import", size, "cohort import rows/s", rate, "rows/s",
                   "bulk INSERT of the same rows, rows/s", size / reference["seconds"][0],
                   extra={"seconds": ours["seconds"][0], "file_mb": file_bytes / 2**20,
                          "invitations_scheduled": ours["scheduled"]}),
            Figure("import", size, "cohort import peak memory (whole process)", ours["rss_mb"],
                   "MB", "reference's peak memory, MB", reference["rss_mb"],
                   higher_is_better=False, extra={"after_imports_mb": ours["rss_before_mb"]}),
        ]
    return figures
