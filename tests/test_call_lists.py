"""Telephone waves: issued without a message onto interviewers' call lists, each call's
outcome, the interviewer role, and answers entered on a client's behalf (issue 14)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from analysis.disclosure import SUPPRESSED
from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent, CallAttempt, Invitation, Message, Participant, Response
from surveys.reports.evaluation import evaluation_report
from surveys.studies import create_study, resolve_study, wave_by_code
from surveys.studies.definition import DefinitionError, read_definition, write_definition
from tests.helpers import csrf_token, participants_csv
from tests.i18n.walk import staff_member, walk
from tests.reports.conftest import cell
from tests.test_telephone_and_resume import WAVE1

PHONE = "07700 900{:03d}"


def phoned_cohort(session_factory, settings, mailer, clock, refs, *, max_calls: int = 3
                  ) -> dict[str, int]:
    """A study whose first wave is by telephone; everyone completed today and is issued.
    Returns each reference's wave-one invitation id."""
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Telephone study")
        wave = wave_by_code(study, "wave1")
        wave.mode, wave.max_calls = "telephone", max_calls
        s.flush()
        import_cohort(s, study, participants_csv(*(
            (ref, "Hull", today.isoformat(), "en", f"{ref.lower()}@example.org",
             PHONE.format(i), 5, 5, 7) for i, ref in enumerate(refs))), today=today)
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    with session_factory() as s:
        return dict(s.execute(
            select(Participant.ref, Invitation.id)
            .join(Invitation, Invitation.participant_id == Participant.id)
            .where(Invitation.wave_id == 1)).all())


def text_of(html_text: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_text)))


def page_text(response) -> str:
    return text_of(response.get_data(as_text=True))


def call_list(client) -> str:
    page = client.get("/staff/studies/default/calls")
    assert page.status_code == 200, page.status_code
    return page_text(page)


def record(client, invitation: int, outcome: str, **extra):
    url = f"/staff/studies/default/calls/{invitation}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "outcome": outcome, **extra})


def invitation(session_factory, invitation_id: int) -> Invitation:
    with session_factory() as s:
        found = s.get(Invitation, invitation_id)
        s.expunge(found)
        return found


def test_a_telephone_wave_is_issued_without_a_message_onto_the_call_list(
        app, client, session_factory, settings, mailer, smtp, clock):
    ids = phoned_cohort(session_factory, settings, mailer, clock, ["CALL-1", "CALL-2"])
    inv = invitation(session_factory, ids["CALL-1"])
    assert (inv.status, inv.delivery_status, inv.next_call_at) == ("issued", "none", clock())
    assert inv.token_hash and inv.reminder_due_on is None
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    assert smtp.messages == []

    staff_member(client, session_factory, "interviewer")
    listed = call_list(client)
    assert "2 clients to call now" in listed
    assert "CALL-1" in listed and "07700 900000" in listed and "0 of 3" in listed
    assert "not called yet" in listed


