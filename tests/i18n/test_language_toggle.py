"""The language toggle switches every page, including a page showing errors after a POST,
the check-answers page and staff pages; the design system's own words follow."""

from __future__ import annotations

import re

from scheduler.jobs import dispatch
from tests.helpers import participants_csv, person, post_form, token_from
from tests.i18n.walk import open_and_start, page_text, post_page, staff_member, walk

TOGGLE = re.compile(r'<a href="([^"]+)" hreflang="(en|cy)"')


def toggle(response, to: str) -> str:
    """The toggle's link to language `to` on this page (it must be there)."""
    links = dict((lang, href.replace("&amp;", "&"))
                 for href, lang in TOGGLE.findall(response.get_data(as_text=True)))
    assert to in links, f"no toggle link to {to!r} on this page"
    return links[to]


def lang_of(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def english_client(runner, session_factory, settings, mailer, smtp, clock, tmp_path) -> str:
    cohort = tmp_path / "participants.csv"
    cohort.write_text(participants_csv(person("EN-1", clock().date(), email="en@example.org")))
    assert runner.invoke(args=["import-cohort", "--participants", str(cohort)]).exit_code == 0
    dispatch(session_factory, clock(), settings, mailer)
    return token_from(smtp.to("en@example.org")[0])


def test_the_toggle_switches_every_client_page_and_keeps_it_switched(
    app, client, runner, session_factory, settings, mailer, smtp, clock, tmp_path
):
    token = english_client(runner, session_factory, settings, mailer, smtp, clock, tmp_path)
    intro, first = open_and_start(client, token)
    assert "Start now" in intro

    # The introduction page.
    welsh = client.get(toggle(client.get("/q/"), "cy"))
    assert lang_of(welsh) == "cy" and "Dechrau nawr" in page_text(welsh)
    english = client.get(toggle(welsh, "en"))
    assert lang_of(english) == "en" and "Start now" in page_text(english)

    # A question page showing an error after a POST: the toggle leads to the same
    # question, whose wording, answers and buttons are then all Welsh.
    refused = post_page(client, first, {})
    assert refused.status_code == 400 and "Select an answer" in page_text(refused)
    assert toggle(refused, "cy") == f"{first}?lang=cy"
    welsh = client.get(toggle(refused, "cy"))
    shown = page_text(welsh)
    assert lang_of(welsh) == "cy"
    assert "Pa mor fodlon" in shown or "fodlon" in shown  # the satisfaction question, in Welsh
    assert "Parhau" in shown and "Continue" not in shown
    # Errors after switching: Welsh message, Welsh hidden prefix.
    again = page_text(post_page(client, first, {}))
    assert '<span class="govuk-visually-hidden">Gwall:</span> Dewiswch ateb' in again

    # The choice is kept from page to page, and answers given in Welsh are kept in English.
    walk(client, first, {"satisfaction": "satisfied", "channel_appropriate": "agree",
                         "number_appropriate": "agree", "length_appropriate": "agree"},
         stop_before="about_the_ehp")
    back_in_english = client.get(toggle(client.get(first), "en"))
    assert 'value="satisfied" checked' in back_in_english.get_data(as_text=True)

    # The check-answers page.
    walk(client, "/q/about_the_ehp", {
        "honest_open": "agree", "trusted_ehp": "agree", "understood_circumstances": "agree",
        "open_up_vs_work_coach": "no_difference", "identified_obstacles": "agree",
        "identified_solutions": "agree", "read_plan": "no", "right_work_health": "agree",
        "outlook_change": "improved", "confidence_change": "improved",
        "importance_change": "improved", "support_change": "improved"})
    check = client.get("/q/check")
    assert "Check your answers before sending them" in page_text(check)
    welsh_check = client.get(toggle(check, "cy"))
    assert "Gwiriwch eich atebion cyn eu hanfon" in page_text(welsh_check)
    assert "Anfon atebion" in page_text(welsh_check)

    # The page after sending.
    from tests.i18n.walk import send_answers

    assert send_answers(client).headers["Location"].endswith("/q/done")
    done = client.get("/q/done")
    assert "Atebion wedi'u hanfon" in page_text(done)
    assert "Answers sent" in page_text(client.get(toggle(done, "en")))


def test_the_toggle_works_on_staff_pages_and_keeps_their_filters(
    app, client, runner, session_factory, settings, mailer, smtp, clock, tmp_path
):
    english_client(runner, session_factory, settings, mailer, smtp, clock, tmp_path)
    staff_member(client, session_factory, "researcher")

    listing = client.get("/staff/studies/default/invitations?wave=wave1&status=issued")
    link = toggle(listing, "cy")
    assert link.startswith("/staff/studies/default/invitations?")
    assert {"wave=wave1", "status=issued", "lang=cy"} <= set(link.split("?")[1].split("&"))
    welsh = client.get(link)
    assert "Holiaduron a anfonwyd a chofnodi dros y ffôn" in page_text(welsh)
    assert "Rhoi atebion dros y ffôn" in page_text(welsh)  # the filter kept the row
    assert "Dewislen" in page_text(welsh)  # the service navigation's menu button
    assert "Menu" in page_text(client.get(toggle(welsh, "en")))  # back to English

    # A schedule form refused after a POST: the page's URL only takes POSTs, so
    # the toggle goes back to the schedule page, now in Welsh.
    refused = post_form(client, "/staff/studies/default/schedule/wave1",
                        {"wave1-offset_days": "x", "wave1-reminder_days": "7",
                         "wave1-close_days": "28"})
    assert refused.status_code == 400
    switched = client.get(toggle(refused, "cy"), follow_redirects=True)
    assert switched.status_code == 200 and lang_of(switched) == "cy"
    shown = page_text(switched)
    assert "Amserlen y tonnau" in shown
    # The date input's own labels, from the design system, in Welsh.
    labels = re.findall(r'govuk-date-input__label" for="end_date-[a-z]+">\s*(\w+)\s*<',
                        switched.get_data(as_text=True))
    assert labels == ["Diwrnod", "Mis", "Blwyddyn"]

    refused = post_form(client, "/staff/studies/default/window", {"end_date": ["40", "13", "x"]})
    assert refused.status_code == 400
    shown = page_text(refused)
    assert "Mae problem wedi codi" in shown
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in shown
    assert "Diwrnod" in shown and "Blwyddyn" in shown

    # The sign-in page's password toggle speaks Welsh too (signed out, still Welsh).
    client.post("/staff/sign-out", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', welsh.get_data(as_text=True)).group(1)})
    sign_in_page = client.get("/staff/sign-in?lang=cy")
    assert 'data-i18n.show-password="Dangos"' in sign_in_page.get_data(as_text=True)


def test_welsh_chosen_before_signing_in_stays_after_signing_in_and_out(
    client, session_factory
):
    """Signing in starts a new session (no fixation); the language chosen on the sign-in
    page goes with it, and survives signing out."""
    assert lang_of(client.get("/staff/sign-in?lang=cy")) == "cy"
    staff_member(client, session_factory, "researcher")
    dashboard = client.get("/staff/")
    assert lang_of(dashboard) == "cy" and "Astudiaethau" in page_text(dashboard)
    client.post("/staff/sign-out", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', dashboard.get_data(as_text=True)).group(1)})
    assert lang_of(client.get("/staff/sign-in")) == "cy"


def test_error_pages_follow_the_chosen_language(
    app, client, runner, session_factory, settings, mailer, smtp, clock, tmp_path
):
    token = english_client(runner, session_factory, settings, mailer, smtp, clock, tmp_path)
    _, first = open_and_start(client, token)
    client.get("/q/?lang=cy")
    expired = client.post(first, data={"satisfaction": "satisfied"})  # no CSRF token
    assert expired.status_code == 400
    assert "Mae'n ddrwg gennym, roedd eich tudalen wedi dod i ben" in page_text(expired)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Heb ddod o hyd i'r dudalen" in page_text(missing)
    unknown = client.get("/r/not-a-real-link")
    assert "Nid yw'r ddolen hon yn gweithio" in page_text(unknown)
    assert lang_of(unknown) == "cy"
