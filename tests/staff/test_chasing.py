"""Chasing a wave (issue 14): who has not answered, a call list, pausing and resuming a
wave's issuing, and the dashboard's progress and delivery failures."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent, Invitation, Message, Participant, Study, Wave
from surveys.responses.importer import import_responses
from surveys.studies import create_study, wave_by_code
from tests.helpers import csrf_token, participants_csv, person, sign_in

PASSWORD = "correct horse battery"
WAVE1 = "/staff/studies/default/waves/wave1"


def as_role(client, role: str):
    sign_in(client, f"{role}@example.org", PASSWORD)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def post_button(client, page_url: str, action: str):
    """Press a POST button on a page, as a browser would (its form's fields)."""
    html = page(client, page_url)
    back = "schedule" if page_url.endswith("/schedule") else "unanswered"
    return client.post(action, data={"csrf_token": csrf_token(html), "back": back})


@pytest.fixture
def world(session_factory, settings, mailer, clock):
    """Five clients completed today, with email addresses; wave one issued and emailed;
    OPEN-1 has answered it (by telephone, imported)."""
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Test study")
        import_cohort(s, study, participants_csv(*(
            person(f"OPEN-{i}", today, email=f"open{i}@example.org") for i in range(1, 6))),
            today=today)
        for role in ("researcher", "admin", "evaluator"):
            create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "default"))
        import_responses(s, study, wave_by_code(study, "wave1"),
                         f"participant_ref,submitted_on,mode\nOPEN-1,{today},telephone\n",
                         today=today)
        s.commit()
    return session_factory


def invitation(session_factory, ref: str, code: str = "wave1") -> Invitation:
    with session_factory() as s:
        found = s.scalar(select(Invitation).join(Participant).join(Wave).where(
            Participant.ref == ref, Wave.code == code))
        s.expunge_all()
        return found


def test_unanswered_view_lists_open_questionnaires_with_days_left_and_reminders(
        client, world, clock, settings, mailer):
    as_role(client, "researcher")
    html = page(client, f"{WAVE1}/unanswered")
    assert "Showing 1 to 4 of 4 questionnaires not yet answered" in html
    assert re.findall(r'/participants/(OPEN-\d)"', html) == ["OPEN-2", "OPEN-3", "OPEN-4",
                                                               "OPEN-5"]
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", html, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert cells[0] == ["28", "0 of 1", "sent"]  # closes in 28 days; SMTP gives no receipt
    # A week and a day on, the reminder has gone: 20 days left, 1 of the wave's 1 reminder.
    clock.advance(days=8)
    dispatch(world, clock(), settings, mailer)
    html = page(client, f"{WAVE1}/unanswered")
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", html, re.S)[1:]
    assert [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows][0] == [
        "20", "1 of 1", "sent"]
    # Evaluators never see it (references and contact details); a page beyond the last says so.
    assert client.get(f"{WAVE1}/unanswered?page=9").status_code == 400
    as_role(client, "evaluator")
    assert client.get(f"{WAVE1}/unanswered").status_code == 403


def test_an_empty_unanswered_list_says_so(client, world):
    as_role(client, "admin")
    html = page(client, "/staff/studies/default/waves/wave2/unanswered")
    assert "Every questionnaire of this wave that has been issued has been answered" in html


def test_call_list_csv_reads_back_and_is_audited(client, world):
    as_role(client, "researcher")
    response = client.get(f"{WAVE1}/unanswered.csv")
    assert response.status_code == 200
    assert 'filename="call-list-default-wave1.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["participant_ref"] for r in rows] == ["OPEN-2", "OPEN-3", "OPEN-4", "OPEN-5"]
    assert rows[0] == {"participant_ref": "OPEN-2", "phone": "", "email": "open2@example.org",
                       "days_left": "28", "reminders_sent": "0"}
    with world() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()[-1]
        assert event.actor == "researcher@example.org"
        assert event.detail == {"study": "default", "report": "call_list", "wave": "wave1",
                                "format": "csv"}


def test_the_open_list_reads_the_wave_status_index(world):
    with world() as s:
        if s.bind.dialect.name != "sqlite":
            pytest.skip("SQLite's plan names the index")
        wave_id = s.scalar(select(Wave.id).where(Wave.code == "wave1"))
        plan = " ".join(str(row[-1]) for row in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM invitations "
            "WHERE wave_id = :w AND status = 'issued'"), {"w": wave_id}))
        # ix_invitations_wave_status, or ix_invitations_calls, which begins with its columns.
        assert re.search(r"INDEX ix_invitations_\w+ \(wave_id=\? AND status=\?\)", plan), plan


