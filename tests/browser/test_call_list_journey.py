"""An interviewer in Chromium works a telephone wave's call list: signs in, checks it on a
phone in Welsh, records a call nobody answered, then interviews the next client and sends
their answers. Every page passes axe-core with the best-practice rules too (issue 14)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveys.accounts import create_user
from tests.browser.support import DESKTOP, PHONE, answer_all
from tests.test_call_lists import phoned_cohort
from tests.test_telephone_and_resume import WAVE1

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
CALLER = "caller@example.org"


def test_an_interviewer_works_the_call_list(
        browse, session_factory, settings, mailer, smtp, clock, live_server):
    phoned_cohort(session_factory, settings, mailer, clock, ["PH-1", "PH-2"])
    with session_factory() as session:
        create_user(session, CALLER, PASSWORD, "interviewer")
        session.commit()
    b = browse(DESKTOP, client=True)
    page = b.page
    b.goto("/staff/sign-in", "interviewer: sign in")
    page.get_by_label(b.text("Email address"), exact=True).fill(CALLER)
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    b.arrived("interviewer: call lists")
    expect(page.locator("h1")).to_have_text(b.text("Call lists"))
    page.get_by_role("link", name=b.text("Call list for %(study)s", study="Telephone study"),
                     exact=True).click()
    b.arrived("interviewer: call list")
    expect(page.locator("#due tbody tr")).to_have_count(2)

    # On a phone, in Welsh: the table scrolls in its own region, the page never sideways
    # (a link's visually hidden text once escaped the region and widened the page).
    page.set_viewport_size(PHONE)
    page.locator(".app-language-toggle a[hreflang=cy]").click()
    b.arrived("interviewer: call list in Welsh on a phone", max_width=PHONE["width"])
    assert b.lang == "cy"
    expect(page.locator("#due tbody tr")).to_have_count(2)
    page.set_viewport_size(DESKTOP)

    # PH-1 does not answer: off today's list, due again tomorrow.
    page.locator("#due tbody tr").filter(has_text="PH-1").get_by_role("link").click()
    b.arrived("interviewer: call PH-1")
    page.get_by_label(b.text("No answer: call again tomorrow"), exact=True).check()
    page.get_by_role("button", name=b.text("Save this call")).click()
    b.arrived("interviewer: call list after no answer")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        b.text("Call saved for %(ref)s.", ref="PH-1"))
    expect(page.locator("#due tbody tr")).to_have_count(1)

    # PH-2 agrees: the interview, with whose answers these are on every page.
    page.locator("#due tbody tr").filter(has_text="PH-2").get_by_role("link").click()
    b.arrived("interviewer: call PH-2")
    page.get_by_label(b.text("The client agreed: start the interview"), exact=True).check()
    page.get_by_role("button", name=b.text("Save this call")).click()
    b.arrived("interviewer: start page")
    expect(page.locator("#on-behalf")).to_contain_text("PH-2")
    page.get_by_role("button", name=b.text("Start now")).click()
    b.arrived("interviewer: first question")
    expect(page.locator("#on-behalf")).to_contain_text("PH-2")
    answer_all(b, WAVE1, "interviewer")
    expect(page.locator("main")).to_contain_text(
        b.text("The answers were stored as a telephone response entered by you."))

    # Back to the call list for the next client: nobody left to call today.
    page.get_by_role("link", name=b.text("Back to the call list"), exact=True).click()
    b.arrived("interviewer: call list after the interview")
    expect(page.locator("#due")).to_have_text(b.text("Nobody is due for a call now."))
