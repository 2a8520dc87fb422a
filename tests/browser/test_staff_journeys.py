"""Staff in Chromium: sign in, upload a cohort, change the schedule, enter a telephone
response, read the paired-change report and download it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from surveys.studies import create_study, resolve_study
from surveys.studies.waves import study_wave_name
from tests.browser.support import DESKTOP, answer_all, cohort_csv, load_cohort

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password-2024"
RESEARCHER = "researcher@example.org"


@pytest.fixture
def researcher(session_factory) -> str:
    with session_factory() as session:
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
    return RESEARCHER


def sign_in(b, email: str, password: str = PASSWORD) -> None:
    page = b.page
    b.goto("/staff/sign-in", "staff: sign in")
    page.get_by_label(b.text("Email address"), exact=True).fill(email)
    page.get_by_label(b.text("Password"), exact=True).fill(password)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()


def nav(b, name: str, label: str, **checks) -> None:
    """Follow a link whose accessible name starts with `name` (some add hidden context)."""
    b.page.get_by_role("link", name=re.compile("^" + re.escape(b.text(name)))).first.click()
    b.arrived(label, **checks)


def wave2_name(session_factory, language: str) -> str:
    """Staff pages name waves, not codes: the study's name for wave2 in the page's language."""
    with session_factory() as session:
        return study_wave_name(resolve_study(session, "ehd"), "wave2", language)


def test_researcher_signs_in_uploads_a_cohort_and_changes_the_schedule(
    browse, researcher, session_factory, clock, tmp_path
):
    with session_factory() as session:
        create_study(session, "ehd", "EHD evaluation")
        session.commit()
    b = browse(DESKTOP)
    page = b.page

    sign_in(b, researcher, "not the password")
    b.arrived("staff: sign in, wrong password")
    assert page.title().startswith(b.text("Error:") + " ")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.get_by_label(b.text("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=b.text("Sign in"), exact=True).click()
    b.arrived("staff: studies")
    expect(page.locator("h1")).to_have_text(b.text("Studies"))

    nav(b, "Cohort: participants and upload", "staff: cohort")
    upload = page.get_by_label(b.text("Participants file (participants.csv)"))
    completed = clock().date()
    bad = tmp_path / "participants.csv"
    bad.write_text(cohort_csv(("B-1", completed, "en", "", (5, 5, 5)))
                   .replace("Cardiff", ""))
    upload.set_input_files(bad)
    page.get_by_role("button", name=b.text("Upload cohort")).click()
    b.arrived("staff: cohort, file rejected")
    expect(page.locator(".govuk-error-summary")).to_contain_text("site")
    good = tmp_path / "cohort.csv"
    good.write_text(cohort_csv(
        ("B-1", completed, "en", "b1@example.org", (5, 5, 5)),
        ("B-2", completed, "cy", "", (3, 4, 8)),
        ("B-3", completed, "en", "", (7, 6, 6)),
    ))
    page.get_by_label(b.text("Participants file (participants.csv)")).set_input_files(good)
    page.get_by_role("button", name=b.text("Upload cohort")).click()
    b.arrived("staff: cohort uploaded")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("3")
    # The participants (the page also lists the file's columns in a table of its own).
    expect(page.locator("main table:not(#cohort-columns) tbody tr")).to_have_count(3)

    nav(b, "Studies", "staff: studies again")
    nav(b, "Schedule of waves", "staff: schedule")
    offset = page.locator("#wave2-offset_days")
    expect(offset).to_have_value("42")
    offset.fill("six weeks")
    save_wave2 = b.text("Save schedule for %(wave)s", wave=wave2_name(session_factory, b.lang))
    page.get_by_role("button", name=save_wave2).click()
    b.arrived("staff: schedule, not a number")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.locator("#wave2-offset_days").fill("35")
    page.get_by_role("button", name=save_wave2).click()
    b.arrived("staff: schedule saved")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("3")
    expect(page.locator("#wave2-offset_days")).to_have_value("35")

    nav(b, "Studies", "staff: studies after the schedule change")
    nav(b, "Questionnaires issued and telephone entry", "staff: questionnaires")
    due = format_date(completed + timedelta(days=35), "medium", locale="en_GB")
    # Waves by name on staff pages, not by code.
    wave2 = wave2_name(session_factory, b.lang)
    expect(page.locator("main tbody tr").filter(has_text=wave2)).to_have_count(3)
    for row in page.locator("main tbody tr").filter(has_text=wave2).all():
        expect(row).to_contain_text(due)


def test_researcher_enters_a_telephone_response_and_reads_the_report(
    browse, researcher, session_factory, settings, mailer, clock, tmp_path
):
    completed = clock().date()
    people = [(f"T-{n}", completed, "en", "", scores) for n, scores in enumerate(
        [(4, 5, 9), (6, 6, 6), (3, 2, 8), (5, 7, 7), (2, 3, 9)], start=1)]
    load_cohort(session_factory, *people)
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=42)
    assert dispatch(session_factory, clock(), settings, mailer).issued == 5

    b = browse(DESKTOP)
    page = b.page
    sign_in(b, researcher)
    b.arrived("staff: studies")

    # Answers collected on paper for four clients, uploaded as a CSV.
    nav(b, "Upload responses collected elsewhere", "staff: upload responses")
    responses = tmp_path / "responses.csv"
    rows = [("T-1", 7, 6, 8), ("T-2", 6, 7, 6), ("T-3", 5, 2, 8), ("T-4", 7, 8, 7)]
    responses.write_text("participant_ref,submitted_on,mode,workability,confidence,importance\n"
                         + "".join(f"{ref},{clock().date().isoformat()},telephone,{w},{c},{i}\n"
                                   for ref, w, c, i in rows))
    page.get_by_label(b.text("Wave"), exact=True).select_option("wave2")
    page.get_by_label(b.text("Responses file (CSV)")).set_input_files(responses)
    page.get_by_role("button", name=b.text("Upload responses")).click()
    b.arrived("staff: responses uploaded")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("4")

    # The fifth client answers on the telephone; the researcher types their answers in.
    nav(b, "Studies", "staff: studies again")
    nav(b, "Questionnaires issued and telephone entry", "staff: questionnaires")
    page.get_by_label(b.text("Wave"), exact=True).select_option("wave2")
    page.get_by_label(b.text("Status"), exact=True).select_option("issued")
    page.get_by_role("button", name=b.text("Filter")).click()
    b.arrived("staff: open wave2 questionnaires")
    expect(page.locator("main tbody tr")).to_have_count(1)
    page.get_by_role("button", name=re.compile(
        "^" + re.escape(b.text("Enter answers by telephone")) + ".*T-5")).click()
    b.arrived("telephone: start page")
    page.get_by_role("button", name=b.text("Start now")).click()
    # Whose answers these are, in a banner on every page (issue 14).
    expect(page.locator("#on-behalf")).to_contain_text(
        b.text("You are entering answers on behalf of a client, by telephone."))
    expect(page.locator("#on-behalf")).to_contain_text("T-5")
    answer_all(b, {"workability": "5", "confidence": "5", "importance": "9",
                   "steps_taken": "some", "steps_reasons": ["health"],
                   "more_steps_planned": "all", "seen_work_coach": "no"}, "telephone")
    expect(page.locator("main")).to_contain_text(
        b.text("The answers were stored as a telephone response entered by you."))

    nav(b, "Back to your studies", "staff: studies after the telephone entry")
    nav(b, "Reports", "staff: reports")
    nav(b, "Paired-change report", "staff: paired-change report",
        screenshot="report-desktop.png")
    table = page.locator("main table").first
    work = table.locator("tbody tr").first
    expect(work.locator("td").first).to_have_text("5")  # five pairs

    with page.expect_download() as download:
        page.get_by_role("link", name=b.text("Paired-change report as CSV"), exact=True).click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    data = list(csv.DictReader(io.StringIO(text)))
    work = next(row for row in data if row["measure"] == "workability")
    assert (work["follow_up"], work["responses"], work["linked"], work["n"]) == (
        "wave2", "5", "5", "5")
    # Changes 7-4, 6-6, 5-3, 7-5 and 5-2: four higher, one the same.
    assert (work["improved"], work["same"], work["deteriorated"]) == ("4", "1", "0")
