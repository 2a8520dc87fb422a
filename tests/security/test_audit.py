"""The audit log: who did what and when, for every act the issue names; readable by
admins only, newest first, a page at a time; never changed or deleted by any route,
and refused by the database itself."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from surveys import audit
from surveys.models import AuditEvent
from tests.helpers import csrf_token, participants_csv, person, post_form, sign_in
from tests.security.conftest import (
    ARMED_ENDPOINTS,
    PASSWORD,
    WAVE1_ANSWERS,
    act_as,
    answer_on_the_web,
    armed_study,
)
from tests.security.test_route_roles import EVERYONE, RULES, route_url, url_values


def all_events(session_factory) -> list[tuple]:
    with session_factory() as s:
        return [(e.id, e.at, e.user_id, e.actor, e.action, e.detail)
                for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_every_act_the_issue_names_is_recorded_with_who_when_and_what(
    app, world, session_factory, clock, runner, tmp_path
):
    start = len(all_events(session_factory))
    signed_in_at = clock()
    researcher = app.test_client()
    sign_in(researcher, "researcher@example.org", "not the password")
    sign_in(researcher, "researcher@example.org", PASSWORD)
    clock.advance(minutes=1)
    # Cohort import through the page.
    page = researcher.get("/staff/studies/default/cohort").get_data(as_text=True)
    upload = participants_csv(person("ZQREF-DELTA4", clock().date()))
    researcher.post("/staff/studies/default/cohort", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page),
        "participants": (io.BytesIO(upload.encode()), "cohort.csv")})
    # Schedule changes: a wave and the study window.
    post_form(researcher, "/staff/studies/default/schedule/wave2", {
        "wave2-offset_days": "43", "wave2-reminder_days": "7", "wave2-close_days": "28"})
    post_form(researcher, "/staff/studies/default/window", {
        "end_date-day": "31", "end_date-month": "12", "end_date-year": "2027"})
    # Telephone entry of a whole questionnaire.
    invitation = world.invitation_ids["ZQREF-CHARL3"]
    listing = researcher.get("/staff/studies/default/invitations").get_data(as_text=True)
    assert researcher.post(f"/staff/invitations/{invitation}/telephone",
                           data={"csrf_token": csrf_token(listing)}).status_code == 302
    answer_on_the_web(researcher, WAVE1_ANSWERS)
    # Reports: viewed and exported.
    researcher.get("/reports/default/paired")
    researcher.get("/reports/default/paired.csv")
    researcher.get("/api/studies/default/reports/paired")
    staff_page = researcher.get("/staff/").get_data(as_text=True)
    researcher.post("/staff/sign-out", data={"csrf_token": csrf_token(staff_page)})
    # The command line records itself as the actor.
    cohort = tmp_path / "p.csv"
    cohort.write_text(participants_csv(person("ZQREF-ECHO5", clock().date())))
    assert runner.invoke(args=["import-cohort", "--participants", str(cohort)]).exit_code == 0
    assert runner.invoke(args=["links", "--wave", "wave1"]).exit_code == 0

    recorded = all_events(session_factory)[start:]
    actions = [(actor, action) for _, _, _, actor, action, _ in recorded]
    who = "researcher@example.org"
    assert actions == [
        ("anonymous", "sign_in_failed"),
        (who, "sign_in"),
        (who, "cohort_import"),
        (who, "schedule_change"),
        (who, "schedule_change"),
        (who, "telephone_entry"),
        (who, "report_view"),
        (who, "export"),
        (who, "export"),
        (who, "sign_out"),
        ("cli", "cohort_import"),
        ("cli", "export"),
    ]
    details = {action: detail for _, _, _, _, action, detail in recorded}
    assert details["cohort_import"]["created"] == 1
    assert details["telephone_entry"]["invitation"] == invitation
    assert details["report_view"]["report"] == "paired"
    assert [at for _, at, *_ in recorded[:2]] == [signed_in_at] * 2
    assert {at for _, at, *_ in recorded[2:]} == {signed_in_at + timedelta(minutes=1)}
    assert recorded[1][2] == world.users["researcher"].id


def test_admins_read_the_log_newest_first_a_page_at_a_time(app, world, session_factory, clock):
    with session_factory() as s:
        for n in range(120):
            audit.record(s, clock() + timedelta(seconds=n), None, "example", actor="test",
                         number=n)
        s.commit()
    total = len(all_events(session_factory))
    admin = app.test_client()
    act_as(admin, session_factory, "admin")
    first = admin.get("/staff/audit").get_data(as_text=True)
    numbers = [int(x) for x in re.findall(r"<dd[^>]*>(\d+)</dd>", first)]
    assert numbers == list(range(119, 69, -1))  # the newest 50, newest first
    assert f"{total} events in all" in first and 'rel="next"' in first
    last_page = -(-total // 50)
    last = admin.get(f"/staff/audit?page={last_page}").get_data(as_text=True)
    assert 'rel="prev"' in last and 'rel="next"' not in last
    for junk in ("0", "-1", "abc", "99999999999999", "1e9", "%C3%A9", "9" * 400):
        assert admin.get(f"/staff/audit?page={junk}").status_code == 200
    refused = admin.get("/staff/audit?page=%00")
    assert refused.status_code == 400 and "null character" in refused.get_data(as_text=True)
    # The page offers no way to change anything: its only form is signing out.
    # (its other form is the filters, sent with GET)
    assert first.count('method="post"') == 1 and "sign-out" in first
    for role in ("researcher", "evaluator"):
        other = app.test_client()
        act_as(other, session_factory, role)
        assert other.get("/staff/audit").status_code == 403


def test_no_route_changes_or_deletes_an_audit_event(app, world, session_factory, clock):
    with session_factory() as s:
        audit.record(s, clock(), None, "example", actor="test", note="must survive")
        s.commit()
    before = all_events(session_factory)
    values = url_values(world)
    requests = 0
    for endpoint in sorted({endpoint for endpoint, _ in RULES}):
        url = route_url(app, endpoint, values)
        for role in EVERYONE:
            client = app.test_client()
            client.get(f"/r/{world.tokens['ZQREF-BRAVO2']}")
            act_as(client, session_factory, role)
            token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
            # Every role tries GET and POST; an admin also tries the editing verbs.
            verbs = ("GET", "POST", "PUT", "PATCH", "DELETE") if role == "admin" else (
                "GET", "POST")
            for verb in verbs:
                client.open(url, method=verb, data={"csrf_token": token, "id": before[0][0],
                                                    "action": "edited"})
                requests += 1
    after = all_events(session_factory)
    assert after[: len(before)] == before
    assert requests == len({endpoint for endpoint, _ in RULES}) * ((len(EVERYONE) - 1) * 2 + 5)


def test_the_database_refuses_to_change_or_delete_audit_events(
    world, engine, session_factory, clock
):
    with session_factory() as s:
        audit.record(s, clock(), None, "example", actor="test")
        s.commit()
    with engine.connect() as conn:
        [first] = conn.execute(text("SELECT min(id) FROM audit_events")).one()
    assert first is not None
    for statement in (f"UPDATE audit_events SET action = 'edited' WHERE id = {first}",
                      f"DELETE FROM audit_events WHERE id = {first}"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT action FROM audit_events WHERE id = {first}")).one()


def test_every_report_view_and_download_is_recorded(app, world, session_factory):
    """Found from the URL map: every report page and every download (.csv, .xlsx, the JSON
    API) adds an audit event naming who, so a new export cannot skip the log."""
    admin = app.test_client()
    act_as(admin, session_factory, "admin")
    values = url_values(world)
    armed = {"slug": armed_study(session_factory)}
    audited = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        is_report = rule.endpoint.startswith("reports.") and rule.endpoint != "reports.index"
        is_download = rule.rule.endswith((".csv", ".xlsx")) or rule.rule.startswith("/api/")
        if not (is_report or is_download):
            continue
        before = len(all_events(session_factory))
        url = route_url(app, rule.endpoint,
                        {**values, **(armed if rule.endpoint in ARMED_ENDPOINTS else {})})
        response = admin.get(url)  # route_url adds any query string the route needs
        assert response.status_code == 200, url
        new = all_events(session_factory)[before:]
        assert [e[3] for e in new] == ["admin@example.org"], url
        assert new[0][4] in ("report_view", "export"), (url, new[0][4])
        audited.append(rule.rule)
    assert len(audited) >= 8, audited
