"""The audit page stays fast however long the log grows: each of its filters (who, study,
kind, dates) is an index range for the page's count and for the page itself, newest
first, on SQLite and PostgreSQL; so is a participant's timeline finding the events that
name them (migration 0014).

The statements the real page runs are recorded and EXPLAINed, as in
test_participant_list_plans.py: on PostgreSQL with sequential scans disabled (a Seq Scan
then means no index serves the query), on SQLite a plain `SCAN audit_events` or a
temporary B-tree for the newest-first order would mean the same.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from surveys.accounts import create_user
from surveys.cohort import participant_list as plist
from surveys.cohort import participant_record as record
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent
from surveys.privacy import ref_digest
from surveys.studies import create_study, resolve_study
from tests.helpers import participants_csv, person, sign_in
from tests.perf.test_participant_list_plans import pg_plan, sqlite_plan

PASSWORD = "correct horse battery"
ACTIONS = ("sign_in", "participant_resend", "contact_details_changed", "study_apply")


@pytest.fixture
def recorded(engine):
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if not executemany and "FROM audit_events" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    yield statements
    event.remove(engine, "before_cursor_execute", keep)


@pytest.fixture
def long_log(engine, session_factory, settings, clock):
    """3,000 events over 300 days by 30 people in 6 studies, a third naming a participant;
    the person, study and kind filtered on are rare (75 events each), as one person, study
    or kind is in a long log, so each filter's own index is the planner's best way."""
    start = clock() - timedelta(days=300)
    rows = []
    for i in range(3000):
        detail = {"study": "study-rare" if i % 40 == 2 else f"study-{i % 6}"}
        if i % 3 == 0:
            detail["ref_digest"] = ref_digest(settings.secret_key, detail["study"], f"R-{i}")
        rows.append({
            "at": start + timedelta(hours=2.4 * i),
            "actor": "Rare.Person@Example.org" if i % 40 == 1 else f"staff{i % 30}@example.org",
            "action": "export" if i % 40 == 3 else ACTIONS[i % len(ACTIONS)],
            "detail": detail})
    with session_factory() as s:
        s.execute(insert(AuditEvent), rows)
        create_user(s, "admin@example.org", PASSWORD, "admin")
        study = create_study(s, "study-1", "Study one")
        import_cohort(s, study, participants_csv(person("R-1", clock().date())),
                      today=clock().date())
        s.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


FILTERS = {
    "who": ("who=rare.person@example.org", "ix_audit_events_actor"),
    "study": ("study=study-rare", "ix_audit_events_study"),
    "kind": ("kind=export", "ix_audit_events_action"),
    "dates": ("from=2025-09-01&to=2025-10-31", "ix_audit_events_at"),
}


def _uses(details: list[str], index: str) -> bool:
    return any(f"INDEX {index} " in d + " " for d in details)


def test_each_audit_filter_counts_and_pages_through_its_index(client, engine, long_log,
                                                              recorded, session_factory,
                                                              settings, clock):
    sign_in(client, "admin@example.org", PASSWORD)
    runs = {}
    for name, (query, _index) in FILTERS.items():
        recorded.clear()
        page = client.get(f"/staff/audit?{query}&page=2")
        assert page.status_code == 200, name
        runs[name] = list(recorded)
        assert len(runs[name]) == 2, (name, runs[name])  # the count, then the page
        html = page.get_data(as_text=True)
        assert "Page 2 of" in html and ("75 events match." in html or name == "dates"), name
    with session_factory() as s:
        study = resolve_study(s, "study-1")
        participant = plist.by_ref(s, study, "R-1")
        recorded.clear()
        record.timeline(s, study, participant,
                        ref_digest(settings.secret_key, "study-1", "R-1"), clock().date())
        timeline = list(recorded)
    assert len(timeline) == 1

    if engine.dialect.name == "postgresql":
        for name, (_query, index) in FILTERS.items():
            for statement, parameters in runs[name]:
                scans, names = pg_plan(engine, statement, parameters)
                assert "audit_events" not in scans, f"{name}: a whole-table scan\n{statement}"
                assert index in names, (name, names, statement)
        scans, names = pg_plan(engine, *timeline[0])
        assert "audit_events" not in scans and "ix_audit_events_ref_digest" in names, names
        return
    for name, (_query, index) in FILTERS.items():
        for statement, parameters in runs[name]:
            details = sqlite_plan(engine, statement, parameters)
            assert _uses(details, index), (name, details)
            assert not [d for d in details if d.startswith("SCAN audit_events")], details
            assert not [d for d in details if "TEMP B-TREE" in d], (name, details)
    details = sqlite_plan(engine, *timeline[0])
    assert _uses(details, "ix_audit_events_ref_digest"), details
