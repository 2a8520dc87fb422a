"""The comparison of arms in Chromium: the paired report page of a study with arms, at a
phone's width and a desktop's, with axe-core and the design checks, and no sideways
scrolling of the page or the arms chart."""

from __future__ import annotations

import pytest

from tests.browser.support import PHONE
from tests.reports import test_arm_pages as arms_pages
from tests.reports.test_arm_pages import PASSWORD, SLUG

# The report tests' fixtures: the study with two arms and its comparison.
people, arms_study, comparison = arms_pages.people, arms_pages.arms_study, arms_pages.comparison

pytestmark = pytest.mark.browser
DESKTOP_960 = {"width": 960, "height": 900}
DESKTOP_1280 = {"width": 1280, "height": 900}

# Each text of a chart as drawn: its CSS font size times the drawing's scale on screen.
DRAWN_FONT_SIZES = """(id) => [...document.querySelectorAll('#' + id + ' svg text')].map(
    (t) => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a])"""
# The comparison's tables that scroll sideways inside their region.
WIDE_TABLES = """() => [...document.querySelectorAll('#comparison .app-table-wrapper')]
    .filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.id)"""


def sign_in(b) -> None:
    page = b.page
    b.goto("/staff/sign-in", "staff: sign in")
    page.get_by_label(b.text("Email address"), exact=True).fill("researcher@example.org")
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    b.arrived("staff: studies")


# One picture for the README (the phone); the wider windows are checked, not pictured.
@pytest.mark.parametrize(("viewport", "shot"), [(PHONE, "arms-report-phone.png"),
                                                (DESKTOP_960, None), (DESKTOP_1280, None)])
def test_the_arms_comparison_fits_the_window_and_passes_the_checks(
    browse, comparison, viewport, shot
):
    b = browse(viewport)
    sign_in(b)
    page = b.goto(f"/reports/{SLUG}/paired?follow_up=follow", "staff: paired report, arms",
                  max_width=viewport["width"], screenshot=shot)
    for chart in ("chart-arms-binary-figure", "chart-arms-scale-figure"):
        box = page.locator(f"#{chart} svg").bounding_box()
        figure = page.locator(f"#{chart}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (chart, box)
        assert box["x"] + box["width"] <= figure["x"] + figure["width"] + 0.5, (chart, box)
        # Every label inside the drawing, none cut off at its edges.
        overflow = page.evaluate(
            """(id) => { const svg = document.querySelector('#' + id + ' svg');
                const frame = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].filter((t) => {
                  const r = t.getBoundingClientRect();
                  return r.left < frame.left - 0.5 || r.right > frame.right + 0.5; })
                  .map((t) => t.textContent); }""", chart)
        assert not overflow, (chart, overflow)
        # Readable text: 12px or more as drawn on a phone, not outsized on a desktop (the
        # page's body text is 16px to 19px).
        sizes = page.evaluate(DRAWN_FONT_SIZES, chart)
        assert sizes, chart
        for text, size in sizes:
            assert 12 <= size <= 22, (chart, text, size, viewport)
    # From 960px the comparison's tables fit the column: nothing to scroll sideways. On a
    # phone the wider ones scroll inside their labelled region (axe checks the region).
    if viewport["width"] >= 960:
        assert page.evaluate(WIDE_TABLES) == []
    regions = page.locator("#comparison .app-table-wrapper")
    for i in range(regions.count()):
        region = regions.nth(i)
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
        assert region.get_attribute("aria-label"), region.get_attribute("id")
