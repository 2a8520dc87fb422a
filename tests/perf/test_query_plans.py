"""Every query a page or job runs at scale can use an index (PostgreSQL query plans).

The real functions run against a small cohort while their SQL is recorded; each
statement is then EXPLAINed with sequential scans disabled. The planner still picks a
Seq Scan when no index can serve a query, so a Seq Scan on invitations, responses or
participants means a missing index. Runs in the PostgreSQL pass of `make test`.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from scheduler.jobs import dispatch
from surveys import invitations, privacy, tokens
from surveys.cohort.importer import import_cohort
from surveys.models import Invitation, Response
from surveys.reports.kept import COUNT_FROM_ROWS
from surveys.reports.paired_change import paired_report
from surveys.responses import questionnaire
from surveys.studies import resolve_study, wave_by_code
from tests.conftest import PG_URL
from tests.helpers import participants_csv, person

pytestmark = pytest.mark.skipif(not PG_URL, reason="query plans are checked on PostgreSQL")

BIG_TABLES = {"invitations", "responses", "participants", "report_counts"}


def seq_scans(plan: dict) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child))
    return found


def index_names(plan: dict) -> set[str]:
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= index_names(child)
    return names


@pytest.fixture
def recorded(engine):
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def plan_of(engine, statement: str, parameters) -> dict:
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).all()
        conn.rollback()
    payload = rows[0][0]
    return (json.loads(payload) if isinstance(payload, str) else payload)[0]["Plan"]


def test_pages_and_jobs_read_through_indexes(
    engine, session_factory, settings, mailer, clock, recorded
):
    today = clock().date()
    people = [person(f"Q-{i:03}", today - timedelta(days=i % 3), email=f"q{i}@example.org")
              for i in range(60)]
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        import_cohort(s, study, participants_csv(*people))
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    with session_factory() as s:
        study = resolve_study(s, None)
        wave = wave_by_code(study, "wave1")
        inv = s.query(Invitation).filter(Invitation.status == "issued").first()
        token = tokens.derive_token(settings.secret_key, inv.nonce)
        recorded.clear()
        assert invitations.find_by_token(s, token).id == inv.id
        response = questionnaire.start(s, inv, clock())
        questionnaire.response_for(s, inv)
        s.commit()
        invitations.open_links(s, study, wave)
        s.add(Response(wave_id=wave_by_code(study, "wave2").id, participant_id=inv.participant_id,
                       status="submitted", instrument="wave2", instrument_version="1",
                       answers={"workability": 6, "confidence": 5, "importance": 9}))
        s.flush()
        paired_report(s, study, "wave2")  # from the counts kept at write time
        s.info[COUNT_FROM_ROWS] = True
        paired_report(s, study, "wave2")  # from rows, as the kept counts' check does
        s.info.pop(COUNT_FROM_ROWS)
        s.rollback()
        assert response.id
    with session_factory() as s, s.begin():
        invitations.issue_due(s, clock(), settings.secret_key)
        invitations.issue_due(s, clock(), settings.secret_key, after=(today, 0))
        invitations.queue_reminders(s, clock())
        invitations.close_expired(s, clock())
        invitations.claim_deliveries(s, clock())
        privacy.erase_spent_contact_details(s, clock())

    checked = {
        "token lookup": "invitations.token_hash =",
        "response of an invitation": "responses.invitation_id =",
        "links list": "invitations.wave_id =",
        "kept report counts": "FROM report_counts",
        "paired report counts": "GROUPING SETS",
        "paired report totals": "responses.participant_id IS NULL",
        "dispatcher claim": "invitations.due_on <=",
        "reminders": "invitations.reminder_due_on <=",
        "closing": "invitations.closes_on <",
        "email claim": "invitations.next_attempt_at <=",
        "contact clean-up": "UPDATE participants SET email",
    }
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    seen = {}
    for name, marker in checked.items():
        matches = [(st, p) for st, p in recorded if marker in st and "EXPLAIN" not in st]
        assert matches, f"{name}: no statement containing {marker!r} was run"
        for statement, parameters in matches:
            plan = plan_of(engine, statement, parameters)
            assert not seq_scans(plan), f"{name} scans a whole table:\n{statement}"
            seen[name] = index_names(plan)
    assert seen["paired report counts"] == {"ix_responses_paired"}  # one scan, no join
    # The study's counts by (study, breakdown); whether any are fresh, by the partial index.
    assert seen["kept report counts"] >= {"ix_report_counts", "ix_report_counts_fresh"}
    assert seen["kept report counts"] <= {"ix_report_counts", "ix_report_counts_fresh",
                                          "ix_report_counts_folded"}
    assert "ix_invitations_due" in seen["dispatcher claim"]
    assert "invitations_token_hash_key" in seen["token lookup"]
    assert "ix_participants_contactable" in seen["contact clean-up"]
