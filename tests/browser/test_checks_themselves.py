"""The page checks fail on a page that breaks the rules, so a pass means something."""

from __future__ import annotations

import pytest

from tests.browser.support import DESIGN_CHECKS, Browse, Findings

pytestmark = pytest.mark.browser

BROKEN = """<!DOCTYPE html><html><head><title>Broken</title></head><body>
<a href="/elsewhere">A link before the skip link</a>
<main id="main-content"><form><input type="text" id="name" name="name">
<div class="govuk-hint" id="name-hint"></div></form>
<h1>The heading comes after the field</h1><h1>and there are two</h1>
<p style="color:#ccc;background:#fff">Pale text</p></main></body></html>"""


def test_the_checks_fail_a_page_that_breaks_the_rules(browser, axe):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(BROKEN)
        b = Browse(page, "http://127.0.0.1", axe, Findings(), "self-test", client=False)
        with pytest.raises(AssertionError) as failed:
            b._axe("the broken page")
        for rule in ("html-has-lang", "label", "color-contrast"):
            assert rule in str(failed.value)
        problems = " | ".join(page.evaluate(DESIGN_CHECKS)["problems"])
        for expected in ("not the skip link", "2 h1 elements", "comes before the h1",
                         "has 0 labels", "empty hint", "no language toggle"):
            assert expected in problems, problems
    finally:
        context.close()
