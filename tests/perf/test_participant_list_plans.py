"""The participants page stays fast at a million participants: its search and its pages
read through indexes on SQLite and PostgreSQL (query plans of the real statements).

The statements run by surveys.cohort.participant_list against a small cohort are
recorded and EXPLAINed. On PostgreSQL sequential scans are disabled, so a Seq Scan
means no index can serve the query; on SQLite a plain `SCAN participants` (no index) or a
temporary B-tree for the reference order would mean the same.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from surveys.cohort import participant_list as plist
from surveys.cohort.importer import import_cohort
from surveys.invitations import listing
from surveys.studies import resolve_study
from tests.helpers import participants_csv, person


@pytest.fixture
def recorded(engine):
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def pg_plan(engine, statement: str, parameters) -> tuple[list[str], set[str]]:
    """(tables read by a sequential scan, indexes used)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        payload = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                       parameters).all()[0][0]
        conn.rollback()
    plan = (json.loads(payload) if isinstance(payload, str) else payload)[0]["Plan"]
    scans, names, todo = [], set(), [plan]
    while todo:
        node = todo.pop()
        if node.get("Node Type") == "Seq Scan":
            scans.append(node.get("Relation Name"))
        if "Index Name" in node:
            names.add(node["Index Name"])
        todo.extend(node.get("Plans", []))
    return scans, names


def sqlite_plan(engine, statement: str, parameters) -> list[str]:
    with engine.connect() as conn:
        return [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                        parameters).all()]


def test_participant_search_and_pages_read_through_indexes(engine, session_factory, clock,
                                                           recorded):
    today = clock().date()
    people = [person(f"R-{i:04}", today - timedelta(days=i % 9), site=f"Site {i % 7}")
              for i in range(300)]
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        import_cohort(s, study, participants_csv(*people), today=today)
        s.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with session_factory() as s:
        study = resolve_study(s, None)
        recorded.clear()
        found = plist.page_of(s, study, plist.Filters(ref="r-01"), 1)
        search = list(recorded)
        recorded.clear()
        listed = plist.page_of(s, study, plist.Filters(), 3)
        pages = list(recorded)
        sorted_pages = []
        for sort in ("site", "completed_on"):
            recorded.clear()
            plist.page_of(s, study, plist.Filters(sort=sort), 2)
            sorted_pages.append(recorded[-1])
    assert found.total == 100 and listed.first == 101
    assert len(search) == 2 and len(pages) == 2  # the count, then the page

    if engine.dialect.name == "postgresql":
        for statement, parameters in search + pages + sorted_pages:
            scans, names = pg_plan(engine, statement, parameters)
            assert scans == [], f"a whole-table scan:\n{statement}"
        for statement, parameters in search:
            assert "ix_participants_ref_lower" in pg_plan(engine, statement, parameters)[1]
        return
    for statement, parameters in search:
        details = sqlite_plan(engine, statement, parameters)
        assert any("ix_participants_ref_lower" in d for d in details), details
    for statement, parameters in search + pages:
        details = sqlite_plan(engine, statement, parameters)
        assert not [d for d in details if d.startswith("SCAN participants")], details
    for statement, parameters in (pages[1], *sorted_pages):  # no sort of all rows
        page_plan = sqlite_plan(engine, statement, parameters)
        assert not [d for d in page_plan if "TEMP B-TREE" in d], page_plan


def test_questionnaire_list_filters_read_through_indexes(engine, session_factory, clock,
                                                         recorded):
    """The questionnaires page (surveys.invitations.listing): its count and its page read
    the study's invitations through an index (wave, status, failed delivery, reference);
    the page of 50 is merged from each wave's first rows in index order."""
    today = clock().date()
    people = [person(f"R-{i:04}", today - timedelta(days=i % 9)) for i in range(300)]
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        import_cohort(s, study, participants_csv(*people), today=today)
        s.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with session_factory() as s:
        study = resolve_study(s, None)
        recorded.clear()
        pages = [listing.page_of(s, study, listing.Filters(**f), 1) for f in (
            {}, {"wave": "wave1"}, {"wave": "wave2", "status": "scheduled"},
            {"status": "failed"}, {"ref": "r-01"})]
        statements = [(st, p) for st, p in recorded if "FROM invitations" in st]
    assert [p.total for p in pages] == [600, 300, 300, 0, 200]
    assert len(statements) >= 15  # each: the counts, the page's ids, its rows

    for statement, parameters in statements:
        if engine.dialect.name == "postgresql":
            scans, names = pg_plan(engine, statement, parameters)
            assert scans == [], f"a whole-table scan:\n{statement}"
            assert any(n.startswith(("ix_invitations", "ix_participants", "invitations_pkey"))
                       for n in names), (names, statement)
        else:
            details = sqlite_plan(engine, statement, parameters)
            assert not [d for d in details if d.startswith(("SCAN invitations",
                                                            "SCAN participants"))], (
                details, statement)
