"""A researcher defines a study in Chromium: creates it on the pages (an instrument file
uploaded per wave), sees it listed, previews its instrument and opens it to edit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveys.accounts import create_user
from tests.browser.support import DESKTOP
from tests.browser.test_staff_journeys import PASSWORD, RESEARCHER, nav, sign_in
from tests.test_study_pages import INSTRUMENT

pytestmark = pytest.mark.browser


def test_researcher_creates_a_study_on_the_pages_and_sees_it_listed(
    browse, session_factory, tmp_path
):
    with session_factory() as session:
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
    instrument = tmp_path / "pilot.yaml"
    instrument.write_text(INSTRUMENT, encoding="utf-8")
    b = browse(DESKTOP)
    page = b.page
    sign_in(b, RESEARCHER)
    b.arrived("staff: studies, none yet")

    nav(b, "Create a study", "staff: create a study")
    page.locator('[name="name"]').fill("Pilot evaluation")
    page.locator('[name="slug"]').fill("pilot")
    page.get_by_label(b.text("Welsh"), exact=True).uncheck()
    page.locator('[name="programme_en"]').fill("Pilot support")
    for i, (key, kind, better, baseline) in enumerate([
            ("concerned_job", "binary", "no", "yes"), ("workability", "scale", "higher", "yes"),
            ("confidence", "scale", "", "no")]):
        page.locator(f'[name="measures-{i}-id"]').fill(key)
        page.locator(f'[name="measures-{i}-kind"]').select_option(kind)
        page.locator(f'[name="measures-{i}-better"]').select_option(better)
        page.locator(f'[name="measures-{i}-baseline"]').select_option(baseline)
    # Two waves at first: the third is added on the edit page.
    for i, (code, offset) in enumerate([("w1", "0"), ("w2", "30")]):
        page.locator(f'[name="waves-{i}-code"]').fill(code)
        page.locator(f'[name="waves-{i}-instrument_file"]').set_input_files(instrument)
        page.locator(f'[name="waves-{i}-offset_days"]').fill(offset)
        page.locator(f'[name="waves-{i}-reminder_days"]').fill("7")
    page.get_by_role("button", name=b.text("Create study")).click()
    b.arrived("staff: study created")
    expect(page.locator("h1")).to_have_text("Pilot evaluation")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "instrument pilot_followup version 1 kept")

    nav(b, "Preview pilot_followup version 1", "staff: instrument preview")
    expect(page.locator("main")).to_contain_text("Are you concerned about losing your job?")
    nav(b, "Back to the study", "staff: the study again")
    page.get_by_role("button", name=b.text("Edit the study")).click()
    b.arrived("staff: edit the study")
    page.locator('[name="waves-2-code"]').fill("w3")
    page.locator('[name="waves-2-instrument"]').select_option("pilot_followup")
    page.locator('[name="waves-2-offset_days"]').fill("90")
    page.locator('[name="waves-2-reminder_days"]').fill("3, 100")
    page.get_by_role("button", name=b.text("Save study")).click()
    b.arrived("staff: edit refused")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "wave w3.reminder_days: a reminder must come before the wave closes")
    page.locator('[name="waves-2-reminder_days"]').fill("3, 10")
    page.get_by_role("button", name=b.text("Save study")).click()
    b.arrived("staff: study saved")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("wave w3: added")

    nav(b, "Studies", "staff: studies with the new one")
    expect(page.locator("main h2").filter(has_text="Pilot evaluation")).to_have_count(1)
