"""Clients answering in Chromium, starting from the email the SMTP server received.

Every page goes through `Browse.arrived` (axe-core and the design checks); the helpers
in tests/browser/support.py walk a questionnaire page by page as a client would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from instruments import load_instrument, text
from scheduler.jobs import dispatch
from surveys.i18n import translate
from tests.browser.support import (
    DESKTOP,
    NARROW,
    PHONE,
    answer_all,
    fill_page,
    focused,
    link_from,
    load_cohort,
    page_id,
    single_question_page,
    tab_until,
)

pytestmark = pytest.mark.browser

EMAIL = "client@example.org"
WAVE2_SCORES = {"workability": "7", "confidence": "6", "importance": "8"}


@pytest.fixture
def invite(smtp, session_factory, settings, mailer, clock):
    """Load one client, run the dispatcher (after `days`), return the newest emailed link."""

    def invite(language: str = "en", *, wave2: bool = False) -> str:
        load_cohort(session_factory, ("C-001", clock().date(), language, EMAIL, (4, 5, 9)))
        assert dispatch(session_factory, clock(), settings, mailer).sent == 1
        if wave2:
            clock.advance(days=42)
            assert dispatch(session_factory, clock(), settings, mailer).sent == 1
        return link_from(smtp.to(EMAIL)[-1], settings.base_url)

    return invite


def start(b, link: str, prefix: str, title: str | None = None, **checks):
    """Open the emailed link: the questionnaire's start page, then its first question."""
    b.goto(link, f"{prefix}: start page", **checks)
    if title is not None:
        expect(b.page.locator("h1")).to_have_text(title)
    b.page.get_by_role("button", name=b.text("Start now")).click()
    b.settled()


def test_client_answers_wave_one_then_wave_two_from_the_emails(
    browse, smtp, session_factory, settings, mailer, clock
):
    load_cohort(session_factory, ("C-001", clock().date(), "en", EMAIL, (4, 5, 9)))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    [first] = smtp.to(EMAIL)
    link = link_from(first, settings.base_url)

    b = browse(PHONE, client=True)
    start(b, link, "wave1", load_instrument("wave1").title["en"])
    pages = answer_all(b, {"read_plan": "no"}, "wave1", screenshots={
        "satisfaction": "client-question-phone.png", "check": "client-check-answers-phone.png"})
    assert "plan_statements" not in pages  # routed past the plan page
    expect(b.page.locator(".govuk-panel__title")).to_have_text(b.text("Answers sent"))

    # Six weeks on, the dispatcher sends wave two; the first link is spent.
    clock.advance(days=42)
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    second = smtp.to(EMAIL)[-1]
    assert link_from(second, settings.base_url) != link
    b.goto(link, "wave1: link used again")
    expect(b.page.locator("h1")).to_have_text(
        b.text("You have already answered this questionnaire"))

    start(b, link_from(second, settings.base_url), "wave2", load_instrument("wave2").title["en"])
    scale_pages = []
    for score in ("workability", "confidence", "importance"):
        assert page_id(b.page) == score
        assert single_question_page(b.page), f"{score} is not a single-question page"
        scale_pages.append(score)
        b.arrived(f"wave2: question {score}",
                  screenshot="client-scale-phone.png" if score == "workability" else None)
        fill_page(b.page, WAVE2_SCORES)
        b.page.get_by_role("button", name=b.text("Continue"), exact=True).click()
        b.settled()
    answer_all(b, {"steps_taken": "all", "seen_work_coach": "no"}, "wave2")
    b.goto(link_from(second, settings.base_url), "wave2: link used again")
    expect(b.page.locator("h1")).to_have_text(
        b.text("You have already answered this questionnaire"))


