"""Synthetic cohorts made inside PostgreSQL (generate_series), fast enough for a million rows.

Scores are drawn with a fixed seed, so every run measures the same data. A study's measures
say where values go (decision 0009): a participant's baseline in baseline_<slot>, and a
response's answers under the measure keys, from which the database triggers of migration
0009 fill score_<slot> (and copy baseline_<slot> from the participant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Spec:
    """One measure of a benchmark study and how its synthetic values are drawn (SQL)."""

    key: str
    kind: str  # scale | binary
    better: str  # higher | lower | yes | no
    baseline: str  # SQL for the stored baseline
    follow_up: str  # SQL for the follow-up answer (JSON value), may use `b` (the baseline)


# The EHD's three 0-10 measures in slots 1..3, drawn exactly as before issue 12, so the
# figures stay comparable with earlier runs.
EHD = (
    Spec("workability", "scale", "higher",
         "CASE WHEN random() < 0.03 THEN NULL ELSE floor(random() * 11)::int END",
         "CASE WHEN random() < 0.02 THEN NULL ELSE least(10, greatest(0, "
         "coalesce(b, 5) + floor(random() * 7)::int - 3)) END"),
    Spec("confidence", "scale", "higher", "floor(random() * 11)::int",
         "least(10, greatest(0, b + floor(random() * 7)::int - 3))"),
    Spec("importance", "scale", "higher", "floor(random() * 11)::int",
         "least(10, greatest(0, b + floor(random() * 5)::int - 2))"),
)
# The "two measures of each kind": two 0-10 scales and two yes/no (better: no, as
# the HWS pilot's), in slots 1..4. A yes/no answer changes for about one pair in five.
_YES_NO = ("CASE WHEN random() < 0.02 THEN NULL WHEN random() < CASE WHEN b = 1 THEN {keep} "
           "ELSE {start} END THEN 'yes' ELSE 'no' END")
MIXED = (
    EHD[0],
    EHD[1],
    Spec("concerned_job", "binary", "no",
         "CASE WHEN random() < 0.02 THEN NULL WHEN random() < 0.34 THEN 1 ELSE 0 END",
         _YES_NO.format(keep=0.45, start=0.06)),
    Spec("absent", "binary", "no", "CASE WHEN random() < 0.27 THEN 1 ELSE 0 END",
         _YES_NO.format(keep=0.4, start=0.05)),
)
VARIANTS = {"ehd": EHD, "mixed": MIXED}
OTHER_ANSWERS = "'steps_taken', 'all', 'steps_helped', 'yes', 'seen_work_coach', 'no'"


def make_study(conn: Connection, slug: str, measures: tuple[Spec, ...] = EHD
               ) -> tuple[int, int, int]:
    """A study with the default waves and `measures` in slots 1.. (EHD: create_study, as the
    service makes it); returns (study id, wave1 id, wave2 id)."""
    from surveys.models import Measure
    from surveys.studies import create_study

    session = Session(bind=conn)
    study = create_study(session, slug, "Benchmark study")
    if measures != EHD:
        study.measures = []
        session.flush()  # the EHD's slots are free before the new measures take them
        study.measures = [
            Measure(key=m.key, position=slot, slot=slot, kind=m.kind, better=m.better,
                    min_value=0 if m.kind == "scale" else None,
                    max_value=10 if m.kind == "scale" else None,
                    reliable_change=2 if m.key == "workability" else None, baseline=True,
                    label={"en": m.key, "cy": m.key})
            for slot, m in enumerate(measures, start=1)
        ]
    session.flush()
    ids = study.id, *(w.id for w in sorted(study.waves, key=lambda w: w.offset_days))
    session.close()
    return ids


def add_participants(conn: Connection, study_id: int, n: int, completed_on: date,
                     *, prefix: str = "B", email: bool = False,
                     measures: tuple[Spec, ...] = EHD) -> None:
    conn.execute(text("SELECT setseed(0.42)"))
    slots = ", ".join(f"baseline_{k}" for k in range(1, len(measures) + 1))
    drawn = ", ".join(m.baseline for m in measures)
    conn.execute(text(f"""
        INSERT INTO participants (study_id, ref, site, completed_on, language, email, {slots})
        SELECT :study, :prefix || g, 'Jobcentre ' || (g % 97), :completed,
               CASE WHEN g % 10 = 0 THEN 'cy' ELSE 'en' END,
               {"'client' || g || '@example.org'" if email else "NULL"}, {drawn}
        FROM generate_series(1, :n) AS g
    """), {"study": study_id, "prefix": prefix, "completed": completed_on, "n": n})


# Random stand-ins for token hashes, all sorting after every real SHA-256 hex digest
# but a 1 in 256 few: the service checks its secret key against the lowest ones.
HASH = "'ff' || substr(md5(random()::text) || md5(random()::text), 3)"


def add_invitations(conn: Connection, study_id: int, wave_id: int, due_on: date,
                    status: str = "scheduled") -> None:
    """One invitation per participant of the study; issued ones get a random token hash."""
    issued = status == "issued"
    conn.execute(text(f"""
        INSERT INTO invitations (participant_id, wave_id, due_on, status, nonce, token_hash,
                                 closes_on, reminder_due_on, delivery_status, delivery_kind,
                                 attempts)
        SELECT p.id, :wave, :due, :status,
               {"md5(random()::text)" if issued else "NULL"},
               {HASH if issued else "NULL"},
               {":due + 28" if issued else "NULL"}, {":due + 7" if issued else "NULL"},
               'none', 'invitation', 0
        FROM participants p WHERE p.study_id = :study ORDER BY p.id
    """), {"wave": wave_id, "due": due_on, "status": status, "study": study_id})


def add_responses(conn: Connection, study_id: int, wave_id: int, submitted_on: date,
                  *, measures: tuple[Spec, ...] = EHD, table: str = "responses") -> None:
    """A submitted follow-up for every participant: each measure's answer drawn from its
    baseline (scales: a change of -3..+3). Only `answers` is written: the triggers fill the
    score and baseline columns (a `table` without them, e.g. a LIKE copy, gets none)."""
    conn.execute(text("SELECT setseed(0.17)"))
    keys = ", ".join(f"'{m.key}', f{k}" for k, m in enumerate(measures, start=1))
    drawn = ", ".join(_with_baseline(m.follow_up, f"p.baseline_{k}") + f" AS f{k}"
                      for k, m in enumerate(measures, start=1))
    conn.execute(text(f"""
        INSERT INTO {table} (wave_id, participant_id, participant_ref, status, mode, source,
                             instrument, instrument_version, answers, submitted_on)
        SELECT :wave, id, ref, 'submitted', 'web', 'form', 'wave2', '1',
               json_build_object({keys}, {OTHER_ANSWERS}), :on
        FROM (
            SELECT p.id, p.ref, {drawn}
            FROM participants p WHERE p.study_id = :study ORDER BY p.id
        ) AS s
    """), {"wave": wave_id, "study": study_id, "on": submitted_on})


def _with_baseline(sql: str, column: str) -> str:
    """A Spec's follow-up SQL with its placeholder `b` (a whole word) replaced by `column`."""
    return re.sub(r"\bb\b", column, sql)


def participants_csv(path, n: int, completed_on: date) -> int:
    """A participants.csv of n valid rows (contracts section 2); returns its size in bytes."""
    header = ("participant_ref,site,completed_on,language,email,phone,"
              "workability_end,confidence_end,importance_end\n")
    day = completed_on.isoformat()
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(header)
        for start in range(1, n + 1, 10_000):
            out.write("".join(
                f"R-{i:07d},Jobcentre {i % 97},{day},{'cy' if i % 10 == 0 else 'en'},"
                f"client{i}@example.org,07700 9{i % 100000:05d},{i % 11},{(i * 7) % 11},"
                f"{(i * 3) % 11}\n"
                for i in range(start, min(n, start + 9_999) + 1)
            ))
    return path.stat().st_size
