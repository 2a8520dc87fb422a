"""Telephone mode (a researcher answers on a client's behalf) and save and resume
(a client leaves part-way and comes back through the same link)."""

from __future__ import annotations

import re

from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys.models import AuditEvent, Response
from tests.helpers import csrf_token, participants_csv, person, token_from
from tests.i18n.walk import (
    fields,
    invitation_id,
    open_and_start,
    page_text,
    post_page,
    send_answers,
    staff_member,
    stored_response,
    walk,
)

WAVE1 = {
    "satisfaction": "extremely_satisfied",
    "channel_appropriate": "agree",
    "number_appropriate": "strongly_agree",
    "length_appropriate": "agree",
    "honest_open": "agree",
    "trusted_ehp": "strongly_agree",
    "understood_circumstances": "neither",
    "open_up_vs_work_coach": "more_able",
    "identified_obstacles": "agree",
    "identified_solutions": "agree",
    "read_plan": "no",
    "right_work_health": "agree",
    "outlook_change": "improved",
    "confidence_change": "improved",
    "importance_change": "no_difference",
    "support_change": "deteriorated",
    "comments": "Said by telephone.",
}


def cohort(runner, session_factory, settings, mailer, clock, tmp_path, *rows) -> None:
    path = tmp_path / "participants.csv"
    path.write_text(participants_csv(*rows))
    assert runner.invoke(args=["import-cohort", "--participants", str(path)]).exit_code == 0
    dispatch(session_factory, clock(), settings, mailer)


def checked(page_html: str, name: str) -> list[str]:
    """The values shown as chosen for a radio or checkbox question."""
    return re.findall(rf'name="{name}" type="(?:radio|checkbox)" value="([^"]+)" checked',
                      page_html)


def telephone_post(client, invitation: int):
    token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
    return client.post(f"/staff/invitations/{invitation}/telephone",
                       data={"csrf_token": token})


# --- Telephone mode -------------------------------------------------------------------


def test_a_researcher_enters_a_clients_answers_by_telephone(
    app, client, runner, session_factory, settings, mailer, clock, tmp_path
):
    cohort(runner, session_factory, settings, mailer, clock, tmp_path,
           person("TEL-1", clock().date()))  # no email: the telephone list
    researcher = staff_member(client, session_factory, "researcher")
    invitation = invitation_id(session_factory, "TEL-1", "wave1")

    # The button on the invitations page posts to the telephone route.
    listing = client.get("/staff/studies/default/invitations").get_data(as_text=True)
    assert f'action="/staff/invitations/{invitation}/telephone"' in listing
    opened = telephone_post(client, invitation)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/q/")

    intro = client.get("/q/")
    first = re.search(r'href="(/q/[a-z0-9_]+)"', intro.get_data(as_text=True)).group(1)
    pages = walk(client, first, WAVE1, on_page=lambda page: (
        "You are entering answers on behalf of a client, by telephone." in page.text
        or (_ for _ in ()).throw(AssertionError(f"no telephone banner on {page.id}"))))
    assert len(pages) > 5
    assert send_answers(client).headers["Location"].endswith("/q/done")
    done = page_text(client.get("/q/done"))
    assert "The answers were stored as a telephone response entered by you." in done

    response = stored_response(session_factory, "TEL-1", "wave1")
    assert (response.status, response.mode, response.entered_by_id) == (
        "submitted", "telephone", researcher)
    assert response.answers["comments"] == "Said by telephone."
    with session_factory() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "telephone_entry"))
        assert event.user_id == researcher and event.detail["invitation"] == invitation
    # The researcher's session no longer holds the client's questionnaire.
    assert client.get("/q/").status_code == 404


def test_telephone_entry_takes_a_researcher(
    app, client, runner, session_factory, settings, mailer, clock, tmp_path
):
    cohort(runner, session_factory, settings, mailer, clock, tmp_path,
           person("TEL-2", clock().date()))
    invitation = invitation_id(session_factory, "TEL-2", "wave1")

    anonymous = telephone_post(client, invitation)
    assert anonymous.status_code == 302 and "/staff/sign-in" in anonymous.headers["Location"]
    assert client.get("/q/").status_code == 404

    staff_member(client, session_factory, "evaluator")
    assert telephone_post(client, invitation).status_code == 403
    assert client.get("/q/").status_code == 404
    with session_factory() as s:
        assert s.scalar(select(Response)) is None

    # A questionnaire not yet issued (wave two) cannot be opened either.
    other = app.test_client()
    staff_member(other, session_factory, "researcher")
    not_due = telephone_post(other, invitation_id(session_factory, "TEL-2", "wave2"))
    assert not_due.status_code == 302
    assert "That questionnaire is not open for answers." in page_text(
        other.get(not_due.headers["Location"]))
    assert other.get("/q/").status_code == 404


