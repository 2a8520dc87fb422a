"""A researcher in Chromium finds one participant among 100,000 (issue 14): the whole list
with its total and pages, a search by the beginning of a reference (any case) with its
pages, a search by the exact reference, and that participant's page; axe runs on every
page, best-practice rules included.

The 100,000 participants go in with one INSERT ... SELECT from a recursive CTE (about two
seconds), once for the module: an import through the cohort importer would take minutes.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from surveys.accounts import create_user
from surveys.db import make_engine, make_session_factory
from surveys.invitations import schedule_for
from surveys.models import Participant
from surveys.studies import create_study
from tests.browser.support import CLIENT_AXE_TAGS, DESKTOP

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
RESEARCHER = "researcher@example.org"
PARTICIPANTS = 100_000
WANTED = "P-054321"

# References P-000001 to P-100000, 13 sites, completion dates over 60 days, three scores.
BULK = """
INSERT INTO participants (study_id, ref, site, completed_on, language, status,
                          baseline_1, baseline_2, baseline_3)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
SELECT :study, printf('P-%06d', i), 'Site ' || (i % 13 + 1),
       date('2026-01-01', '+' || (i % 60) || ' days'), 'en', 'completed',
       i % 11, (i * 7) % 11, (i * 3) % 11
FROM n
"""


@pytest.fixture(scope="module")
def database_url(_template_sqlite, tmp_path_factory) -> str:
    """One study of 100,000 participants for the module (the browser tests run on SQLite);
    the one searched for has their questionnaires scheduled, for a timeline."""
    path = tmp_path_factory.mktemp("hundred-thousand") / "study.sqlite3"
    shutil.copy(_template_sqlite, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        study = create_study(session, "default", "Large study")
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
        session.execute(text(BULK), {"study": study.id, "count": PARTICIPANTS})
        schedule_for(session, study, session.scalars(
            select(Participant).where(Participant.ref == WANTED)))
        session.commit()
        assert session.scalar(text("SELECT count(*) FROM participants")) == PARTICIPANTS
    engine.dispose()
    print(f"\n{PARTICIPANTS:,} participants loaded in {time.perf_counter() - started:.1f} s")
    return url


def arrived(b, label: str) -> None:
    """The usual checks, then axe again with its best-practice rules (heading order,
    landmarks, regions), which staff pages meet as client pages do."""
    b.arrived(label)
    results = b.axe.run(b.page, options={
        "runOnly": {"type": "tag", "values": CLIENT_AXE_TAGS},
        "resultTypes": ["violations"]}).response
    assert [v["id"] for v in results["violations"]] == [], label


def test_researcher_finds_one_participant_among_100000(browse):
    b = browse(DESKTOP)
    page = b.page

    def showing(first: str, last: str, total: str):
        expect(page.locator("#showing")).to_have_text(b.text(
            "Showing %(first)s to %(last)s of %(total)s participants",
            first=first, last=last, total=total))

    def search(ref: str, label: str) -> None:
        page.get_by_label(b.text("Reference")).fill(ref)
        page.get_by_role("button", name=b.text("Search"), exact=True).click()
        arrived(b, label)

    pages = page.get_by_role("navigation", name=b.text("Pages of participants"))

    b.goto("/staff/sign-in", "staff: sign in")
    page.get_by_label(b.text("Email address"), exact=True).fill(RESEARCHER)
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    arrived(b, "staff: studies")
    page.get_by_role("link", name=re.compile("^" + re.escape(b.text("Participants")))).first \
        .click()
    arrived(b, "staff: 100,000 participants")
    showing("1", "50", "100,000")
    expect(page.locator("main tbody tr")).to_have_count(50)
    expect(pages.get_by_role("link", name=b.text("Page %(num)s", num=2000))).to_be_visible()
    pages.get_by_role("link", name=re.compile(b.text("Next"))).click()
    arrived(b, "staff: 100,000 participants, page 2")
    showing("51", "100", "100,000")

    # By the beginning of a reference, in any case: 100 of them, over two pages.
    search("p-0543", "staff: participants, search by prefix")
    showing("1", "50", "100")
    expect(page.locator("main tbody tr").first).to_contain_text("P-054300")
    pages.get_by_role("link", name=re.compile(b.text("Next"))).click()
    arrived(b, "staff: participants, search by prefix, page 2")
    showing("51", "100", "100")
    expect(page.locator("main tbody tr").last).to_contain_text("P-054399")

    # By the exact reference: that one participant.
    search(WANTED, "staff: participants, search by reference")
    showing("1", "1", "1")
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(pages).to_have_count(0)  # one page: no pagination
    page.get_by_role("link", name=WANTED, exact=True).click()
    arrived(b, "staff: participant")
    expect(page.locator("h1")).to_have_text(b.text("Participant %(ref)s", ref=WANTED))
    expect(page.locator("main")).to_contain_text(f"Site {54321 % 13 + 1}")
    expect(page.locator(".app-timeline")).to_contain_text(b.text(
        "%(wave)s questionnaire due to be issued", wave=b.text("End of the intervention")))
