"""The counts PostgreSQL keeps at write time (migration 0018, decision 0013), read once
per report.

A report built inside `reading_kept_counts` reads every figure those counts hold with one
statement (summing the signed rows of its study, with no breakdown and in its breakdown)
instead of the GROUP BY over rows in `queries`; each function of `queries` that has a kept
figure asks `kept_for` first. SQLite, and any query outside a report, counts from rows.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import BigInteger, and_, cast, func, literal, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveys.models import Study, report_answer_sets, report_counts

log = logging.getLogger(__name__)

_KEY = "surveys.kept_counts"
# Set in a session's info to build its reports from rows (the tests' and check's comparison).
COUNT_FROM_ROWS = "surveys.count_from_rows"
NO_BREAKDOWN = ""

Row = list  # [group, k1, k2, k3, k4, n]


class KeptCounts:
    """Figures of one study: figure -> breakdown ('' for none) -> (group, k1..k4, n) rows."""

    def __init__(self, study: Study, rows, answer_sets=()) -> None:
        self.study_id = study.id
        self.wave_ids = {w.id for w in study.waves}
        # Per wave: the sets of questions its "joint" rows count together, in order.
        self.answer_sets: dict[int, list[list[str]]] = defaultdict(list)
        for wave_id, keys in answer_sets:
            self.answer_sets[wave_id].append(list(keys))
        self._rows: dict[tuple[str, str], list[Row]] = {
            (figure, dim): items for figure, dim, items in rows}

    def rows(self, figure: str, dim: str = NO_BREAKDOWN) -> list[Row]:
        return self._rows.get((figure, dim), [])

    def total(self, figure: str, **keys: str) -> int:
        """The figure's count with no breakdown, over the rows whose keys match."""
        names = ("k1", "k2", "k3", "k4")
        return sum(row[-1] for row in self.rows(figure)
                   if all(row[1 + names.index(k)] == v for k, v in keys.items()))


def read(session: Session, study: Study, dim: str | None) -> KeptCounts:
    t = report_counts.c
    wanted = or_(t.dim == NO_BREAKDOWN, and_(t.dim == "site", t.figure == "people"))
    if dim:
        wanted = or_(wanted, t.dim == literal(dim))
    keys = (t.dim, t.grp, t.figure, t.k1, t.k2, t.k3, t.k4)
    # sum(bigint) is numeric: cast back, so the counts are ints, not Decimals.
    summed = (select(*keys, cast(func.sum(t.n), BigInteger).label("n"))
              .where(t.study_id == study.id, wanted)
              .group_by(*keys).having(func.sum(t.n) != 0).subquery())
    # One JSON array of [group, k1, k2, k3, k4, n] per figure and breakdown: tens of
    # thousands of counts (by site) are parsed in C, not made into rows one by one.
    c = summed.c
    rows = session.execute(
        select(c.figure, c.dim,
               func.json_agg(func.json_build_array(c.grp, c.k1, c.k2, c.k3, c.k4, c.n)))
        .group_by(c.figure, c.dim))
    s = report_answer_sets.c
    sets = session.execute(select(s.wave_id, s["keys"]).where(
        s.wave_id.in_([w.id for w in study.waves])).order_by(s.wave_id, s.position))
    return KeptCounts(study, rows, sets)


@contextmanager
def reading_kept_counts(session: Session, study: Study, dim: str | None) -> Iterator[None]:
    """Within: `queries` answer from the kept counts of `study` (PostgreSQL only)."""
    if (session.get_bind().dialect.name != "postgresql" or _KEY in session.info
            or session.info.get(COUNT_FROM_ROWS)):
        yield
        return
    session.info[_KEY] = read(session, study, dim)
    try:
        yield
    finally:
        session.info.pop(_KEY, None)


def kept_for(session: Session, study_id: int | None = None,
             wave_id: int | None = None) -> KeptCounts | None:
    """The kept counts being read, if they are of this study (or hold this wave)."""
    kept = session.info.get(_KEY)
    if kept is None:
        return None
    if study_id is not None and kept.study_id != study_id:
        return None
    if wave_id is not None and wave_id not in kept.wave_ids:
        return None
    return kept


def fold(session: Session) -> None:
    """Sum every study's fresh rows into its folded ones (PostgreSQL; the scheduler's tidy
    does this each pass, so a report reads about one row per figure and key)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT report_counts_fold(id) FROM studies"))


def summed(session: Session, study_id: int) -> dict[tuple, int]:
    """Every kept figure of a study: (breakdown, group, figure, keys...) -> count."""
    t = report_counts.c
    keys = (t.dim, t.grp, t.figure, t.k1, t.k2, t.k3, t.k4)
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(
        select(*keys, func.sum(t.n)).where(t.study_id == study_id)
        .group_by(*keys).having(func.sum(t.n) != 0))}


def check(session: Session, study: Study) -> tuple[int, int]:
    """(figures that differ, figures in all) between the kept counts of `study` and a count
    from its rows. Leaves the study recounted in the session's transaction: roll back to
    keep what was there, commit to repair."""
    before = summed(session, study.id)
    session.execute(select(func.report_counts_recount(study.id)))
    after = summed(session, study.id)
    differ = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return differ, len(after)


def store_answer_sets(session: Session, wave_id: int, sets: list[list[str]]) -> bool:
    """Count `sets` (lists of question ids) together for the wave from now on: recount its
    "joint" rows for them, in a transaction of its own that holds writes to responses off
    (SHARE lock), so that no response is counted for the old sets or missed. Called by a
    report that found the stored sets differ from its questionnaire's (the first report of
    a wave, or after its questionnaire changed); it counted from rows this time. False if
    responses could not be locked within two seconds (the next report tries again)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    try:
        with session.get_bind().connect() as conn, conn.begin():
            conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(text("LOCK TABLE responses IN SHARE MODE"))
            conn.execute(text("SELECT report_counts_joint(:wave, CAST(:sets AS jsonb))"),
                         {"wave": wave_id, "sets": json.dumps(sets)})
        return True
    except OperationalError:
        log.warning("could not store the answer sets of wave %s: responses were busy", wave_id)
        return False