def test_a_client_page_cannot_be_used_in_telephone_mode_after_signing_out(
    app, client, runner, session_factory, settings, mailer, clock, tmp_path
):
    cohort(runner, session_factory, settings, mailer, clock, tmp_path,
           person("TEL-3", clock().date()))
    staff_member(client, session_factory, "researcher")
    telephone_post(client, invitation_id(session_factory, "TEL-3", "wave1"))
    assert client.get("/q/").status_code == 200
    with client.session_transaction() as session:  # the account is gone from the session
        session.pop("user_id")
    assert client.get("/q/satisfaction").status_code == 403


# --- Save and resume ------------------------------------------------------------------


def test_a_client_leaves_part_way_and_carries_on_later_from_where_they_were(
    app, client, runner, session_factory, settings, mailer, smtp, clock, tmp_path
):
    cohort(runner, session_factory, settings, mailer, clock, tmp_path,
           person("RES-1", clock().date(), email="res@example.org"))
    token = token_from(smtp.to("res@example.org")[0])
    _, first = open_and_start(client, token)
    walk(client, first, WAVE1, stop_before="about_the_ehp")

    # Third page: answer it and choose "Save and come back later".
    page = client.get("/q/about_the_ehp").get_data(as_text=True)
    assert "Save and come back later" in page_text(client.get("/q/about_the_ehp"))
    data = {name: WAVE1[name] for name in fields(page)}
    saved = post_page(client, "/q/about_the_ehp", data, button="save_and_exit")
    assert saved.headers["Location"].endswith("/q/saved")
    assert "Your answers have been saved" in page_text(client.get("/q/saved"))
    kept = stored_response(session_factory, "RES-1", "wave1")
    assert kept.status == "in_progress"
    assert {k: kept.answers[k] for k in data} == data

    # Days later, on another device: the same link lands on the first page not yet saved.
    clock.advance(days=3)
    later = app.test_client()
    landed = later.get(f"/r/{token}", follow_redirects=True)
    assert landed.request.path == "/q/open_up"
    # Going back shows every earlier answer chosen.
    for page_id, names in (("about_the_ehp", data), ("satisfaction", ["satisfaction"]),
                           ("appointments", ["channel_appropriate", "number_appropriate",
                                             "length_appropriate"])):
        shown = later.get(f"/q/{page_id}").get_data(as_text=True)
        for name in names:
            assert checked(shown, name) == [WAVE1[name]], (page_id, name)

    # A changed earlier answer is kept, and carrying on from there still works.
    post_page(later, "/q/satisfaction", {"satisfaction": "satisfied"})
    walk(later, "/q/open_up", WAVE1)
    assert send_answers(later).headers["Location"].endswith("/q/done")
    answers = stored_response(session_factory, "RES-1", "wave1").answers
    assert answers["satisfaction"] == "satisfied"
    assert answers["honest_open"] == WAVE1["honest_open"]
    assert answers["support_change"] == WAVE1["support_change"]
    assert "_pages_seen" not in answers


def test_a_submitted_questionnaire_can_no_longer_change(
    app, client, runner, session_factory, settings, mailer, smtp, clock, tmp_path
):
    cohort(runner, session_factory, settings, mailer, clock, tmp_path,
           person("RES-2", clock().date(), email="res2@example.org"))
    token = token_from(smtp.to("res2@example.org")[0])
    _, first = open_and_start(client, token)
    walk(client, first, WAVE1)
    assert send_answers(client).headers["Location"].endswith("/q/done")
    before = stored_response(session_factory, "RES-2", "wave1")

    clock.advance(days=1)
    again = client.get(f"/r/{token}", follow_redirects=True)
    assert "You have already answered this questionnaire" in page_text(again)
    assert "We received your answers on 2 March 2026." in page_text(again)

    token_for_post = csrf_token(again.get_data(as_text=True) + client.get(
        "/staff/sign-in").get_data(as_text=True))
    for url, data in (
        ("/q/satisfaction", {"satisfaction": "extremely_dissatisfied", "continue": "1"}),
        ("/q/comments", {"comments": "changed my mind", "save_and_exit": "1"}),
        ("/q/check", {}),
    ):
        result = client.post(url, data={"csrf_token": token_for_post, **data})
        assert result.status_code == 200, url
        assert "You have already answered this questionnaire" in page_text(result)
    after = stored_response(session_factory, "RES-2", "wave1")
    assert after.answers == before.answers
    assert after.submitted_at == before.submitted_at
    assert after.status == "submitted"
