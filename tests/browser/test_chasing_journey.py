"""A researcher in Chromium chases a wave: opens its list of questionnaires not yet
answered, downloads the call list, pauses the wave and resumes it; axe runs on every page,
best-practice rules included."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from tests.browser.support import CLIENT_AXE_TAGS, DESKTOP, load_cohort

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
RESEARCHER = "researcher@example.org"
WAVE = "End of the intervention"


def arrived(b, label: str) -> None:
    b.arrived(label)
    results = b.axe.run(b.page, options={
        "runOnly": {"type": "tag", "values": CLIENT_AXE_TAGS},
        "resultTypes": ["violations"]}).response
    assert [v["id"] for v in results["violations"]] == [], label


def test_researcher_chases_a_wave_downloads_the_call_list_pauses_and_resumes(
    browse, session_factory, settings, mailer, clock
):
    with session_factory() as session:
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
    today = clock().date()
    load_cohort(session_factory, *[(f"C-{n:02}", today, "en", f"c{n}@example.org", (5, 5, 5))
                                   for n in range(1, 8)])
    dispatch(session_factory, clock(), settings, mailer)

    b = browse(DESKTOP)
    page = b.page
    page.goto(b.base_url + "/staff/sign-in")
    page.get_by_label(b.text("Email address"), exact=True).fill(RESEARCHER)
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    arrived(b, "staff: studies, with each wave's progress")
    page.get_by_text(b.text("Show the numbers for %(wave)s as a table", wave=WAVE)).click()
    expect(page.locator("#progress-default-wave1-table tbody td").first).to_have_text("7")

    page.get_by_role("link", name=re.compile(re.escape(
        "7 questionnaires of " + WAVE + " not yet answered"))).click()
    arrived(b, "staff: not yet answered")
    expect(page.locator("#showing")).to_have_text(b.text(
        "Showing %(first)s to %(last)s of %(total)s questionnaires not yet answered",
        first="1", last="7", total="7"))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^" + re.escape(
            b.text("Download a call list (CSV: reference, phone, email, days left, "
                   "reminders sent)")))).click()
    rows = list(csv.DictReader(io.StringIO(
        Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [r["participant_ref"] for r in rows] == [f"C-{n:02}" for n in range(1, 8)]
    assert rows[0]["email"] == "c1@example.org" and rows[0]["days_left"] == "28"

    page.get_by_role("button", name=b.text("Pause issuing %(wave)s", wave=WAVE)).click()
    arrived(b, "staff: not yet answered, wave paused")
    expect(page.locator("#paused-wave1")).to_contain_text("Paused since 2 March 2026")
    page.get_by_role("button", name=b.text("Resume issuing %(wave)s", wave=WAVE)).click()
    arrived(b, "staff: not yet answered, wave resumed")
    expect(page.locator("#paused-wave1")).to_have_count(0)
    expect(page.get_by_role("button", name=b.text("Pause issuing %(wave)s", wave=WAVE))) \
        .to_be_visible()
