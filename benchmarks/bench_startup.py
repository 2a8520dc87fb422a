"""Command-line start-up: `surveys --help`, small commands and a cached report; time and memory.

Ours: the installed `surveys` console script, as an operator runs it, on the embedded
SQLite database of a fresh instance folder holding the demo (`surveys demo`): `--help`;
two small commands, `links --study ehd-live --wave wave1` (three open links: settings
checked, the database opened, the models loaded, one audit record written) and `study show
ehd-live` (a definition written as YAML); and the evaluation report as CSV while the
report cache holds it (`CACHED_REPORT`, run once before timing: no statistics to load or
compute). Reference: a click program that does nothing (`python -c "import click"`), the
floor of any such command line. Beside them, the floor of any command that reads the
database through the ORM (`ORM_FLOOR`: SQLAlchemy, the models and their mappers, no
query), to tell what a command adds from what it cannot avoid. Runs are interleaved
(reference, --help, each command, then again) so load on the machine falls on all alike;
each figure is the median of `RUNS`.

Compiled modules are cached (in the temporary folder), as for an installed package; the
setup runs (`db upgrade`, `demo`, the first report) write the cache before any timing.

Every run is started by a small launcher that forks and execs it, so the peak memory
read back (`wait4`) is the command's own, not this process's (see common.peak_rss_mb).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import BIN, Figure

RUNS = 7
HELP_GOAL = 0.3  # seconds (issue 16, item 5)
COMMAND_GOAL = 0.5
SMALL_COMMANDS = (["links", "--study", "ehd-live", "--wave", "wave1"],
                  ["study", "show", "ehd-live"])
# Printed from the report cache (the data has not changed since the run before).
CACHED_REPORT = ["report", "evaluation", "--study", "ehd-live", "--format", "csv"]
# What every command that reads the database pays before its first query.
ORM_FLOOR = ("import surveys.models, sqlalchemy.dialects.sqlite; "
             "from sqlalchemy.orm import configure_mappers; configure_mappers()")

# Forks, execs argv[1:] with stdout discarded, prints seconds, peak KiB, exit status and
# CPU seconds (user + system: steadier than the wall clock on a shared, loaded machine).
LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
      usage.ru_utime + usage.ru_stime)
"""


def measure(argv: list[str], env: dict, cwd: Path) -> tuple[float, float, float]:
    """(seconds, peak MiB, CPU seconds) of one run of argv; raises if it fails."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    seconds, kib, status, cpu = done.stdout.split()
    if done.returncode != 0 or status != "0":
        raise RuntimeError(f"{' '.join(argv)} failed ({status}):\n{done.stderr[-2000:]}")
    return float(seconds), int(kib) / 1024, float(cpu)


def run(sizes: list[int]) -> list[Figure]:
    """Independent of the sizes: start-up does not read the data (size 0: the demo)."""
    surveys = str(BIN / "surveys")
    commands = {"surveys " + " ".join(args): [surveys, *args]
                for args in (*SMALL_COMMANDS, CACHED_REPORT)}
    cases = {
        "reference": [sys.executable, "-c", "import click"],
        "help": [surveys, "--help"],
        **commands,
        "floor": [sys.executable, "-c", ORM_FLOOR],
    }
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SURVEYS_") and k != "PYTHONDONTWRITEBYTECODE"}
        env["SURVEYS_INSTANCE_DIR"] = str(Path(folder) / "instance")
        # Compiled modules are kept, as an installed package keeps them (pip compiles at
        # install): without this, a shell with PYTHONDONTWRITEBYTECODE=1 compiles the
        # service's own modules on every run. Kept here, not beside the sources.
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        for args in (["db", "upgrade"], ["demo"], CACHED_REPORT):
            subprocess.run([surveys, *args], env=env, cwd=folder, check=True,
                           capture_output=True, timeout=600)
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
        for _ in range(RUNS):
            for name, argv in cases.items():
                runs[name].append(measure(argv, env, Path(folder)))

    def median(name: str, index: int) -> float:
        return statistics.median(r[index] for r in runs[name])

    ref_what = '`python -c "import click"`'
    ref_s, ref_mb, ref_cpu = (median("reference", i) for i in range(3))

    def cpu(name: str, label: str) -> Figure:
        return Figure("startup", 0, f"{label} CPU time, user + system (median)",
                      median(name, 2), "s", f"{ref_what}, CPU s", ref_cpu,
                      higher_is_better=False)

    help_s = median("help", 0)
    figures = [
        Figure("startup", 0, "`surveys --help` time (median)", help_s, "s",
               f"{ref_what}, s", ref_s, higher_is_better=False,
               goal=f"< {HELP_GOAL} s", met=help_s < HELP_GOAL,
               extra={"runs": runs["help"], "reference_runs": runs["reference"]}),
        cpu("help", "`surveys --help`"),
        Figure("startup", 0, "`surveys --help` peak memory", median("help", 1), "MB",
               f"{ref_what}, MB", ref_mb, higher_is_better=False),
    ]
    for command, argv in commands.items():
        seconds = median(command, 0)
        small = argv[1:] != CACHED_REPORT  # the goal is for small commands
        figures += [
            Figure("startup", 0, f"`{command}` time (median, demo, SQLite"
                   f"{'' if small else ', cached'})", seconds, "s",
                   f"{ref_what}, s", ref_s, higher_is_better=False,
                   goal=f"< {COMMAND_GOAL} s" if small else "",
                   met=seconds < COMMAND_GOAL if small else None,
                   extra={"runs": runs[command]}),
            cpu(command, f"`{command}`"),
            Figure("startup", 0, f"`{command}` peak memory", median(command, 1), "MB",
                   f"{ref_what}, MB", ref_mb, higher_is_better=False),
        ]
    figures += [
        Figure("startup", 0, "ORM floor: SQLAlchemy + models + mappers, no query (median)",
               median("floor", 0), "s", f"{ref_what}, s", ref_s, higher_is_better=False,
               extra={"runs": runs["floor"], "code": ORM_FLOOR}),
        cpu("floor", "ORM floor"),
    ]
    return figures


if __name__ == "__main__":
    for figure in run([]):
        print(f"{figure.what}: {figure.value:.3g} {figure.unit} "
              f"(reference {figure.reference:.3g}, goal {figure.goal or '-'})")
