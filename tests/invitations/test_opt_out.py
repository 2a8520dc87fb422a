"""A client who asks not to be contacted hears nothing more about the study (issue 15)."""

from __future__ import annotations

import re

from sqlalchemy import select

from analysis.disclosure import SUPPRESSED
from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent, Participant
from surveys.reports.evaluation import evaluation_report
from surveys.studies import resolve_study
from tests.helpers import WAVE1_ANSWERS, csrf_token, participants_csv, person, token_from
from tests.reports.conftest import cell
from tests.test_core_loop import answer_everything

STOP = re.compile(r"http://surveys\.test/stop/([A-Za-z0-9_-]+)")


def load(session_factory, *people) -> None:
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        import_cohort(s, study, participants_csv(*people))
        s.commit()


def stop_path(message) -> str:
    """The stop link in both parts of an email: the same one."""
    plain = message.get_body(("plain",)).get_content()
    rich = message.get_body(("html",)).get_content()
    [token] = STOP.findall(plain)
    assert STOP.findall(rich) == [token]
    return f"/stop/{token}"


def stop_contact(client, path: str):
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def opt_out_events(session_factory) -> list[AuditEvent]:
    with session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant_opted_out")))


def test_the_stop_page_explains_what_stopping_means_in_the_clients_language(
    app, session_factory, settings, mailer, smtp, clock
):
    load(session_factory, person("S-1", clock().date(), email="s1@example.org"),
         person("S-2", clock().date(), email="s2@example.org", language="cy"))
    dispatch(session_factory, clock(), settings, mailer)
    english = app.test_client().get(stop_path(smtp.to("s1@example.org")[0]))
    html = english.get_data(as_text=True)
    assert english.status_code == 200 and '<html lang="en"' in html
    assert "Stop messages about this study" in html
    assert "any more emails or text messages about this study" in html
    assert "Answers you have already given are kept" in html
    assert "To have your answers deleted" in html
    assert ">Stop contacting me<" in html.replace("\n", "").replace("  ", "")
    assert 'name="csrf_token"' in html and 'method="post"' in html

    welsh_client = app.test_client()
    welsh = welsh_client.get(stop_path(smtp.to("s2@example.org")[0]))
    assert welsh.status_code == 200 and '<html lang="cy"' in welsh.get_data(as_text=True)
    switched = welsh_client.get(stop_path(smtp.to("s2@example.org")[0]) + "?lang=en")
    assert '<html lang="en"' in switched.get_data(as_text=True)
    assert not opt_out_events(session_factory)  # looking is not stopping


def test_stopping_cancels_every_later_message_of_the_study_and_is_audited_once(
    app, session_factory, settings, mailer, smtp, clock
):
    from surveys.accounts import create_user
    from tests.security.conftest import act_as

    load(session_factory, person("S-3", clock().date(), email="s3@example.org"),
         person("S-4", clock().date(), email="s4@example.org"))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 2
    path = stop_path(smtp.to("s3@example.org")[0])
    stopped_at = clock()
    client = app.test_client()
    form = client.get(path).get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_token(form)})
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "You will not be contacted again about this study" in page
    assert "We recorded your request on 2 March 2026" in page

    # The reminder a week later, wave two six weeks later and its reminder: none goes.
    for days in (7, 35, 7):
        clock.advance(days=days)
        dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("s3@example.org")) == 1
    assert len(smtp.to("s4@example.org")) == 4  # the other client hears as before

    clock.advance(days=1)  # the link has closed: the page still works, and says so
    again = app.test_client().get(path).get_data(as_text=True)
    assert "You will not be contacted again about this study" in again
    assert "We recorded your request on 2 March 2026" in again
    # The form sent twice (a back button, a double click): recorded once, when first asked.
    assert client.post(path, data={"csrf_token": csrf_token(form)}).status_code == 200
    with session_factory() as s:
        participant = s.scalar(select(Participant).where(Participant.ref == "S-3"))
        assert participant.opted_out_at == stopped_at  # recorded once, when first asked
        participant_id = participant.id
    [event] = opt_out_events(session_factory)
    assert event.actor == "client" and event.user_id is None
    assert event.detail["study"] == "default" and event.detail["participant_id"] == participant_id
    assert "S-3" not in str(event.detail)  # a digest, never the reference

    with session_factory() as s:
        create_user(s, "r@example.org", "a long and proper passphrase 2024", "researcher")
        s.commit()
    staff = app.test_client()
    act_as(staff, session_factory, "researcher")
    html = staff.get("/staff/studies/default/invitations").get_data(as_text=True)
    assert "Asked not to be contacted on 2 Mar 2026" in html
    assert "Invitation: asked not to be contacted" in html  # wave two's, not sent
    # The participant page's timeline reads the audit event (surveys/web/participants.py).
    timeline = staff.get("/staff/studies/default/participants/S-3").get_data(as_text=True)
    assert "Opted out of messages" in timeline


def test_a_wrong_stop_link_shows_the_unknown_link_page_and_changes_nothing(
    app, session_factory, settings, mailer, smtp, clock
):
    load(session_factory, person("S-5", clock().date(), email="s5@example.org"))
    dispatch(session_factory, clock(), settings, mailer)
    client = app.test_client()
    real = stop_path(smtp.to("s5@example.org")[0])
    page = client.get(real)
    token = csrf_token(page.get_data(as_text=True))
    for wrong in ("/stop/not-a-token", real[:-2] + "xx"):
        shown = client.get(wrong)
        assert shown.status_code == 404
        assert "This link does not work" in shown.get_data(as_text=True)
        assert client.post(wrong, data={"csrf_token": token}).status_code == 404
    assert not opt_out_events(session_factory)
    with session_factory() as s:
        assert s.scalar(select(Participant.opted_out_at)) is None


def test_the_response_funnel_counts_those_who_asked_not_to_be_contacted(
    app, session_factory, settings, mailer, smtp, clock
):
    refs = [f"F-{i}" for i in range(1, 5)]
    load(session_factory, *(person(r, clock().date(), email=f"{r}@example.org") for r in refs))
    dispatch(session_factory, clock(), settings, mailer)
    # F-1 answers; F-2 answers, then stops; F-3 stops without answering; F-4 stays silent.
    for ref in ("F-1", "F-2"):
        answer_everything(app.test_client(), token_from(smtp.to(f"{ref}@example.org")[0]),
                          WAVE1_ANSWERS)
    for ref in ("F-2", "F-3"):
        stop_contact(app.test_client(), stop_path(smtp.to(f"{ref}@example.org")[0]))
    with session_factory() as s:
        study = resolve_study(s, None)
        report = evaluation_report(s, study)
        published = evaluation_report(s, study, publication=True)
    rates = "response-rates"
    assert [cell(report, rates, k, "wave1:count") for k in
            ("completed", "issued", "opted_out", "issued_total")] == [2, 1, 1, 4]
    assert cell(report, rates, "opted_out", "wave1:percent") == 25
    row = next(r for s in report["sections"] for t in s["tables"] if t["id"] == rates
               for r in t["rows"] if r["key"] == "opted_out")
    assert row["label"] == "Asked not to be contacted"
    # Four clients: below the disclosure threshold, so the published copy hides the count.
    assert cell(published, rates, "opted_out", "wave1:count") == SUPPRESSED
