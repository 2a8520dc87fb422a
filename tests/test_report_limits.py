"""Reports never starve client pages (9 of issue 11): a bounded number of report builds
at once, answered 503 beyond it, and a report reused while its data has not changed."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from sqlalchemy import select

from surveys import create_app
from surveys.cohort.importer import import_cohort
from surveys.models import Study
from surveys.privacy import erase_participant
from surveys.studies import resolve_study
from tests.helpers import WAVE1_ANSWERS, participants_csv
from tests.security.conftest import PEOPLE, World, act_as, build_world
from tests.test_core_loop import answer_everything

REPORT = "/api/studies/default/reports/evaluation?follow_up=wave2"


@pytest.fixture
def world(app, session_factory, settings, mailer, smtp, clock) -> World:
    """Three clients (two answered wave 2 by telephone), a user per role, live links."""
    return build_world(session_factory, settings, mailer, clock)


def builds(app) -> int:
    cache = app.extensions.get("surveys.report_cache")
    return cache.builds if cache else 0


def researcher(app, session_factory):
    browser = app.test_client()
    act_as(browser, session_factory, "researcher")
    return browser


def test_a_repeated_report_is_built_once_and_a_web_submission_changes_the_next(
    app, session_factory, world
):
    staff = researcher(app, session_factory)
    first = staff.get(REPORT)
    assert first.status_code == 200 and builds(app) == 1
    for path in (REPORT, "/reports/default/evaluation.csv?follow_up=wave2",
                 "/reports/default/evaluation?follow_up=wave2"):
        assert staff.get(path).status_code == 200
    assert builds(app) == 1  # the same data: every format served from one build
    assert staff.get(REPORT).get_json() == first.get_json()

    # A client answers wave one through their link: the next report is built again.
    answer_everything(app.test_client(), world.tokens[PEOPLE[0][0]], WAVE1_ANSWERS)
    after = staff.get(REPORT)
    assert builds(app) == 2 and after.get_json() != first.get_json()
    assert json.dumps(after.get_json()).count('"completed"') >= 1
    staff.get(REPORT)
    assert builds(app) == 2


def test_a_report_is_rebuilt_after_an_in_place_change_or_an_erasure(
    app, session_factory, world, clock
):
    staff = researcher(app, session_factory)
    by_site = REPORT + "&breakdown=site"
    assert "Leeds" not in staff.get(by_site).get_data(as_text=True)
    # Re-importing a participant with a new site changes no count, only a row.
    ref, email, phone, scores = PEOPLE[0]
    with session_factory() as s:
        import_cohort(s, resolve_study(s, "default"), participants_csv(
            (ref, "Leeds", clock().date().isoformat(), "en", email, phone, *scores)))
        s.commit()
    assert "Leeds" in staff.get(by_site).get_data(as_text=True)
    assert builds(app) == 2
    with session_factory() as s:
        erase_participant(s, s.scalar(select(Study).where(Study.slug == "default")), ref)
        s.commit()
    assert "Leeds" not in staff.get(by_site).get_data(as_text=True)
    assert builds(app) == 3


def test_each_viewer_role_has_its_own_cached_report(app, session_factory, world):
    for role in ("researcher", "evaluator", "admin"):
        browser = app.test_client()
        act_as(browser, session_factory, role)
        assert browser.get(REPORT).status_code == 200
    assert builds(app) == 3


@pytest.mark.parametrize("limit", [1, 2])
def test_beyond_the_limit_a_report_gets_503_while_client_pages_are_answered(
    settings, engine, clock, mailer, session_factory, world, monkeypatch, tmp_path, limit
):
    app = create_app({"SETTINGS": dataclasses.replace(settings, report_concurrency=limit,
                                                      instance=tmp_path),
                      "ENGINE": engine, "CLOCK": clock, "MAILER": mailer, "TESTING": True})
    from surveys.reports import evaluation

    building, release = threading.Semaphore(0), threading.Event()
    real = evaluation.evaluation_report

    def slow_report(*args, **kwargs):
        building.release()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluation_report", slow_report)
    answers: list[int] = []

    def download(breakdown: str) -> None:
        answers.append(researcher(app, session_factory).get(
            f"{REPORT}&breakdown={breakdown}").status_code)

    held = [threading.Thread(target=download, args=(b,)) for b in ("site", "channel")[:limit]]
    for thread in held:
        thread.start()
    try:
        for _ in held:
            assert building.acquire(timeout=30)  # `limit` reports are being built
        staff = researcher(app, session_factory)
        busy = staff.get(REPORT)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        body = busy.get_data(as_text=True)
        assert body.count("\n") <= 1 and "Try again in a few seconds" in busy.get_json()["error"]
        page = staff.get("/reports/default/evaluation?follow_up=wave2")
        assert page.status_code == 503 and "Reports are busy" in page.get_data(as_text=True)
        # Meanwhile a client's questionnaire is answered as usual.
        client = app.test_client()
        opened = client.get(f"/r/{world.tokens[PEOPLE[1][0]]}", follow_redirects=True)
        assert opened.status_code == 200 and "Start now" in opened.get_data(as_text=True)
        assert client.get("/q/satisfaction").status_code == 200
    finally:
        release.set()
        for thread in held:
            thread.join(60)
    assert answers == [200] * limit
    assert staff.get(REPORT).status_code == 200  # slots free again


def test_another_web_process_reuses_the_build_and_sees_the_same_changes(
    app, settings, engine, clock, mailer, session_factory, world
):
    other = create_app({"SETTINGS": settings, "ENGINE": engine, "CLOCK": clock,
                        "MAILER": mailer, "TESTING": True})  # a second gunicorn worker
    first = researcher(app, session_factory).get(REPORT).get_json()
    assert researcher(other, session_factory).get(REPORT).get_json() == first
    assert (builds(app), builds(other)) == (1, 0)  # one build for both processes
    answer_everything(app.test_client(), world.tokens[PEOPLE[0][0]], WAVE1_ANSWERS)
    assert researcher(other, session_factory).get(REPORT).get_json() != first
    assert builds(other) == 1