def test_keyboard_alone_answers_wave_one(browse, invite):
    """Tab, Space and Enter only: the skip link first, then the questions, then Continue."""
    b = browse(DESKTOP, client=True)
    page = b.page
    b.goto(invite(), "keyboard: start page")
    assert "govuk-skip-link" in tab_until(page, lambda f: True)["classes"]
    tab_until(page, lambda f: f["text"] == b.text("Start now"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    typed = False
    for _ in range(30):
        if page_id(page) == "check":
            break
        b.arrived(f"keyboard: question {page_id(page)}")
        if "#" not in page.url:
            skip = tab_until(page, lambda f: True)
            assert "govuk-skip-link" in skip["classes"], f"first Tab reached {skip}"
            page.keyboard.press("Enter")  # past the header, back link and language toggle
        # else the skip link's #main-content came along through the redirect, and the
        # browser starts the next page's Tab order at the main content, as it should.
        answered: set[str] = set()
        while True:
            now = tab_until(page, lambda f: f["tag"] in ("input", "textarea", "button"))
            if now["tag"] == "button":
                assert now["text"] == b.text("Continue"), f"reached {now} before Continue"
                break
            assert now["name"] not in answered or now["type"] == "checkbox", now
            if now["tag"] == "textarea":
                page.keyboard.type("Typed with the keyboard.")
                typed = True
            elif now["name"] not in answered:
                page.keyboard.press("Space")
                assert focused(page)["checked"], f"Space did not choose {now}"
            answered.add(now["name"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
    else:
        raise AssertionError("never reached check-answers")
    assert typed
    b.arrived("keyboard: check answers")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Typed with the keyboard.")
    tab_until(page, lambda f: f["text"] == b.text("Send answers"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    b.arrived("keyboard: answers sent")
    expect(page.locator(".govuk-panel__title")).to_have_text(b.text("Answers sent"))


def test_welsh_speaker_answers_in_welsh(browse, invite):
    wave1 = load_instrument("wave1")
    b = browse(PHONE, client=True)
    page = b.page
    b.goto(invite("cy"), "welsh: start page")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.locator("h1")).to_have_text(wave1.title["cy"])
    # The toggle offers English, marked as English, and comes back to Welsh.
    english = page.locator(".app-language-toggle a")
    expect(english).to_have_attribute("hreflang", "en")
    expect(english).to_have_attribute("lang", "en")
    expect(page.locator(".app-language-toggle [aria-current]")).to_have_text("Cymraeg")
    english.click()
    b.arrived("welsh: start page switched to English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(wave1.title["en"])
    page.locator(".app-language-toggle a[hreflang=cy]").click()
    b.arrived("welsh: start page switched back to Welsh")
    expect(page.locator("h1")).to_have_text(wave1.title["cy"])
    page.get_by_role("button", name=b.text("Start now")).click()

    b.arrived("welsh: question satisfaction")
    first = wave1.pages[0].questions[0]
    expect(page.locator("h1")).to_have_text(text(first.text, "cy"))
    expect(page.locator(".govuk-radios__label").first).to_have_text(
        text(first.choices[0].label, "cy"))
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("welsh: question satisfaction with an error")
    assert page.title().startswith(translate("Error:", "cy") + " ")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.locator(".govuk-error-message")).to_contain_text(
        translate("Select an answer", "cy"))
    answer_all(b, {}, "welsh")
    expect(page.locator("html")).to_have_attribute("lang", "cy")


def test_320_pixels_wide_never_scrolls_sideways(browse, invite):
    b = browse(NARROW, client=True)
    start(b, invite(wave2=True), "320px", max_width=320)
    page = b.page
    b.arrived("320px: question workability", max_width=320)
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("320px: question workability with an error", max_width=320)
    answer_all(b, {**WAVE2_SCORES, "steps_taken": "some", "steps_reasons": ["health", "other"],
                   "steps_reasons_other": "A long answer " * 20, "seen_work_coach": "yes"},
               "320px", max_width=320)


def test_without_javascript_every_page_works(browse, invite):
    b = browse(PHONE, client=True, java_script_enabled=False)
    page = b.page
    start(b, invite(wave2=True), "no js")
    b.arrived("no js: question workability")
    assert "js-enabled" not in (page.get_attribute("body", "class") or "")
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("no js: question workability with an error")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.title().startswith(b.text("Error:") + " ")
    answer_all(b, {**WAVE2_SCORES, "steps_taken": "none", "steps_reasons": ["other_issues"],
                   "more_steps_planned": "some", "seen_work_coach": "no",
                   "comments": "Answered without JavaScript."}, "no js")
    expect(page.locator(".govuk-panel__title")).to_have_text(b.text("Answers sent"))


def test_validation_errors_are_shown_and_fixed(browse, invite):
    b = browse(PHONE, client=True)
    page = b.page
    start(b, invite(), "errors")
    b.arrived("errors: question satisfaction")
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("errors: question satisfaction, nothing chosen",
              screenshot="client-error-phone.png")
    assert page.title().startswith(b.text("Error:") + " ")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_text([b.text("Select an answer")])
    expect(page.locator("#satisfaction-error")).to_contain_text(b.text("Select an answer"))
    # The summary's link takes the client to the question.
    summary.locator("a").click()
    expect(page.locator("input[name=satisfaction]").first).to_be_focused()
    page.check("input[name=satisfaction][value=satisfied]")
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()

    # A page of three statements answered in part: only the missing two are named.
    b.arrived("errors: question appointments")
    page.check("input[name=number_appropriate][value=agree]")
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("errors: question appointments, two missing")
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("input[name=number_appropriate][value=agree]")).to_be_checked()
    fill_page(page, {"number_appropriate": "agree"})
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("errors: question about_the_ehp")
    assert not page.title().startswith(b.text("Error:"))
    assert page_id(page) == "about_the_ehp"


def test_save_and_come_back_later_then_the_used_link(browse, invite, contexts):
    link = invite(wave2=True)
    b = browse(PHONE, client=True)
    page = b.page
    start(b, link, "resume")
    b.arrived("resume: question workability")
    fill_page(page, WAVE2_SCORES)
    page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived("resume: question confidence")
    fill_page(page, WAVE2_SCORES)
    page.get_by_role("button", name=b.text("Save and come back later")).click()
    b.arrived("resume: answers saved")
    expect(page.locator("h1")).to_have_text(b.text("Your answers have been saved"))

    # Days later, on another device: the same link opens where the client left off.
    later = browse(PHONE, client=True)
    later.goto(link, "resume: link opened again")
    assert page_id(later.page) == "importance"
    later.page.get_by_role("link", name=later.text("Back")).click()
    later.arrived("resume: back to question confidence")
    expect(later.page.locator("input[name=confidence][value='6']")).to_be_checked()
    later.page.get_by_role("button", name=later.text("Continue"), exact=True).click()
    answer_all(later, {**WAVE2_SCORES, "steps_taken": "all", "seen_work_coach": "no"}, "resume")

    # The link, now used, says so wherever it is opened.
    again = browse(PHONE, client=True)
    again.goto(link, "resume: used link")
    expect(again.page.locator("h1")).to_have_text(
        again.text("You have already answered this questionnaire"))
    assert re.search(r"/q/?$", again.page.url)
    expect(again.page.locator("form")).to_have_count(0)
