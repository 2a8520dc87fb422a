"""Shared pieces: a fresh database per measurement, timing, child processes, machine facts."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "benchmark-secret-" + "s" * 40


@dataclass
class Figure:
    """One line of the results table: a measurement beside its reference."""

    benchmark: str
    size: int  # clients in the database (or rows, or invitations due)
    what: str
    value: float
    unit: str
    reference_what: str = ""
    reference: float | None = None
    higher_is_better: bool = True
    goal: str = ""
    met: bool | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0):
            return None
        return self.value / self.reference


def base_url() -> str:
    url = os.environ.get("SURVEYS_BENCH_DATABASE_URL") or os.environ.get(
        "SURVEYS_TEST_DATABASE_URL")
    if not url:
        raise SystemExit("Set SURVEYS_BENCH_DATABASE_URL to a PostgreSQL database, or run "
                         "`make bench` (scripts/with-postgres.sh starts one).")
    return url


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the benchmark server, migrate it, return its URL."""
    url = make_url(base_url())
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    from surveys.migrate import upgrade

    upgrade(target)
    return target


def engine_for(url: str) -> Engine:
    from surveys.db import make_engine

    return make_engine(url)


def vacuum(url: str) -> None:
    """What autovacuum would do after a bulk load: statistics and the visibility map."""
    engine = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def child(args: list[str], env: dict | None = None, timeout: float = 3600) -> dict:
    """Run `python -m benchmarks.workers ARGS` and return the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.workers", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program, in MiB.

    VmHWM, not getrusage's ru_maxrss: on Linux the latter also counts the memory the
    process had before exec, i.e. the parent's at fork time.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "load_at_start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def repeat_best(fn: Callable[[], float], times: int) -> float:
    return min(fn() for _ in range(times))


def cpu_seconds_by_program() -> dict[str, float]:
    """CPU time (user + system) used so far by every live process, summed per program name.

    Read from /proc, so a phase's CPU cost per request is the difference of two calls
    divided by its requests: it shows where the machine's cores went (web workers, the
    database, the load generator), which a rate alone cannot.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[11], fields[12]: utime, stime (stat fields 14 and 15)
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out