def test_pause_holds_issuing_and_resume_issues_or_lapses(
        client, session_factory, settings, mailer, clock):
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Test study")
        # LATE's answering window (due 20 days ago, 28 days to answer) ends in 8 days.
        import_cohort(s, study, participants_csv(
            person("SOON", today, email="soon@example.org"),
            person("LATE", today - timedelta(days=20), email="late@example.org")), today=today)
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    as_role(client, "researcher")
    paused = post_button(client, "/staff/studies/default/schedule", f"{WAVE1}/pause")
    assert paused.status_code == 302
    assert paused.headers["Location"].endswith("/staff/studies/default/schedule")
    dispatch(session_factory, clock(), settings, mailer)
    assert invitation(session_factory, "SOON").status == "scheduled"
    assert invitation(session_factory, "LATE").status == "scheduled"
    shown = page(client, "/staff/studies/default/schedule")
    assert "Paused since 2 March 2026" in shown
    assert "Resume issuing End of the intervention" in shown
    assert "Paused since 2 March 2026" in page(client, f"{WAVE1}/unanswered")
    assert "paused since 2 March 2026" in page(client, "/staff/")
    clock.advance(days=10)
    dispatch(session_factory, clock(), settings, mailer)
    assert invitation(session_factory, "SOON").status == "scheduled"
    resumed = post_button(client, f"{WAVE1}/unanswered", f"{WAVE1}/resume")
    assert resumed.status_code == 302
    assert resumed.headers["Location"].endswith(f"{WAVE1}/unanswered")
    dispatch(session_factory, clock(), settings, mailer)
    soon = invitation(session_factory, "SOON")
    assert soon.status == "issued" and soon.closes_on == clock().date() + timedelta(days=28)
    assert invitation(session_factory, "LATE").status == "lapsed"  # its window had passed
    with session_factory() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[-2:] == ["wave_paused", "wave_resumed"]
        assert s.scalar(select(Wave.paused_at).where(Wave.code == "wave1")) is None


def test_a_paused_wave_holds_its_reminders_until_resumed(
        client, world, settings, mailer, clock):
    as_role(client, "admin")
    assert post_button(client, "/staff/studies/default/schedule",
                       f"{WAVE1}/pause").status_code == 302
    clock.advance(days=8)  # the reminder (day 7) is due
    dispatch(world, clock(), settings, mailer)
    assert invitation(world, "OPEN-2").reminders_sent == 0
    post_button(client, f"{WAVE1}/unanswered", f"{WAVE1}/resume")
    dispatch(world, clock(), settings, mailer)
    assert invitation(world, "OPEN-2").reminders_sent == 1  # still open: it goes
    assert invitation(world, "OPEN-1").reminders_sent == 0  # answered: none


def test_dashboard_shows_each_waves_progress_as_a_chart_and_table(client, world, clock):
    as_role(client, "evaluator")
    html = page(client, "/staff/")
    table = re.search(r'id="progress-default-wave1-table">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == 1  # one week so far
    assert re.findall(r">([^<]+)</t[hd]>", rows[0]) == ["2 Mar 2026", "5", "1"]
    assert 'role="img" aria-labelledby="progress-default-wave1-title"' in html
    assert "progress-default-wave2-table" not in html  # nothing issued yet


def test_dashboard_names_delivery_failures_with_what_to_do(client, world, clock):
    with world() as s:
        inv = s.scalar(select(Invitation).join(Participant).join(Wave).where(
            Participant.ref == "OPEN-3", Wave.code == "wave1"))
        message = s.scalar(select(Message).where(Message.invitation_id == inv.id))
        message.status = "permanent-failure"
        s.commit()
    as_role(client, "researcher")
    html = page(client, "/staff/")
    assert "1 participant has a message that could not be delivered." in html
    assert re.search(r"Check the email address or phone number on the participant(&#39;|')s "
                     r"page\.", html)
    assert 'href="/staff/studies/default/participants/OPEN-3"' in html
    assert "the email could not be delivered" in html
    as_role(client, "evaluator")
    assert "OPEN-3" not in page(client, "/staff/")  # references are for researchers


def test_pausing_twice_changes_nothing_and_says_so(client, world):
    as_role(client, "researcher")
    post_button(client, "/staff/studies/default/schedule", f"{WAVE1}/pause")
    with world() as s:
        first = s.scalar(select(Wave.paused_at).where(Wave.code == "wave1"))
    assert first == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    again = post_button(client, "/staff/studies/default/schedule", f"{WAVE1}/pause")
    assert again.status_code == 302
    shown = page(client, "/staff/studies/default/schedule")
    assert "End of the intervention was already paused." in shown
    with world() as s:
        assert [e.action for e in s.scalars(select(AuditEvent))].count("wave_paused") == 1
