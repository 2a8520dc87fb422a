"""Synthetic cohorts made inside PostgreSQL (generate_series), fast enough for a million rows.

Scores are drawn with a fixed seed, so every run measures the same data.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

ANSWERS = (
    "json_build_object('workability', f1, 'confidence', f2, 'importance', f3, "
    "'steps_taken', 'all', 'steps_helped', 'yes', 'seen_work_coach', 'no')"
)


def make_study(conn: Connection, slug: str) -> tuple[int, int, int]:
    """A study with the default waves; returns (study id, wave1 id, wave2 id)."""
    study_id = conn.execute(text(
        "INSERT INTO studies (slug, name, disclosure_threshold, reliable_change) "
        "VALUES (:slug, 'Benchmark study', 7, '{\"workability\": 2}') RETURNING id"
    ), {"slug": slug}).scalar_one()
    waves = []
    for code, offset in (("wave1", 0), ("wave2", 42)):
        waves.append(conn.execute(text(
            "INSERT INTO waves (study_id, code, instrument, offset_days, reminder_days, "
            "close_days) VALUES (:s, :c, :c, :o, 7, 28) RETURNING id"
        ), {"s": study_id, "c": code, "o": offset}).scalar_one())
    return study_id, waves[0], waves[1]


def add_participants(conn: Connection, study_id: int, n: int, completed_on: date,
                     *, prefix: str = "B", email: bool = False) -> None:
    conn.execute(text("SELECT setseed(0.42)"))
    conn.execute(text(f"""
        INSERT INTO participants (study_id, ref, site, completed_on, language, email,
                                  workability_end, confidence_end, importance_end)
        SELECT :study, :prefix || g, 'Jobcentre ' || (g % 97), :completed,
               CASE WHEN g % 10 = 0 THEN 'cy' ELSE 'en' END,
               {"'client' || g || '@example.org'" if email else "NULL"},
               CASE WHEN random() < 0.03 THEN NULL ELSE floor(random() * 11)::int END,
               floor(random() * 11)::int, floor(random() * 11)::int
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


def add_responses(conn: Connection, study_id: int, wave_id: int, submitted_on: date) -> None:
    """A submitted follow-up for every participant: baseline plus a change of -3..+3."""
    conn.execute(text("SELECT setseed(0.17)"))
    conn.execute(text(f"""
        INSERT INTO responses (wave_id, participant_id, participant_ref, status, mode, source,
                               instrument, instrument_version, answers, submitted_on)
        SELECT :wave, id, ref, 'submitted', 'web', 'form', 'wave2', '1', {ANSWERS}, :on
        FROM (
            SELECT p.id, p.ref,
                   CASE WHEN random() < 0.02 THEN NULL ELSE least(10, greatest(0,
                       coalesce(p.workability_end, 5) + floor(random() * 7)::int - 3)) END AS f1,
                   least(10, greatest(0, p.confidence_end + floor(random() * 7)::int - 3)) AS f2,
                   least(10, greatest(0, p.importance_end + floor(random() * 5)::int - 2)) AS f3
            FROM participants p WHERE p.study_id = :study ORDER BY p.id
        ) AS s
    """), {"wave": wave_id, "study": study_id, "on": submitted_on})


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