def test_each_outcome_moves_or_ends_the_calls(
        app, client, session_factory, settings, mailer, smtp, clock):
    ids = phoned_cohort(session_factory, settings, mailer, clock,
                        ["OUT-1", "OUT-2", "OUT-3", "OUT-4"])
    interviewer = staff_member(client, session_factory, "interviewer")

    # No answer: tomorrow when the study's calling hours open (09:00 London, GMT in March).
    assert record(client, ids["OUT-1"], "no_answer").status_code == 302
    moved = invitation(session_factory, ids["OUT-1"])
    assert moved.next_call_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC) and moved.calls == 1

    # Call back: a local time later today shows separately; one in the past is refused.
    past = record(client, ids["OUT-2"], "call_back", call_back_on=["2", "3", "2026"],
                  call_back_time="08:00")
    assert past.status_code == 400
    assert "The time to call back must be in the future" in page_text(past)
    late = record(client, ids["OUT-2"], "call_back", call_back_on=["2", "5", "2026"],
                  call_back_time="10:00")
    assert "before the questionnaire closes" in page_text(late)
    # Each missing or impossible part gets its own line; the example date is a week ahead
    # on the study's clock (the frozen clock says 2 March 2026).
    missing = record(client, ids["OUT-2"], "call_back")
    assert "Enter the date to call back, for example 9 3 2026" in page_text(missing)
    assert "For example, 9 3 2026" in page_text(missing)
    no_such_day = record(client, ids["OUT-2"], "call_back", call_back_on=["30", "2", "2026"],
                         call_back_time="10:00")
    assert "Enter the date to call back" in page_text(no_such_day)
    for bad_time in ("25:00", "", "2pm", "10:60"):
        wrong = record(client, ids["OUT-2"], "call_back", call_back_on=["3", "3", "2026"],
                       call_back_time=bad_time)
        assert wrong.status_code == 400
        assert ("Enter the time to call back in the 24-hour clock, for example 14:30"
                in page_text(wrong)), bad_time
    # The summary links to the field at fault, which shows the message too.
    html = wrong.get_data(as_text=True)
    assert 'href="#call_back_time" id="problem"' in html
    assert 'id="call_back_time-error"' in html
    html = missing.get_data(as_text=True)
    assert 'href="#call_back_on-day" id="problem"' in html and 'id="call_back_on-error"' in html
    assert invitation(session_factory, ids["OUT-2"]).calls == 0  # nothing saved
    assert record(client, ids["OUT-2"], "call_back", call_back_on=["2", "3", "2026"],
                  call_back_time="15:30").status_code == 302
    assert invitation(session_factory, ids["OUT-2"]).next_call_at == datetime(
        2026, 3, 2, 15, 30, tzinfo=UTC)

    # Refused and wrong number: off the list for good.
    record(client, ids["OUT-3"], "refused")
    record(client, ids["OUT-4"], "wrong_number")
    for ref in ("OUT-3", "OUT-4"):
        assert invitation(session_factory, ids[ref]).next_call_at is None

    assert "Call saved for OUT-4." in call_list(client)  # the flash, once
    listed = call_list(client)
    now_part, _, later_part = listed.partition("call back booked for later today")
    assert "Nobody is due for a call now." in listed
    assert "OUT-2" in later_part and "Asked to be called back" in later_part
    assert not any(ref in listed for ref in ("OUT-1", "OUT-3", "OUT-4"))

    # Tomorrow at nine, OUT-1 is due again, with its last outcome.
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    listed = call_list(client)
    assert "OUT-1" in listed and "No answer" in listed and "1 of 3" in listed

    with session_factory() as s:
        attempts = s.scalars(select(CallAttempt).order_by(CallAttempt.id)).all()
        assert [a.outcome for a in attempts] == ["no_answer", "call_back", "refused",
                                                 "wrong_number"]
        assert {a.interviewer_id for a in attempts} == {interviewer}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "call_attempt")).all()
        assert len(events) == 4
        assert all(e.detail["participant_id"] and e.detail["ref_digest"] for e in events)
        assert not any("OUT-" in str(e.detail) for e in events)  # never the reference


def test_a_client_not_reached_after_the_most_calls_leaves_the_list(
        app, client, session_factory, settings, mailer, smtp, clock):
    ids = phoned_cohort(session_factory, settings, mailer, clock, ["MAX-1"], max_calls=2)
    staff_member(client, session_factory, "interviewer")
    record(client, ids["MAX-1"], "no_answer")
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    assert "MAX-1" in call_list(client)
    record(client, ids["MAX-1"], "no_answer")
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    assert "Nobody is due for a call now." in call_list(client)
    inv = invitation(session_factory, ids["MAX-1"])
    assert (inv.calls, inv.next_call_at, inv.status) == (2, None, "issued")


def test_an_interviewer_sees_call_lists_and_answer_entry_only(
        app, client, session_factory, settings, mailer, smtp, clock):
    ids = phoned_cohort(session_factory, settings, mailer, clock, ["ROLE-1"])
    staff_member(client, session_factory, "researcher")  # exists, for the study's pages
    interviewer = app.test_client()
    with session_factory() as s:
        from surveys.accounts import create_user
        create_user(s, "caller@example.org", "correct horse battery staple", "interviewer")
        s.commit()
    token = csrf_token(interviewer.get("/staff/sign-in").get_data(as_text=True))
    signed = interviewer.post("/staff/sign-in", data={
        "csrf_token": token, "email": "caller@example.org",
        "password": "correct horse battery staple"})
    assert signed.headers["Location"] == "/staff/calls"
    home = page_text(interviewer.get("/staff/calls"))
    assert "Call list for Telephone study" in home
    for url in ("/staff/", "/reports/", "/staff/studies/default/participants",
                "/staff/studies/default/invitations", "/staff/studies/default",
                "/staff/studies/default/calls.csv", "/staff/audit"):
        assert interviewer.get(url).status_code in (403, 404), url
    assert interviewer.get("/staff/studies/default/calls.csv").status_code == 403
    assert interviewer.get(f"/staff/studies/default/calls/{ids['ROLE-1']}").status_code == 200
    # A researcher may download the call list.
    csv = client.get("/staff/studies/default/calls.csv")
    assert csv.status_code == 200 and "ROLE-1" in csv.get_data(as_text=True)


