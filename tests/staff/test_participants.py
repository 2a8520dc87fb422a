"""The participants of a study: search, filters, pages, CSV; one participant's page and
its actions (contact details, send again, personal link, withdraw, erase)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent, Invitation, Message, Participant, Response
from surveys.studies import create_study, resolve_study
from tests.helpers import csrf_token, participants_csv, person, sign_in

PASSWORD = "correct horse battery"
BASE = "/staff/studies/default/participants"


def people(today: date) -> list[tuple]:
    # Emails for a few only, so the dispatcher's pass stays quick.
    rows = [person(f"AB-{i:03}", today - timedelta(days=i % 5),
                   email=f"ab{i}@example.org" if i < 12 else "",
                   site="Hull" if i % 2 else "Leeds") for i in range(120)]
    rows.append(person("abx_9", today, email="x@example.org", site="York"))
    rows.append(person("ZED-1", today, site="York"))
    return rows


@pytest.fixture
def study_world(session_factory, settings, mailer, clock):
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Test study")
        import_cohort(s, study, participants_csv(*people(today)), today=today)
        for role in ("researcher", "admin", "evaluator"):
            create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)  # issues wave1, sends its emails
    return session_factory


def as_role(client, role: str):
    sign_in(client, f"{role}@example.org", PASSWORD)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def refs_on(html: str) -> list[str]:
    import re
    return re.findall(r'/participants/([A-Za-z0-9_-]+)"', html)


def test_search_finds_exact_and_prefix_references_in_any_case(client, study_world):
    as_role(client, "researcher")
    html = text(client.get(f"{BASE}?ref=ab-00"))
    assert refs_on(html) == [f"AB-{i:03}" for i in range(10)]
    assert "Showing 1 to 10 of 10 participants" in html
    assert refs_on(text(client.get(f"{BASE}?ref=zed-1"))) == ["ZED-1"]
    # '_' is a letter of references, not a wildcard: abx_9 only, not AB-...
    assert refs_on(text(client.get(f"{BASE}?ref=ABX_"))) == ["abx_9"]


def test_filters_narrow_the_list_and_pages_count_the_whole(client, study_world):
    as_role(client, "admin")
    html = text(client.get(f"{BASE}?site=york"))
    assert refs_on(html) == ["abx_9", "ZED-1"] or refs_on(html) == ["ZED-1", "abx_9"]
    first = text(client.get(BASE))
    assert "Showing 1 to 50 of 122 participants" in first
    second = text(client.get(f"{BASE}?page=2"))
    assert "Showing 51 to 100 of 122 participants" in second
    assert "govuk-pagination" in second and 'rel="prev"' in second
    last = text(client.get(f"{BASE}?page=3&sort=site"))
    assert "Showing 101 to 122 of 122 participants" in last
    # wave status: ZED-1 has no email, so nothing was sent, but its wave1 is open too.
    issued = text(client.get(f"{BASE}?wave=wave1&status=issued"))
    assert "of 122 participants" not in issued or "Showing 1 to 50 of" in issued
    none_answered = text(client.get(f"{BASE}?wave=wave1&status=completed"))
    assert "No participants match this search." in none_answered


def test_delivery_problem_withdrawn_and_opted_out_filters(client, study_world, clock):
    with study_world() as s:
        p1, p2, p3 = (s.scalar(select(Participant).where(Participant.ref == r))
                      for r in ("AB-001", "AB-002", "AB-003"))
        inv = s.scalar(select(Invitation).where(Invitation.participant_id == p1.id))
        inv.delivery_status = "failed"
        inv2 = s.scalar(select(Invitation).where(Invitation.participant_id == p2.id))
        s.add(Message(invitation_id=inv2.id, participant_id=p2.id, kind="invitation",
                      sequence=0, channel="sms", provider="notify", status="permanent-failure",
                      error="Not a mobile", created_at=clock(), updated_at=clock()))
        p3.withdrawn_at = clock()
        p2.opted_out_at = clock()
        s.commit()
    as_role(client, "researcher")
    assert refs_on(text(client.get(f"{BASE}?problem=1"))) == ["AB-001", "AB-002"]
    assert refs_on(text(client.get(f"{BASE}?withdrawn=1"))) == ["AB-003"]
    assert refs_on(text(client.get(f"{BASE}?opted_out=1"))) == ["AB-002"]


def test_an_empty_result_says_so_and_bad_input_is_one_line(client, study_world):
    as_role(client, "researcher")
    empty = client.get(f"{BASE}?ref=nobody")
    assert empty.status_code == 200 and "No participants match this search." in text(empty)
    for query, message in (("page=9", "Enter a page number from 1 to 3"),
                           ("page=abc", "Enter a page number from 1 to 3"),
                           ("ref=a%20b", "Enter a reference using only letters"),
                           ("wave=wave9", "There is no wave called"),
                           ("status=issued", "Select a wave for the questionnaire status"),
                           ("sort=email", "Sort by reference, site or completion date")):
        page = client.get(f"{BASE}?{query}")
        assert page.status_code == 400, query
        assert message in text(page) and "Traceback" not in text(page), query
    missing = client.get(f"{BASE}/NOBODY-1")
    assert missing.status_code == 404 and "Page not found" in text(missing)


def test_csv_of_the_filtered_list_reads_back_and_is_audited(client, study_world):
    with study_world() as s:
        s.scalar(select(Participant).where(Participant.ref == "ZED-1")).site = "=cmd()"
        s.commit()
    as_role(client, "researcher")
    response = client.get(f"{BASE}.csv?ref=zed")
    assert response.headers["Content-Disposition"].endswith('participants-default.csv"')
    rows = list(csv.DictReader(io.StringIO(text(response).lstrip("\ufeff"))))
    assert [(r["participant_ref"], r["site"]) for r in rows] == [("ZED-1", "'=cmd()")]
    assert "email" not in rows[0]
    whole = list(csv.reader(io.StringIO(text(client.get(f"{BASE}.csv")).lstrip("\ufeff"))))
    assert len(whole) == 123
    with study_world() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
        assert [(e.detail["report"], e.detail["rows"]) for e in events] == [
            ("participants", 1), ("participants", 122)]


def test_evaluators_get_403_on_every_participant_page(client, study_world):
    as_role(client, "evaluator")
    for url in (BASE, f"{BASE}.csv", f"{BASE}/AB-001"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{BASE}/AB-001/withdraw", data={}).status_code in (400, 403)


def page_and_token(client, ref: str) -> tuple[str, str]:
    html = text(client.get(f"{BASE}/{ref}"))
    return html, csrf_token(html)


def invitation_of(session_factory, ref: str, wave: str = "wave1") -> Invitation:
    with session_factory() as s:
        return s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == ref, Invitation.wave.has(code=wave)))


def test_participant_page_shows_details_scores_and_a_timeline(client, study_world, clock):
    with study_world() as s:
        p = s.scalar(select(Participant).where(Participant.ref == "AB-004"))
        inv = s.scalar(select(Invitation).where(Invitation.participant_id == p.id,
                                                Invitation.wave.has(code="wave1")))
        s.add(Response(wave_id=inv.wave_id, invitation_id=inv.id, participant_id=p.id,
                       status="in_progress", instrument="wave1", instrument_version="1",
                       answers={}, current_page="p1", started_at=clock()))
        s.commit()
    as_role(client, "researcher")
    html = text(client.get(f"{BASE}/ab-004"))  # any case finds them
    assert "Participant AB-004" in html and "Leeds" in html
    assert "workability at baseline" in html.lower() or "at baseline" in html
    # Waves by name (the study's labels), not by code.
    first = "End of the intervention"
    for line in (f"{first} questionnaire issued", f"Invitation for {first} by email: sent",
                 f"{first} questionnaire opened", f"{first} answers saved, not yet submitted",
                 "Six weeks on questionnaire due to be issued"):
        assert line in html, line
    assert html.index("Six weeks on questionnaire due to be issued") < html.index(
        "End of the intervention questionnaire issued")  # newest first


def test_contact_details_change_needs_a_reason_and_is_audited(client, study_world):
    as_role(client, "researcher")
    _, token = page_and_token(client, "AB-005")
    refused = client.post(f"{BASE}/AB-005/contact", data={
        "csrf_token": token, "email": "new@example.org", "phone": "", "reason": ""})
    assert refused.status_code == 400 and "Enter the reason for the change" in text(refused)
    bad_phone = client.post(f"{BASE}/AB-005/contact", data={
        "csrf_token": token, "email": "ab5@example.org", "phone": "12", "reason": "Called"})
    assert bad_phone.status_code == 400 and "Enter a UK phone number" in text(bad_phone)
    with study_world() as s:
        assert s.scalar(select(Participant.email).where(Participant.ref == "AB-005")) == \
            "ab5@example.org"
    done = client.post(f"{BASE}/AB-005/contact", data={
        "csrf_token": token, "email": "new@example.org", "phone": "07700 900123",
        "reason": "Client phoned with a new address"}, follow_redirects=True)
    assert "Contact details saved." in text(done)
    assert "changed email, phone: Client phoned with a new address" in text(done)
    with study_world() as s:
        p = s.scalar(select(Participant).where(Participant.ref == "AB-005"))
        assert (p.email, p.phone) == ("new@example.org", "+447700900123")
        event = s.scalar(select(AuditEvent).where(
            AuditEvent.action == "contact_details_changed"))
        assert event.detail["reason"] == "Client phoned with a new address"
        assert "new@example.org" not in str(event.detail)


def test_send_again_requeues_an_open_invitation_and_is_audited(
        client, study_world, settings, mailer, smtp, clock):
    as_role(client, "researcher")
    inv = invitation_of(study_world, "AB-006")
    assert inv.delivery_status == "sent"
    _, token = page_and_token(client, "AB-006")
    done = client.post(f"{BASE}/AB-006/resend", data={"csrf_token": token,
                                                       "invitation_id": inv.id},
                       follow_redirects=True)
    assert ("The link for the End of the intervention questionnaire will be sent again in "
            "the study") in text(done)
    assert ("researcher@example.org asked for the End of the intervention link to be sent "
            "again") in text(done)
    again = invitation_of(study_world, "AB-006")
    assert (again.delivery_status, again.next_attempt_at) == ("pending", clock())
    before = len(smtp.to("ab6@example.org"))
    dispatch(study_world, clock(), settings, mailer)
    assert len(smtp.to("ab6@example.org")) == before + 1
    # Another participant's invitation, or a questionnaire not issued, is refused.
    other = invitation_of(study_world, "AB-007")
    wave2 = invitation_of(study_world, "AB-006", "wave2")
    for inv_id in (other.id, wave2.id, "x"):
        refused = client.post(f"{BASE}/AB-006/resend", data={"csrf_token": token,
                                                              "invitation_id": inv_id})
        assert refused.status_code == 400 and "cannot be sent again" in text(refused)
    with study_world() as s:
        assert len(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant_resend")).all()) == 1


def test_personal_link_is_shown_to_researchers_only_and_audited(client, study_world, app):
    inv = invitation_of(study_world, "AB-008")
    as_role(client, "researcher")
    _, token = page_and_token(client, "AB-008")
    shown = client.post(f"{BASE}/AB-008/link", data={"csrf_token": token,
                                                     "invitation_id": inv.id})
    assert shown.status_code == 200
    assert "/r/" in text(shown) and "Personal link for End of the intervention" in text(shown)
    with study_world() as s:
        assert s.scalar(select(AuditEvent).where(
            AuditEvent.action == "personal_link_shown")).detail["wave"] == "wave1"
    admin = app.test_client()
    as_role(admin, "admin")
    _, token = page_and_token(admin, "AB-008")
    assert admin.post(f"{BASE}/AB-008/link", data={"csrf_token": token,
                                                   "invitation_id": inv.id}).status_code == 403


def test_withdraw_keeping_answers_stops_contact(client, study_world, clock, settings, mailer,
                                                smtp):
    with study_world() as s:
        inv = s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == "AB-009", Invitation.wave.has(code="wave1")))
        inv.delivery_status, inv.next_attempt_at = "pending", clock()  # a reminder waiting
        s.commit()
    as_role(client, "researcher")
    _, token = page_and_token(client, "AB-009")
    refused = client.post(f"{BASE}/AB-009/withdraw", data={"csrf_token": token})
    assert refused.status_code == 400 and "Select whether to keep their answers" in text(refused)
    done = client.post(f"{BASE}/AB-009/withdraw", data={"csrf_token": token, "answers": "keep"},
                       follow_redirects=True)
    assert "AB-009 has been withdrawn" in text(done)
    assert "withdrew the participant" in text(done) and "Withdrawn from the study" in text(done)
    with study_world() as s:
        p = s.scalar(select(Participant).where(Participant.ref == "AB-009"))
        assert p.withdrawn_at == clock()
        assert sorted(i.delivery_status for i in s.scalars(select(Invitation).where(
            Invitation.participant_id == p.id))) == ["cancelled", "none"]
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "participant_withdrawn"))
        assert (event.detail["answers"], event.detail["cancelled"]) == ("kept", 1)
    # Their next wave is issued in six weeks, but no message goes to them.
    sent_before = len(smtp.to("ab9@example.org"))
    clock.advance(days=42)
    dispatch(study_world, clock(), settings, mailer)
    assert len(smtp.to("ab9@example.org")) == sent_before
    assert len(smtp.to("ab8@example.org")) > sent_before  # others' wave2 went


def test_withdraw_and_erase_and_plain_erase_remove_the_participant(client, study_world):
    as_role(client, "researcher")
    _, token = page_and_token(client, "AB-010")
    done = client.post(f"{BASE}/AB-010/withdraw", data={"csrf_token": token,
                                                        "answers": "erase"},
                       follow_redirects=True)
    assert "AB-010 has been erased" in text(done)
    assert client.get(f"{BASE}/AB-010").status_code == 404
    _, token = page_and_token(client, "AB-011")
    wrong = client.post(f"{BASE}/AB-011/erase", data={"csrf_token": token,
                                                      "confirm_ref": "AB-012",
                                                      "responses": "keep"})
    assert wrong.status_code == 400 and "Type the reference AB-011 to confirm" in text(wrong)
    done = client.post(f"{BASE}/AB-011/erase", data={"csrf_token": token,
                                                     "confirm_ref": "ab-011",
                                                     "responses": "keep"},
                       follow_redirects=True)
    assert "AB-011 has been erased" in text(done)
    with study_world() as s:
        study = resolve_study(s, "default")
        assert s.scalar(select(Participant).where(Participant.study_id == study.id,
                                                  Participant.ref.in_(["AB-010", "AB-011"]))) \
            is None
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant_erased")).all()
        assert [e.detail["withdrawn"] for e in events] == [True, False]
        assert all("AB-01" not in str(e.detail) for e in events)
