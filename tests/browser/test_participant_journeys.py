"""A researcher in Chromium finds a participant by reference, sends their link again and
withdraws them; axe runs on every page, best-practice rules included."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from tests.browser.support import CLIENT_AXE_TAGS, DESKTOP, load_cohort

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
RESEARCHER = "researcher@example.org"


def arrived(b, label: str) -> None:
    """The usual checks, then axe again with its best-practice rules (heading order,
    landmarks, regions), which staff pages meet as client pages do."""
    b.arrived(label)
    results = b.axe.run(b.page, options={
        "runOnly": {"type": "tag", "values": CLIENT_AXE_TAGS},
        "resultTypes": ["violations"]}).response
    assert [v["id"] for v in results["violations"]] == [], label


def test_researcher_finds_a_participant_resends_and_withdraws(
    browse, session_factory, settings, mailer, clock
):
    with session_factory() as session:
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
    today = clock().date()
    load_cohort(session_factory, *[(f"P-{n:03}", today, "en", f"p{n}@example.org", (5, 5, 5))
                                   for n in range(1, 61)])
    dispatch(session_factory, clock(), settings, mailer)

    b = browse(DESKTOP)
    page = b.page
    b.page.goto(b.base_url + "/staff/sign-in")
    arrived(b, "staff: sign in")
    page.get_by_label(b.text("Email address"), exact=True).fill(RESEARCHER)
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    arrived(b, "staff: studies")

    page.get_by_role("link", name=re.compile("^" + re.escape(b.text("Participants")))).first \
        .click()
    arrived(b, "staff: participants")
    expect(page.locator("#showing")).to_have_text(
        b.text("Showing %(first)s to %(last)s of %(total)s participants",
               first="1", last="50", total="60"))
    page.get_by_label(b.text("Reference")).fill("p-04")
    page.get_by_role("button", name=b.text("Search"), exact=True).click()
    arrived(b, "staff: participants, search")
    expect(page.locator("main tbody tr")).to_have_count(10)
    page.get_by_label(b.text("Reference")).fill("p-042")
    page.get_by_role("button", name=b.text("Search"), exact=True).click()
    arrived(b, "staff: participants, one found")
    page.get_by_role("link", name="P-042").click()
    arrived(b, "staff: participant")
    expect(page.locator("h1")).to_have_text(b.text("Participant %(ref)s", ref="P-042"))

    page.get_by_role("button", name=re.compile(
        "^" + re.escape(b.text("Send the link again now")))).click()
    arrived(b, "staff: participant, link sent again")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        b.text("The link for the %(wave)s questionnaire will be sent again in the study's next "
               "sending hours.", wave=b.text("End of the intervention")))

    page.get_by_role("button", name=b.text("Withdraw participant")).click()
    arrived(b, "staff: participant, withdraw without a choice")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        b.text("Select whether to keep their answers"))
    page.get_by_label(b.text("Keep the answers they have given")).check()
    page.get_by_role("button", name=b.text("Withdraw participant")).click()
    arrived(b, "staff: participant withdrawn")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("P-042")
    expect(page.locator(".app-timeline")).to_contain_text(b.text("Withdrawn from the study"))
