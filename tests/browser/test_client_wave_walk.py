"""A client's whole follow-up wave on a phone, in English and in Welsh (issue 15, item 6).

Every page goes through `Browse.arrived`: axe-core with WCAG A/AA and best-practice rules
(client pages), and the design checks. The walk covers what routing does to progress, a
"Change" from check-answers that opens new questions, an optional question, the
instrument's own error message and the footer pages. A second test walks the same wave
at 320 px with 200% zoom (a 160-pixel CSS viewport) and never scrolls sideways.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from instruments import load_instrument, text
from instruments.loader import DEFINITIONS_DIR
from scheduler.jobs import dispatch
from surveys.i18n import translate
from tests.browser.support import PHONE, fill_page, link_from, load_cohort, page_id

pytestmark = pytest.mark.browser

EMAIL = "walker@example.org"
STEPS_ERROR = {"en": "Select whether you have taken the steps in your plan",
               "cy": "Dewiswch a ydych chi wedi cymryd y camau yn eich cynllun"}
SCORES = {"workability": "7", "confidence": "6", "importance": "8"}
# 320 CSS pixels at 200% zoom: 160 CSS pixels drawn on 320 device pixels.
ZOOMED = {"width": 160, "height": 400}


@pytest.fixture
def own_error_texts(tmp_path, monkeypatch) -> None:
    """The shipped definitions, with wave2's steps_taken carrying its own error texts."""
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, folder)
    wave2 = folder / "wave2.yaml"
    source = wave2.read_text()
    anchor = "      - id: steps_taken\n        type: single_choice\n"
    assert anchor in source
    wave2.write_text(source.replace(anchor, anchor + (
        f"        error:\n          en: {STEPS_ERROR['en']}\n          cy: {STEPS_ERROR['cy']}\n")))
    monkeypatch.setenv("SURVEYS_INSTRUMENTS_DIR", str(Path(folder)))
    assert text(load_instrument("wave2").question("steps_taken").error, "cy") == STEPS_ERROR["cy"]


@pytest.fixture
def wave_two_link(smtp, session_factory, settings, mailer, clock, own_error_texts):
    def link(language: str) -> str:
        load_cohort(session_factory, ("C-001", clock().date(), language, EMAIL, (4, 5, 9)))
        assert dispatch(session_factory, clock(), settings, mailer).sent == 1
        clock.advance(days=42)
        assert dispatch(session_factory, clock(), settings, mailer).sent == 1
        return link_from(smtp.to(EMAIL)[-1], settings.base_url)

    return link


def _continue(b, label: str, **checks) -> None:
    b.page.get_by_role("button", name=b.text("Continue"), exact=True).click()
    b.arrived(label, **checks)


def walk(b, link: str, lang: str, **checks) -> None:
    """Wave two from the emailed link to "Answers sent", checking every page on the way."""
    page = b.page
    wave2 = load_instrument("wave2")
    title = text(wave2.title, lang)
    b.goto(link, f"{lang}: start page", **checks)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.get_by_role("button", name=b.text("Start now")).click()
    b.arrived(f"{lang}: question workability", **checks)

    def progress_is_honest() -> None:
        # No "Question 4 of 6" that routing would turn into "5 of 9": the questionnaire's name.
        expect(page.locator("main .govuk-caption-l")).to_have_text(title)
        assert not re.search(r"\d+ (of|o) \d+", page.locator("main").inner_text())

    for score in SCORES:
        assert page_id(page) == score
        progress_is_honest()
        fill_page(page, SCORES)
        _continue(b, f"{lang}: after {score}", **checks)

    # The instrument's own words for a missing answer, in the page's language.
    assert page_id(page) == "steps_taken"
    _continue(b, f"{lang}: steps_taken with an error", **checks)
    expect(page.locator(".govuk-error-summary a")).to_have_text([STEPS_ERROR[lang]])
    expect(page.locator("#steps_taken-error")).to_contain_text(STEPS_ERROR[lang])
    fill_page(page, {"steps_taken": "all"})
    _continue(b, f"{lang}: steps_helped", **checks)
    progress_is_honest()

    while page_id(page) != "check":
        current = page_id(page)
        if current == "comments":
            # The one optional question says so in its heading, in the client's language.
            expect(page.locator("h1")).to_contain_text(translate("(optional)", lang))
        fill_page(page, {"seen_work_coach": "no"})
        _continue(b, f"{lang}: after {current}", **checks)
    summary = page.locator(".govuk-summary-list")
    expect(summary).not_to_contain_text(text(wave2.question("steps_reasons").text, lang))

    # Change "steps taken" to none: routing opens two questions, then back to check-answers.
    steps_row = summary.locator(".govuk-summary-list__row").filter(
        has_text=text(wave2.question("steps_taken").text, lang))
    steps_row.get_by_role("link").click()
    b.arrived(f"{lang}: change steps_taken", **checks)
    assert page_id(page) == "steps_taken"
    expect(page.get_by_role("link", name=b.text("Back"))).to_have_attribute(
        "href", re.compile(r"/q/check$"))
    fill_page(page, {"steps_taken": "none"})
    _continue(b, f"{lang}: opened steps_reasons", **checks)
    assert page_id(page) == "steps_reasons"
    fill_page(page, {"steps_reasons": ["health"]})
    _continue(b, f"{lang}: opened more_steps_planned", **checks)
    assert page_id(page) == "more_steps_planned"
    fill_page(page, {})
    _continue(b, f"{lang}: back at check answers", **checks)
    assert page_id(page) == "check"
    expect(summary).to_contain_text(text(wave2.question("steps_reasons").text, lang))
    expect(summary).not_to_contain_text(text(wave2.question("steps_helped").text, lang))

    # The footer pages, each in the client's language and naming the programme.
    for name in ("Accessibility statement", "Privacy notice", "Contact"):
        page.locator("footer").get_by_role("link", name=b.text(name), exact=True).click()
        b.arrived(f"{lang}: footer page {name}", **checks)
        expect(page.locator("h1")).to_have_text(b.text(name))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.go_back()
        b.arrived(f"{lang}: back from {name}", **checks)
    page.get_by_role("button", name=b.text("Send answers")).click()
    b.arrived(f"{lang}: answers sent", **checks)
    expect(page.locator(".govuk-panel__title")).to_have_text(b.text("Answers sent"))


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_a_client_walks_a_whole_wave_on_a_phone(browse, wave_two_link, lang):
    walk(browse(PHONE, client=True), wave_two_link(lang), lang)


def test_320_pixels_at_200_percent_zoom_never_scrolls_sideways(browse, wave_two_link):
    b = browse(ZOOMED, client=True, device_scale_factor=2)
    walk(b, wave_two_link("cy"), "cy", max_width=ZOOMED["width"])
