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


# (ref, concerned_job_end, workability_end) and the w1 answers (concerned_job, workability)
PEOPLE = [("P-01", "yes", 3, "no", 6), ("P-02", "yes", 4, "no", 5), ("P-03", "yes", 2, "yes", 2),
          ("P-04", "no", 6, "no", 7), ("P-05", "yes", 5, "no", 8), ("P-06", "no", 7, "yes", 4),
          ("P-07", "yes", 3, "yes", 3), ("P-08", "yes", 1, "no", 4), ("P-09", "no", 5, "no", 5),
          ("P-10", "yes", 8, "no", 9), ("P-11", "yes", 2, "no", 6), ("P-12", "no", 4, "no", 3)]


def test_researcher_defines_loads_and_reads_a_new_studys_report_on_the_pages(
    browse, session_factory, tmp_path
):
    """Issue 12's 'done means' on the web: a study defined on the pages, its cohort and
    answers uploaded there, and a paired report whose numbers agree with SciPy."""
    from scipy import stats

    with session_factory() as session:
        create_user(session, RESEARCHER, PASSWORD, "researcher")
        session.commit()
    instrument = tmp_path / "pilot.yaml"
    instrument.write_text(INSTRUMENT, encoding="utf-8")
    cohort = tmp_path / "participants.csv"
    cohort.write_text("participant_ref,site,completed_on,concerned_job_end,workability_end\n" +
                      "".join(f"{r},Leeds,2026-01-05,{c},{w}\n" for r, c, w, _, _ in PEOPLE))
    answers = tmp_path / "w1.csv"
    answers.write_text("participant_ref,submitted_on,mode,concerned_job,workability\n" +
                       "".join(f"{r},2026-02-01,telephone,{c},{w}\n"
                               for r, _, _, c, w in PEOPLE))
    b = browse(DESKTOP)
    page = b.page
    sign_in(b, RESEARCHER)
    nav(b, "Create a study", "staff: create a study")
    page.locator('[name="name"]').fill("Pilot evaluation")
    page.locator('[name="slug"]').fill("pilot")
    page.get_by_label(b.text("Welsh"), exact=True).uncheck()
    page.locator('[name="programme_en"]').fill("Pilot support")
    for i, (key, kind, better) in enumerate([("concerned_job", "binary", "no"),
                                             ("workability", "scale", "higher")]):
        page.locator(f'[name="measures-{i}-id"]').fill(key)
        page.locator(f'[name="measures-{i}-kind"]').select_option(kind)
        page.locator(f'[name="measures-{i}-better"]').select_option(better)
    page.locator('[name="measures-0-label_en"]').fill("Concerned about losing their job")
    page.locator('[name="waves-0-code"]').fill("w1")
    page.locator('[name="waves-0-instrument_file"]').set_input_files(instrument)
    page.locator('[name="waves-0-offset_days"]').fill("0")
    page.get_by_role("button", name=b.text("Create study")).click()
    b.arrived("staff: study created")

    nav(b, "Cohort: participants and upload", "staff: the new study's cohort")
    page.locator('[name="participants"]').set_input_files(cohort)
    page.locator("main [type=submit]").click()
    b.arrived("staff: cohort uploaded")
    expect(page.locator("main")).to_contain_text("12 participants")
    # The participants table (the page also lists the file's columns in a table).
    expect(page.locator("main table:not(#cohort-columns)").last).to_contain_text(
        "Concerned about losing their job")

    page.goto(f"{b.base_url}/staff/studies/pilot/responses")
    b.arrived("staff: upload answers")
    page.locator('[name="responses"]').set_input_files(answers)
    page.locator("main [type=submit]").click()
    b.arrived("staff: answers uploaded")

    page.goto(f"{b.base_url}/reports/pilot/paired?follow_up=w1")
    b.arrived("reports: the new study's paired change")
    main = page.locator("main")
    expect(main).to_contain_text("Concerned about losing their job")
    expect(main).to_contain_text("McNemar")

    improved = sum(1 for _, c, _, a, _ in PEOPLE if c == "yes" and a == "no")
    worse = sum(1 for _, c, _, a, _ in PEOPLE if c == "no" and a == "yes")
    report = page.request.get(f"{b.base_url}/api/studies/pilot/reports/paired?follow_up=w1")
    assert report.ok
    measures = report.json()["measures"]
    assert (measures["concerned_job"]["improved"], measures["concerned_job"]["deteriorated"]) \
        == (improved, worse)
    assert measures["concerned_job"]["mcnemar"]["p"] == pytest.approx(
        stats.binomtest(improved, improved + worse, 0.5).pvalue)
    changes = [w2 - w1 for _, _, w1, _, w2 in PEOPLE]
    assert measures["workability"]["mean_change"] == pytest.approx(sum(changes) / len(changes))
    csv_text = page.request.get(f"{b.base_url}/reports/pilot/paired.csv?follow_up=w1").text()
    assert [line.split(",")[3] for line in csv_text.splitlines()[1:]] == [
        "concerned_job", "workability"]
