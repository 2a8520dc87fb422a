"""The evaluation report for `size` clients, every section, beside pandas on a CSV export.

The data: the EHD study (create_study: its waves and instruments), `size` participants
(97 sites, English and Welsh), three appointments each (four channels, three attendance
outcomes, a work-ability score), an invitation per client and wave (wave 1 answered;
wave 2 a mix of answered, closed and open) and a submitted response per answered
invitation (data.add_responses: the measures' answers and a few others; the triggers of
migration 0009 fill the scores). Bulk SQL, so no report-data stamp is written and nothing
is cached: every build below is a real one. On PostgreSQL the loader then does what a
study's first report and the scheduler's next pass would: stores the waves' answer sets and
folds the kept counts (decision 0013).

Ours, in a child process (median of `repeats`): `evaluation_report` as the page, API and
CLI build it, for each variant (no breakdown, then by site, channel, language and
appointments attended), and the same report rendered as the page (the standalone HTML of
`surveys report evaluation --format html`, the page's template pieces) and as the XLSX
spreadsheet. The reference, in its own child process: COPY participants, appointments,
invitations and responses (one column per question) to CSV, read them with pandas and
compute the report's figures with pandas and SciPy: each breakdown's groups (the main
channel by count, then latest appointment, then name), appointments per client, attendance
and channel counts, work ability from first to last appointment, invitation statuses per
wave, linkage, every question's answer counts (multiple choice exploded), paired change
per measure (directions, mean, median, Wilcoxon and sign tests) and the attrition check
(medians and Mann-Whitney). Its time per variant is the export and load (shared, counted
once in each variant: an evaluator would do both) plus that variant's computation.
Checked equal: response statuses, linkage, paired n / mean / median and attrition medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from benchmarks.common import ROOT, SECRET, Figure, engine_for, fresh_database, vacuum
from benchmarks.data import add_invitations, add_participants, add_responses, make_study

ALL_BREAKDOWNS = (None, "site", "channel", "language", "appointments")
# SURVEYS_BENCH_EVALUATION_BREAKDOWNS=none,site: only those variants (a time-boxed big run).
BREAKDOWNS = tuple(
    None if b == "none" else b
    for b in os.environ.get("SURVEYS_BENCH_EVALUATION_BREAKDOWNS", "").split(",") if b
) or ALL_BREAKDOWNS
FORMATS = ("report", "page", "xlsx")
DEMO = "demo"  # the size label of the shipped demo (ehd-2024, 333 clients, SQLite)


def variant_name(breakdown: str | None, fmt: str) -> str:
    by = f"by {breakdown}" if breakdown else "no breakdown"
    return f"evaluation {fmt}, {by}"


def _load(url: str, size: int) -> str:
    engine = engine_for(url)
    with engine.begin() as conn:
        study, wave1, wave2 = make_study(conn, "evaluation")
        add_participants(conn, study, size, date(2026, 1, 5))
        conn.execute(text("""
            INSERT INTO appointments (participant_id, appointment_on, channel, attendance,
                                      workability)
            SELECT p.id, DATE '2025-10-01' + (k * 14 + p.id % 9),
                   (ARRAY['telephone', 'face_to_face_site', 'face_to_face_neutral',
                          'video'])[1 + (p.id * 7 + k * (p.id % 3)) % 4],
                   CASE WHEN random() < 0.8 THEN 'attended' WHEN random() < 0.5
                        THEN 'unable_to_attend' ELSE 'failed_to_attend' END,
                   CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 11)::int END
            FROM participants p CROSS JOIN generate_series(1, 3) AS k
            WHERE p.study_id = :study
        """), {"study": study})
        add_invitations(conn, study, wave1, date(2026, 1, 5))
        add_invitations(conn, study, wave2, date(2026, 2, 16))
        conn.execute(text("UPDATE invitations SET status = 'completed' WHERE wave_id = :w"),
                     {"w": wave1})
        conn.execute(text("""
            UPDATE invitations SET status = CASE WHEN participant_id % 10 < 6 THEN 'completed'
                WHEN participant_id % 10 < 9 THEN 'closed' ELSE 'issued' END
            WHERE wave_id = :w"""), {"w": wave2})
        add_responses(conn, study, wave1, date(2026, 1, 12))
        add_responses(conn, study, wave2, date(2026, 2, 20))
        # Only answered invitations have a response.
        conn.execute(text("""
            DELETE FROM responses r USING invitations i
            WHERE r.wave_id = :w AND i.wave_id = :w AND i.participant_id = r.participant_id
              AND i.status <> 'completed'"""), {"w": wave2})
    # As the study's first report would (the one-off cost is measured apart, in
    # benchmarks/results.md): on PostgreSQL, its routed answers are counted together from now on.
    from surveys.db import make_session_factory
    from surveys.models import Study
    from surveys.reports.kept import fold
    from surveys.reports.questions import store_study_answer_sets

    with make_session_factory(engine)() as session:
        store_study_answer_sets(session, session.get(Study, study))
        # As the scheduler's next pass does (its tidy folds every study's fresh counts):
        # reports read one row per kept figure. Before that pass they sum the fresh rows
        # (the one-off difference is in benchmarks/results.md).
        fold(session)
        session.commit()
    engine.dispose()
    return "evaluation"


def _child(args: list[str], env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_evaluation", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=7200,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"bench_evaluation {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(size, ours: dict, theirs: dict | None) -> list[Figure]:
    figures = []
    for b in BREAKDOWNS:
        key = b or "none"
        reference = (theirs["shared_s"] + theirs["compute_s"][key]) if theirs else None
        for fmt in FORMATS:
            seconds = statistics.median(ours["seconds"][key][fmt])
            goal = "< 0.3 s" if size == 333 else "faster and < 2 s"
            met = seconds < 0.3 if size == 333 else (
                seconds < 2 and (reference is None or seconds < reference))
            figures.append(Figure(
                "evaluation", size, variant_name(b, fmt), seconds, "s",
                "CSV export + pandas + SciPy, s" if theirs else "", reference,
                higher_is_better=False, goal=goal, met=met,
                extra={"runs": ours["seconds"][key][fmt]}))
    return figures


def _check(ours: dict, theirs: dict) -> None:
    differ = [(k, ours["numbers"][k], theirs["numbers"][k]) for k in theirs["numbers"]
              if ours["numbers"].get(k) != theirs["numbers"][k]]
    if differ:
        raise RuntimeError(f"the report and pandas disagree: {differ[:5]}")


def run(sizes: list[int]) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        demo = Path(folder) / "demo.db"
        env = {"SURVEYS_DATABASE_URL": f"sqlite:///{demo}", "SURVEYS_SECRET_KEY": SECRET,
               "SURVEYS_INSTANCE_DIR": folder}
        for args in (["db", "upgrade"], ["demo"]):
            subprocess.run([str(Path(sys.executable).parent / "surveys"), *args], check=True,
                           capture_output=True, env={**os.environ, **env})
        ours = _child(["ours", f"sqlite:///{demo}", "ehd-2024", "5"], env)
        figures += _figures(333, ours, None)
    for size in sizes:
        url = fresh_database("surveys_bench_evaluation")
        slug = _load(url, size)
        vacuum(url)
        repeats = "3" if size <= 100_000 else "1"
        ours = _child(["ours", url, slug, repeats])
        with tempfile.TemporaryDirectory() as folder:
            theirs = _child(["pandas", url, slug, folder])
        _check(ours, theirs)
        figures += _figures(size, ours, theirs)
    return figures


# The two children ------------------------------------------------------------------------


def _numbers(report: dict, breakdown: str | None) -> dict:
    """Figures both ways must agree on (no breakdown only): statuses, linkage, paired
    change and the attrition medians."""
    if breakdown is not None:
        return {}
    out = {}
    sections = {s["id"]: s for s in report["sections"]}
    for table in sections["missing"]["tables"]:
        if table["id"] in ("response-rates", "linkage"):
            for row in table["rows"]:
                for col, value in row["cells"].items():
                    if col.endswith(":count"):
                        out[f"{table['id']}/{row['key']}/{col}"] = value
        elif table["id"].startswith("attrition-"):
            for row in table["rows"]:
                for col in ("responders", "responders_median", "non_responders",
                            "non_responders_median"):
                    out[f"attrition/{row['key']}/{col}"] = row["cells"][col]
    for key, e in report["paired"]["measures"].items():
        out[f"paired/{key}/n"] = e["n"]
        out[f"paired/{key}/mean"] = round(e["mean_change"], 9)
        out[f"paired/{key}/median"] = e["median_change"]
    return out


def ours(url: str, slug: str, repeats: str) -> dict:
    """The service's evaluation report: built, rendered as the page and as the XLSX."""
    from sqlalchemy import select

    import analysis.paired  # noqa: F401  (SciPy, imported once before timing)
    from surveys import create_app
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Study
    from surveys.reports import render_html
    from surveys.reports.evaluation import _attrition, evaluation_report
    from surveys.reports.export import render_xlsx
    from surveys.settings import Settings

    os.environ.update({"SURVEYS_DATABASE_URL": url, "SURVEYS_SECRET_KEY": SECRET})
    os.environ.setdefault("SURVEYS_INSTANCE_DIR", tempfile.mkdtemp())
    settings = Settings.from_env()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    app = create_app({"SETTINGS": settings, "ENGINE": engine})
    # As the serving processes do once the app is made (surveys.wsgi, `surveys run`).
    from surveys.heap import freeze_startup_objects

    freeze_startup_objects()
    seconds: dict = {}
    numbers: dict = {}
    with app.app_context():
        for b in BREAKDOWNS:
            runs: dict = {fmt: [] for fmt in FORMATS}
            for _ in range(int(repeats)):
                # A cold build: the attrition test's memo (keyed on the counts) would make
                # every run after the first skip its permutation p.
                _attrition.cache_clear()
                with factory() as session:
                    start = time.perf_counter()
                    study = session.scalar(select(Study).where(Study.slug == slug))
                    report = evaluation_report(session, study, breakdown=b)
                    built = time.perf_counter() - start
                start = time.perf_counter()
                render_html(report)
                page = time.perf_counter() - start
                start = time.perf_counter()
                render_xlsx(report)
                sheet = time.perf_counter() - start
                runs["report"].append(built)
                runs["page"].append(built + page)
                runs["xlsx"].append(built + sheet)
            seconds[b or "none"] = runs
            numbers.update(_numbers(report, b))
    engine.dispose()
    return {"seconds": seconds, "numbers": numbers}


