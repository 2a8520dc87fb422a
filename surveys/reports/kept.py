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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import (
    BigInteger,
    Numeric,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveys.models import Study, report_answer_sets, report_counts

log = logging.getLogger(__name__)

_KEY = "surveys.kept_counts"
# Set in a session's info to build its reports from rows (the tests' and check's comparison).
COUNT_FROM_ROWS = "surveys.count_from_rows"
NO_BREAKDOWN = ""
# Read, not kept: the paired values summed by direction of change (see `read`).
DIRECTION = "direction"

Row = tuple  # (group, k1, k2, k3, k4, n)


class KeptCounts:
    """Figures of one study: figure -> breakdown ('' for none) -> (group, k1..k4, n) rows."""

    def __init__(self, study: Study, rows, answer_sets=(), figures: Sequence[str] = ()) -> None:
        self.study_id = study.id
        self.figures = frozenset(figures)  # the only figures read, if any are named
        self.wave_ids = {w.id for w in study.waves}
        # Per wave: the sets of questions its "joint" rows count together, in order.
        self.answer_sets: dict[int, list[list[str]]] = defaultdict(list)
        for wave_id, keys in answer_sets:
            self.answer_sets[wave_id].append(list(keys))
        self._rows: dict[tuple[str, str], list[Row]] = {
            (figure, dim): items for figure, dim, items in rows}

    def rows(self, figure: str, dim: str = NO_BREAKDOWN) -> list[Row]:
        if self.figures and figure not in self.figures:  # not read: none is not zero
            raise LookupError(f"kept figure {figure!r} was not read")
        return self._rows.get((figure, dim), [])

    def total(self, figure: str, **keys: str) -> int:
        """The figure's count with no breakdown, over the rows whose keys match."""
        names = ("k1", "k2", "k3", "k4")
        return sum(row[-1] for row in self.rows(figure)
                   if all(row[1 + names.index(k)] == v for k, v in keys.items()))


def read(session: Session, study: Study, dim: str | None,
         figures: Sequence[str] = ()) -> KeptCounts:
    """The study's kept counts, with no breakdown and in `dim`; only `figures` if given."""
    t = report_counts.c
    wanted = or_(t.dim == NO_BREAKDOWN, and_(t.dim == "site", t.figure == "people"))
    if dim:
        wanted = or_(wanted, t.dim == literal(dim))
    if figures:
        wanted = and_(wanted, t.figure.in_(figures))
    keys = (t.dim, t.grp, t.figure, t.k1, t.k2, t.k3, t.k4)
    # A breakdown's paired values (97 sites x 3 measures x 11 x 11 scores) are only ever
    # read as directions: summed below, per group, wave, slot and sign of the change.
    mine = and_(t.study_id == study.id, wanted,
                or_(t.figure != "pair", t.dim == NO_BREAKDOWN))
    # Folded rows hold one count per key; the scheduler's tidy folds every pass, so a
    # study usually has no fresh rows and its counts are read as they are. Only with fresh
    # rows are they summed per key (PostgreSQL runs just one branch: a one-time filter).
    fresh = exists().where(t.study_id == study.id, not_(t.folded))
    as_folded = select(*keys, t.n).where(mine, t.folded, t.n != 0, not_(fresh))
    # sum(bigint) is numeric: cast back, so the counts are ints, not Decimals.
    total = cast(func.sum(t.n), BigInteger)
    as_summed = (select(*keys, total.label("n")).where(mine, fresh)
                 .group_by(*keys).having(total != 0))
    # The figure DIRECTION: k3 = -1, 0 or 1; pairs missing either value are left out.
    change = func.sign(cast(t.k4, Numeric) - cast(t.k3, Numeric))
    directions = (
        select(t.dim, t.grp, literal(DIRECTION).label("figure"), t.k1, t.k2,
               cast(change, Text).label("k3"), null().label("k4"), total.label("n"))
        .where(t.study_id == study.id, t.dim == literal(dim or NO_BREAKDOWN),
               t.figure == "pair", t.k3.is_not(None), t.k4.is_not(None))
        .group_by(t.dim, t.grp, t.k1, t.k2, change).having(total != 0))
    parts = [as_folded, as_summed, *([directions] if not figures else [])]
    kept = union_all(*parts).subquery().c
    # One array per column, figure and breakdown: tens of thousands of counts (by site)
    # are parsed in C, not made into rows one by one.
    rows = session.execute(
        select(kept.figure, kept.dim, *(func.array_agg(k) for k in (
            kept.grp, kept.k1, kept.k2, kept.k3, kept.k4, kept.n)))
        .group_by(kept.figure, kept.dim)).all()
    s = report_answer_sets.c
    sets = session.execute(select(s.wave_id, s["keys"]).where(
        s.wave_id.in_([w.id for w in study.waves])).order_by(s.wave_id, s.position))
    return KeptCounts(study, [(figure, d, list(zip(*columns, strict=True)))
                              for figure, d, *columns in rows], sets, figures)


@contextmanager
def reading_kept_counts(session: Session, study: Study, dim: str | None,
                        figures: Sequence[str] = ()) -> Iterator[None]:
    """Within: `queries` answer from the kept counts of `study` (PostgreSQL only). With
    `figures`, only those are read: asking for any other raises LookupError."""
    if (session.get_bind().dialect.name != "postgresql" or _KEY in session.info
            or session.info.get(COUNT_FROM_ROWS)):
        yield
        return
    session.info[_KEY] = read(session, study, dim, figures)
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
