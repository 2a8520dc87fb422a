"""Researchers' and evaluators' pages: upload a cohort, change the schedule, read the report."""

from __future__ import annotations

import io
import json
from datetime import date

from sqlalchemy import select

from surveys.accounts import create_user
from surveys.models import Invitation, Participant, Wave
from surveys.studies import create_study
from tests.helpers import csrf_token, participants_csv, person, sign_in

PASSWORD = "correct horse battery"


def staff(session_factory, role: str) -> str:
    email = f"{role}@example.org"
    with session_factory() as s:
        if not s.scalar(select(Wave.id)):
            create_study(s, "default", "Test study")
        create_user(s, email, PASSWORD, role)
        s.commit()
    return email


def upload(client, files: dict):
    page = client.get("/staff/studies/default/cohort").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content.encode()), filename)
    return client.post("/staff/studies/default/cohort", data=data,
                       content_type="multipart/form-data")


def test_researcher_uploads_a_cohort_and_sees_every_bad_row(client, session_factory):
    sign_in(client, staff(session_factory, "researcher"), PASSWORD)
    bad = participants_csv(person("A-1", date(2026, 1, 1)),
                           ("A 2", "Hull", "2026-13-01", "en", "", "", 5, 5, 5))
    page = upload(client, {"participants": (bad, "cohort.csv")})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "cohort.csv line 3, column &#39;participant_ref&#39;" in html
    assert "cohort.csv line 3, column &#39;completed_on&#39;" in html
    with session_factory() as s:
        assert s.scalars(select(Participant)).all() == []
    good = participants_csv(person("A-1", date(2026, 1, 1)), person("A-2", date(2026, 1, 2)))
    done = upload(client, {"participants": (good, "cohort.csv")})
    assert done.status_code == 302
    listing = client.get("/staff/studies/default/cohort").get_data(as_text=True)
    assert "2 new and 0 updated participants" in listing and "A-2" in listing


def test_schedule_change_moves_questionnaires_not_yet_issued(client, session_factory):
    sign_in(client, staff(session_factory, "researcher"), PASSWORD)
    # Completed before the test clock's today (2026-03-02): dates in the future are refused.
    loaded = upload(client, {"participants": (participants_csv(person("S-1", date(2026, 2, 20))),
                                              "p.csv")})
    assert loaded.status_code == 302
    page = client.get("/staff/studies/default/schedule").get_data(as_text=True)
    response = client.post("/staff/studies/default/schedule/wave2", data={
        "csrf_token": csrf_token(page), "wave2-offset_days": "56", "wave2-reminder_days": "7",
        "wave2-close_days": "28"})
    assert response.status_code == 302
    with session_factory() as s:
        wave2 = s.scalar(select(Invitation).join(Wave).where(Wave.code == "wave2"))
        assert wave2.due_on == date(2026, 4, 17)
    # A bad value is refused with a message and changes nothing.
    bad = client.post("/staff/studies/default/schedule/wave2", data={
        "csrf_token": csrf_token(page), "wave2-offset_days": "-3", "wave2-reminder_days": "x",
        "wave2-close_days": "28"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.get_data(as_text=True)
    with session_factory() as s:
        assert s.scalar(select(Wave.offset_days).where(Wave.code == "wave2")) == 56


def test_schedule_page_sets_up_to_three_reminders_before_the_close(client, session_factory):
    sign_in(client, staff(session_factory, "researcher"), PASSWORD)
    page = client.get("/staff/studies/default/schedule").get_data(as_text=True)
    assert 'name="wave2-reminder_days" type="text" value="7"' in page
    saved = client.post("/staff/studies/default/schedule/wave2", data={
        "csrf_token": csrf_token(page), "wave2-offset_days": "42",
        "wave2-reminder_days": "10, 3", "wave2-close_days": "28"})
    assert saved.status_code == 302
    with session_factory() as s:
        assert s.scalar(select(Wave.reminder_days).where(Wave.code == "wave2")) == [3, 10]
    shown = client.get("/staff/studies/default/schedule").get_data(as_text=True)
    assert 'value="3, 10"' in shown
    for days, message in (("3, 30", "Six weeks on: the reminder on day 30 must come before "
                                    "the questionnaire closes on day 28"),
                          ("1, 2, 3, 4", "Enter up to 3 different reminder days"),
                          ("0", "Enter each reminder as a number of days from 1 to 365"),
                          ("3;10", "Enter days as whole numbers separated by commas")):
        bad = client.post("/staff/studies/default/schedule/wave2", data={
            "csrf_token": csrf_token(page), "wave2-offset_days": "42",
            "wave2-reminder_days": days, "wave2-close_days": "28"})
        assert bad.status_code == 400 and message in bad.get_data(as_text=True), days
    none = client.post("/staff/studies/default/schedule/wave2", data={
        "csrf_token": csrf_token(page), "wave2-offset_days": "42",
        "wave2-reminder_days": "", "wave2-close_days": "28"})
    assert none.status_code == 302
    with session_factory() as s:
        assert s.scalar(select(Wave.reminder_days).where(Wave.code == "wave2")) == []


def test_evaluator_reads_the_report_as_page_csv_and_json(client, session_factory):
    sign_in(client, staff(session_factory, "evaluator"), PASSWORD)
    page = client.get("/reports/default/paired?follow_up=wave2")
    assert page.status_code == 200 and "Paired-change report" in page.get_data(as_text=True)
    csv_page = client.get("/reports/default/paired.csv?follow_up=wave2")
    assert csv_page.mimetype == "text/csv"
    data = json.loads(client.get("/api/studies/default/reports/paired?follow_up=wave2").data)
    assert data["responses"] == 0 and data["measures"]["workability"]["n"] == 0
    assert data["measures"]["workability"]["sign_test"]["p"] is None
    # Evaluators cannot upload cohorts.
    assert client.get("/staff/studies/default/cohort").status_code == 403
    assert client.get("/reports/nope/paired").status_code == 404
