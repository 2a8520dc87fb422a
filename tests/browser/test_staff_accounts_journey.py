"""An admin invites a colleague in Chromium; the colleague sets a password from the emailed
link and signs in. Every page passes axe-core with the best-practice rules too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from surveys.accounts import create_user
from surveys.studies import create_study
from tests.browser.support import DESKTOP

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
ADMIN = "admin@example.org"
COLLEAGUE = "new.colleague@example.org"
THEIR_PASSWORD = "violet harbour lantern quietly"


def sign_in(b, email: str, password: str, label: str) -> None:
    page = b.page
    b.goto("/staff/sign-in", label)
    page.get_by_label(b.text("Email address"), exact=True).fill(email)
    page.get_by_label(b.text("Password"), exact=True).fill(password)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()


def test_an_admin_invites_a_colleague_who_sets_a_password_and_signs_in(
        browse, session_factory, smtp, live_server):
    with session_factory() as session:
        create_user(session, ADMIN, PASSWORD, "admin")
        create_study(session, "ehd", "EHD evaluation")
        create_study(session, "pilots", "Fit for Work pilots")
        session.commit()
    # client=True: axe runs with the best-practice rules as well.
    b = browse(DESKTOP, client=True)
    page = b.page
    sign_in(b, ADMIN, PASSWORD, "admin: sign in")
    b.arrived("admin: studies")
    page.get_by_role("link", name=b.text("Staff"), exact=True).click()
    b.arrived("admin: staff accounts")
    expect(page.locator("h1")).to_have_text(b.text("Staff accounts"))
    page.get_by_role("link", name=b.text("Invite a member of staff")).click()
    b.arrived("admin: invite")
    # An existing account is refused with one line.
    page.get_by_label(b.text("Email address"), exact=True).fill(ADMIN)
    page.get_by_label(b.text("Researcher"), exact=True).check()
    page.get_by_role("button", name=b.text("Send invitation")).click()
    b.arrived("admin: invite, email taken")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"An account for {ADMIN} already exists.")
    page.get_by_label(b.text("Email address"), exact=True).fill(COLLEAGUE)
    page.get_by_label(b.text("Researcher"), exact=True).check()
    page.get_by_label("Fit for Work pilots", exact=True).check()
    page.get_by_role("button", name=b.text("Send invitation")).click()
    b.arrived("admin: staff accounts, invited")
    row = page.get_by_role("row").filter(has_text=COLLEAGUE)
    expect(row).to_contain_text("Fit for Work pilots")
    expect(row).to_contain_text(b.text("Invited: no password set yet"))

    [message] = smtp.to(COLLEAGUE)
    body = message.get_body(("plain",)).get_content()
    link = re.search(re.escape(live_server) + r"/staff/set-password/[A-Za-z0-9_-]+", body)
    assert link, body

    theirs = browse(DESKTOP, client=True)
    mine = theirs.page
    theirs.goto(link.group(0), "colleague: set password")
    mine.get_by_label(b.text("New password"), exact=True).fill("short")
    mine.get_by_label(b.text("Confirm the password"), exact=True).fill("short")
    mine.get_by_role("button", name=b.text("Set password")).click()
    theirs.arrived("colleague: set password, too short")
    expect(mine.locator(".govuk-error-summary")).to_contain_text("at least 12 characters")
    mine.get_by_label(b.text("New password"), exact=True).fill(THEIR_PASSWORD)
    mine.get_by_label(b.text("Confirm the password"), exact=True).fill(THEIR_PASSWORD)
    mine.get_by_role("button", name=b.text("Set password")).click()
    theirs.arrived("colleague: sign in after setting the password")
    expect(mine.locator(".govuk-notification-banner")).to_contain_text(
        b.text("Your password is set. Sign in with your email address and new password."))
    mine.get_by_label(b.text("Email address"), exact=True).fill(COLLEAGUE)
    mine.get_by_label(b.text("Password"), exact=True).fill(THEIR_PASSWORD)
    mine.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    theirs.arrived("colleague: studies")
    # They were given the pilots only.
    expect(mine.locator("main")).to_contain_text("Fit for Work pilots")
    expect(mine.locator("main")).not_to_contain_text("EHD evaluation")
    # The link works once.
    theirs.goto(link.group(0), "colleague: used link")
    expect(mine.locator("h1")).to_have_text(b.text("This link to set a password does not work"))