def test_an_interview_shows_whose_answers_on_every_page_and_records_the_calls(
        app, client, session_factory, settings, mailer, smtp, clock):
    ids = phoned_cohort(session_factory, settings, mailer, clock, ["INT-1"])
    interviewer = staff_member(client, session_factory, "interviewer")
    record(client, ids["INT-1"], "no_answer")
    clock.set(datetime(2026, 3, 3, 9, 30, tzinfo=UTC))
    started = record(client, ids["INT-1"], "completed")
    assert started.headers["Location"].endswith("/q/")
    intro = client.get("/q/").get_data(as_text=True)
    banner = "You are entering the answers of INT-1 for End of the intervention."
    assert banner in page_text(client.get("/q/"))
    first = re.search(r'href="(/q/[a-z0-9_]+)"', intro).group(1)
    pages = walk(client, first, WAVE1)
    assert pages and all(banner in text_of(p.html) for p in pages)
    check = client.get("/q/check")
    assert banner in page_text(check)
    token = csrf_token(check.get_data(as_text=True))
    assert client.post("/q/check", data={"csrf_token": token}).headers[
        "Location"].endswith("/q/done")
    with session_factory() as s:
        response = s.scalar(select(Response))
        assert (response.status, response.mode, response.entered_by_id, response.calls) == (
            "submitted", "telephone", interviewer, 2)
    # The interviewer's next client is on the call list: the done page goes back there.
    done = client.get("/q/done").get_data(as_text=True)
    assert 'href="/staff/studies/default/calls?wave=wave1"' in done
    assert "Back to the call list" in text_of(done)
    assert "INT-1" not in call_list(client)  # answered: off the list


def test_the_call_list_opens_on_a_wave_with_calls_due_not_a_finished_one(
        app, client, session_factory, settings, mailer, smtp, clock):
    """Two telephone waves, the first finished (as in the demo's ffws-pilots): the call list
    opens on the second, which has someone to call; the first is a link away."""
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Telephone study")
        for wave in study.waves:
            wave.mode = "telephone"
        s.flush()
        import_cohort(s, study, participants_csv(
            ("FIN-1", "Hull", today.isoformat(), "en", "", PHONE.format(1), 5, 5, 7)),
            today=today)
        s.commit()
        later = wave_by_code(study, "wave2").offset_days
    dispatch(session_factory, clock(), settings, mailer)
    staff_member(client, session_factory, "interviewer")
    with session_factory() as s:
        first_id = s.scalar(select(Invitation.id).where(Invitation.wave_id == 1))
    assert record(client, first_id, "refused").status_code == 302  # wave 1: done
    clock.set(clock() + timedelta(days=later))
    dispatch(session_factory, clock(), settings, mailer)  # wave 2 falls due
    opened = call_list(client)
    assert "FIN-1" in opened and "Nobody is due for a call now" not in opened
    first = page_text(client.get("/staff/studies/default/calls?wave=wave1"))
    assert "Nobody is due for a call now" in first and "FIN-1" not in first