def _copy(conn, query: str, path: Path) -> None:
    with conn.cursor() as cur, open(path, "wb") as out, cur.copy(
            f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
        for block in copy:
            out.write(block)


def reference(url: str, slug: str, folder: str) -> dict:
    """What an evaluator would do: export the tables to CSV, compute with pandas + SciPy."""
    import numpy as np
    import pandas as pd
    import psycopg
    from scipy import stats

    from instruments.loader import load_instrument
    from instruments.model import MULTIPLE_CHOICE

    start = time.perf_counter()
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    out = Path(folder)
    with psycopg.connect(plain) as conn:
        study = conn.execute("SELECT id FROM studies WHERE slug = %s", (slug,)).fetchone()[0]
        waves = conn.execute("SELECT id, code, instrument, instrument_version FROM waves "
                             "WHERE study_id = %s ORDER BY offset_days", (study,)).fetchall()
        measures = conn.execute("SELECT key, slot FROM measures WHERE study_id = %s "
                                "AND kind = 'scale' ORDER BY position", (study,)).fetchall()
        questions = {}
        for _, code, name, version in waves:
            questions[code] = load_instrument(name, version).questions()  # shipped ones
        slots = ", ".join(f"baseline_{s}" for _, s in measures)
        _copy(conn, f"SELECT id, site, language, {slots} FROM participants "
              f"WHERE study_id = {study}", out / "participants.csv")
        _copy(conn, "SELECT a.participant_id, a.appointment_on, a.id, a.channel, a.attendance,"
              " a.workability FROM appointments a JOIN participants p ON p.id = "
              f"a.participant_id WHERE p.study_id = {study}", out / "appointments.csv")
        _copy(conn, "SELECT i.participant_id, w.code, i.status FROM invitations i JOIN waves w"
              f" ON w.id = i.wave_id WHERE w.study_id = {study}", out / "invitations.csv")
        for _, code, _, _ in waves:
            answers = ", ".join(f"r.answers->>'{q.id}' AS \"{q.id}\"" for q in questions[code])
            scores = ", ".join(f"r.score_{s} AS f_{k}, r.baseline_{s} AS b_{k}"
                               for k, s in measures)
            _copy(conn, f"SELECT r.participant_id, r.participant_ref, {scores}, {answers} "
                  f"FROM responses r JOIN waves w ON w.id = r.wave_id WHERE w.code = '{code}'"
                  f" AND w.study_id = {study} AND r.status = 'submitted'",
                  out / f"responses-{code}.csv")
    people = pd.read_csv(out / "participants.csv", dtype={"site": "string"})
    visits = pd.read_csv(out / "appointments.csv", parse_dates=["appointment_on"])
    invites = pd.read_csv(out / "invitations.csv")
    answers = {code: pd.read_csv(out / f"responses-{code}.csv", dtype="string")
               for _, code, _, _ in waves}
    shared = time.perf_counter() - start

    def groups(breakdown: str | None) -> pd.Series:
        """participant id -> group (None: everyone in one group)."""
        if breakdown in ("site", "language"):
            return people.set_index("id")[breakdown]
        if breakdown == "appointments":
            attended = visits[visits.attendance == "attended"].groupby("participant_id").size()
            return attended.reindex(people.id, fill_value=0).astype(str)
        if breakdown == "channel":
            per = visits.groupby(["participant_id", "channel"]).agg(
                n=("id", "size"), latest=("appointment_on", "max")).reset_index()
            per = per.sort_values(["participant_id", "n", "latest", "channel"],
                                  ascending=[True, False, False, True])
            main = per.drop_duplicates("participant_id").set_index("participant_id").channel
            return main.reindex(people.id)
        return pd.Series("all", index=people.id)

    compute: dict = {}
    numbers: dict = {}
    for breakdown in BREAKDOWNS:
        began = time.perf_counter()
        group = groups(breakdown).rename("group")
        figures: dict = {}
        # The intervention: appointments per client, attendance, channel, work ability.
        attended = visits[visits.attendance == "attended"].groupby("participant_id").size()
        per_client = attended.reindex(people.id, fill_value=0)
        figures["per_client"] = per_client.groupby(group.reindex(people.id).values,
                                                   dropna=False).value_counts()
        with_group = visits.join(group, on="participant_id")
        for column in ("attendance", "channel"):
            figures[column] = with_group.groupby(["group", column], dropna=False).size()
        figures["clients"] = with_group.groupby("group", dropna=False).participant_id.nunique()
        scored = visits.dropna(subset=["workability"]).sort_values(
            ["participant_id", "appointment_on", "id"])
        ends = scored.groupby("participant_id").workability.agg(["first", "last", "size"])
        kind = np.select([ends["size"] == 1, ends["last"] > ends["first"],
                          ends["last"] < ends["first"]], ["single", "improved", "deteriorated"],
                         "same")
        kinds = pd.Series(kind, index=ends.index).reindex(people.id, fill_value="none")
        figures["first_to_last"] = kinds.groupby(group.reindex(people.id).values,
                                                 dropna=False).value_counts()
        # Who is missing: statuses per wave and group; linkage per wave.
        joined = invites.join(group, on="participant_id")
        figures["statuses"] = joined.groupby(["group", "code", "status"], dropna=False).size()
        if breakdown is None:
            for (code, status), n in invites.groupby(["code", "status"]).size().items():
                numbers[f"response-rates/{status}/{code}:count"] = int(n)
        # The waves: every question's answers per group (routing: answered ones only).
        for code, frame in answers.items():
            linked = frame.participant_id.astype("float").astype("Int64")
            if breakdown is None:
                refs = frame.participant_ref
                reason = np.select([linked.notna().to_numpy(), refs.isna().to_numpy(),
                                    (refs.fillna("").str.strip() == "").to_numpy()],
                                   ["linked", "erased", "blank"], "not_in_cohort")
                for why, n in pd.Series(reason).value_counts().items():
                    numbers[f"linkage/{why}/{code}:count"] = int(n)
            where = group.reindex(linked).to_numpy()
            for question in questions[code]:
                column = frame[question.id].dropna()
                if question.type == MULTIPLE_CHOICE:
                    column = column.map(json.loads).explode()
                figures[f"{code}/{question.id}"] = column.groupby(
                    where[column.index] if breakdown else np.zeros(len(column)),
                    dropna=False).value_counts()
        # Paired change per measure, and the attrition check, on the follow-up wave.
        follow = answers[waves[-1][1]]
        responded = set(follow.participant_id.dropna().astype(float).astype(int))
        issued = invites[(invites.code == waves[-1][1]) & invites.status.isin(
            ["issued", "completed", "closed"])].participant_id
        for key, slot in measures:
            pair = follow[[f"b_{key}", f"f_{key}", "participant_id"]].dropna().astype(float)
            change = pair[f"f_{key}"] - pair[f"b_{key}"]
            by = group.reindex(pair.participant_id.astype(int)).to_numpy()
            figures[f"paired/{key}"] = np.sign(change).groupby(
                by if breakdown else np.zeros(len(change)), dropna=False).value_counts()
            nonzero = change[change != 0].to_numpy()
            up, down = int((nonzero > 0).sum()), int((nonzero < 0).sum())
            figures[f"tests/{key}"] = (
                float(change.mean()), float(change.median()),
                stats.wilcoxon(nonzero, method="asymptotic", correction=True).pvalue,
                stats.binomtest(up, up + down).pvalue)
            base = people.set_index("id")[f"baseline_{slot}"]
            asked = base.reindex(pd.Index(sorted(set(issued) | responded)))
            mask = asked.index.isin(list(responded))
            yes, no = asked[mask].dropna(), asked[~mask].dropna()
            test = stats.mannwhitneyu(yes, no, alternative="two-sided")
            figures[f"attrition/{key}"] = (yes.median(), no.median(), test.pvalue)
            if breakdown is None:
                numbers[f"paired/{key}/n"] = int(change.size)
                numbers[f"paired/{key}/mean"] = round(float(change.mean()), 9)
                numbers[f"paired/{key}/median"] = float(change.median())
                numbers[f"attrition/{key}/responders"] = int(yes.size)
                numbers[f"attrition/{key}/responders_median"] = float(yes.median())
                numbers[f"attrition/{key}/non_responders"] = int(no.size)
                numbers[f"attrition/{key}/non_responders_median"] = float(no.median())
        compute[breakdown or "none"] = time.perf_counter() - began
    return {"shared_s": shared, "compute_s": compute, "numbers": numbers}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps({"ours": ours, "pandas": reference}[kind](*args), default=float))