def test_a_clients_web_draft_is_sent_only_once_the_interviewer_confirms_it(
        app, client, session_factory, settings, mailer, smtp, clock):
    from tests.security.conftest import answer_every_page

    ids = phoned_cohort(session_factory, settings, mailer, clock, ["DRAFT-1"])
    answer_every_page(session_factory, ids["DRAFT-1"], WAVE1, clock())  # online, not sent
    staff_member(client, session_factory, "interviewer")
    started = record(client, ids["DRAFT-1"], "completed")
    resumed = client.get(started.headers["Location"])
    # The first page, not check-answers, with the warning.
    assert resumed.status_code == 302 and not resumed.headers["Location"].endswith("/q/check")
    first = page_text(client.get(resumed.headers["Location"]))
    assert "The client began this questionnaire online" in first
    check = client.get("/q/check")
    body = page_text(check)
    assert "I have read these answers to the client and they confirmed them" in body
    assert "DRAFT-1" in body
    token = csrf_token(check.get_data(as_text=True))
    refused = client.post("/q/check", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "Confirm that you read these answers to the client" in page_text(refused)
    with session_factory() as s:
        assert s.scalar(select(Response)).status == "in_progress"
    sent = client.post("/q/check", data={"csrf_token": token, "confirmed": "yes"})
    assert sent.headers["Location"].endswith("/q/done")
    with session_factory() as s:
        response = s.scalar(select(Response))
        assert (response.status, response.mode, response.calls) == ("submitted", "telephone", 1)


def test_a_wave_names_its_mode_and_most_calls_in_the_definition(
        app, session_factory):
    source = """slug: phoned
name: Phoned
programme: {en: Health and Work Support}
languages: [en]
measures:
  - {id: workability, kind: scale, label: {en: Work ability}}
waves:
  - {code: wave1, instrument: wave1, mode: telephone, max_calls: 7}
  - {code: wave2, instrument: wave2, offset_days: 42}
"""
    d = read_definition(source)
    assert (d.waves[0].mode, d.waves[0].max_calls) == ("telephone", 7)
    assert (d.waves[1].mode, d.waves[1].max_calls) == ("web", 5)
    for bad, words in (("mode: post", "must be web or telephone"),
                       ("max_calls: 21", "max_calls: must be a whole number from 1 to 20")):
        try:
            read_definition(source.replace("mode: telephone, max_calls: 7", bad))
        except DefinitionError as exc:
            assert any(words in p for p in exc.problems), exc.problems
        else:
            raise AssertionError(bad)
    from surveys.studies.apply import apply_definition
    with session_factory() as s:
        apply_definition(s, d, now=datetime(2026, 3, 2, tzinfo=UTC))
        s.commit()
        from surveys.models import Study
        shown = write_definition(s.scalar(select(Study).where(Study.slug == "phoned")))
    assert "mode: telephone" in shown and "max_calls: 7" in shown
    assert shown.count("mode:") == 1 and shown.count("max_calls") == 1
    assert read_definition(shown) == d


def test_the_evaluation_funnel_counts_how_calling_ended(
        app, client, session_factory, settings, mailer, smtp, clock):
    refs = [f"FUN-{i}" for i in range(12)]
    ids = phoned_cohort(session_factory, settings, mailer, clock, refs, max_calls=1)
    staff_member(client, session_factory, "researcher")
    for ref in refs[:3]:
        record(client, ids[ref], "refused")
    for ref in refs[3:5]:
        record(client, ids[ref], "wrong_number")
    record(client, ids[refs[5]], "no_answer")  # the wave's one call: not reached
    with session_factory() as s:
        study = resolve_study(s, "default")
        report = evaluation_report(s, study)
        published = evaluation_report(s, study, publication=True)
    rates = "response-rates"
    assert [cell(report, rates, k, "wave1:count") for k in
            ("refused", "wrong_number", "not_reached", "issued", "issued_total")] == [
                3, 2, 1, 6, 12]
    # Under the disclosure threshold: the published copy hides the small counts.
    assert cell(published, rates, "refused", "wave1:count") == SUPPRESSED
    page = page_text(client.get("/reports/default/evaluation?follow_up=wave2"))
    for label in ("Refused on the telephone", "Wrong telephone number",
                  "Not reached after the most calls"):
        assert label in page


def test_call_lists_show_numbers_as_an_interviewer_dials_them():
    from surveys.phones import for_dialling

    assert for_dialling("+447700900123") == "07700 900123"  # Ofcom's drama range too
    assert for_dialling("+441632960603") == "01632 960603"
    assert for_dialling("+442079460000") == "020 7946 0000"
    assert for_dialling("+353851234567") == "+353 85 123 4567"
    assert for_dialling("not a number") == "not a number"
