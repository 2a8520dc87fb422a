"""A report whose data has not changed is not recomputed (5 of issue 16): the evaluation
and paired reports, in every format, come from one build and one rendering per data
version, and any write a report reads (responses, participants, an import, a study edit)
makes the next request build again. Builds are counted, not timed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.cohort.importer import import_cohort
from surveys.models import Study
from surveys.responses.importer import import_responses
from surveys.studies import resolve_study, wave_by_code
from tests.helpers import participants_csv
from tests.security.conftest import PEOPLE, World, act_as, build_world

EVALUATION = ("/api/studies/default/reports/evaluation?follow_up=wave2",
              "/reports/default/evaluation?follow_up=wave2",
              "/reports/default/evaluation.csv?follow_up=wave2",
              "/reports/default/evaluation.xlsx?follow_up=wave2",
              "/reports/default/evaluation.ods?follow_up=wave2")
PAIRED = ("/api/studies/default/reports/paired?follow_up=wave2",
          "/reports/default/paired?follow_up=wave2",
          "/reports/default/paired.csv?follow_up=wave2")


@pytest.fixture
def world(app, session_factory, settings, mailer, smtp, clock) -> World:
    return build_world(session_factory, settings, mailer, clock)


@pytest.fixture
def counted(app, monkeypatch):
    """Counts of report computations and spreadsheet renderings in this process."""
    from surveys.reports import export, export_ods

    calls = {"paired": 0, "xlsx": 0, "ods": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    # The web views import these by name when they run, so the patched ones are used.
    monkeypatch.setattr(export, "render_xlsx", counting("xlsx", export.render_xlsx))
    monkeypatch.setattr(export_ods, "render_ods", counting("ods", export_ods.render_ods))
    import surveys.web.reports as views

    monkeypatch.setattr(views, "paired_report", counting("paired", views.paired_report))

    def builds() -> dict:
        cache = app.extensions.get("surveys.report_cache")
        return {"builds": cache.builds if cache else 0, **calls}
    return builds


def fetch_all(browser, paths) -> list[bytes]:
    out = []
    for path in paths:
        answer = browser.get(path)
        assert answer.status_code == 200, path
        out.append(answer.get_data())
    return out


def test_every_format_of_both_reports_comes_from_one_build_per_data_version(
    app, session_factory, world, counted, clock
):
    staff = app.test_client()
    act_as(staff, session_factory, "researcher")
    first = fetch_all(staff, EVALUATION + PAIRED)
    # One evaluation build, one paired build, one rendering of each spreadsheet.
    assert counted() == {"builds": 2, "paired": 1, "xlsx": 1, "ods": 1}
    again = fetch_all(staff, EVALUATION + PAIRED)
    assert counted() == {"builds": 2, "paired": 1, "xlsx": 1, "ods": 1}
    assert again[0] == first[0] and again[-1] == first[-1]  # JSON and CSV: the same bytes

    today = clock().date()
    with session_factory() as s:  # a telephone answer imported (unlinked): responses changed
        study = resolve_study(s, "default")
        import_responses(s, study, wave_by_code(study, "wave2"),
                         "participant_ref,submitted_on,mode,workability,confidence,"
                         f"importance\nZQREF-OTHER8,{today},telephone,9,9,9\n", today=today)
        s.commit()
    fetch_all(staff, EVALUATION + PAIRED)
    assert counted() == {"builds": 4, "paired": 2, "xlsx": 2, "ods": 2}


@pytest.mark.parametrize("change", ["participant", "study"])
def test_a_change_that_moves_no_count_still_rebuilds_both_reports(
    app, session_factory, world, counted, clock, change
):
    staff = app.test_client()
    act_as(staff, session_factory, "researcher")
    before = fetch_all(staff, (EVALUATION[0], PAIRED[0], EVALUATION[3]))
    assert counted() == {"builds": 2, "paired": 1, "xlsx": 1, "ods": 0}
    with session_factory() as s:
        if change == "participant":  # a re-imported stored score (same number of clients)
            ref, email, phone, _ = PEOPLE[0]
            import_cohort(s, resolve_study(s, "default"), participants_csv(
                (ref, "Hull", clock().date().isoformat(), "en", email, phone, 10, 10, 10)))
        else:  # a study edit
            s.scalar(select(Study).where(Study.slug == "default")).name = "Renamed study"
        s.commit()
    after = fetch_all(staff, (EVALUATION[0], PAIRED[0], EVALUATION[3]))
    assert counted() == {"builds": 4, "paired": 2, "xlsx": 2, "ods": 0}
    assert after[0] != before[0]
    if change == "participant":
        assert after[1] != before[1]  # the paired figures moved with the stored score


def test_the_command_line_reuses_a_report_until_the_data_changes(
    app, runner, session_factory, world, monkeypatch
):
    from surveys.reports import evaluation, paired_change

    calls = {"evaluation": 0, "paired": 0}

    def counting(module, name, attr):
        real = getattr(module, attr)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(module, attr, wrapper)

    counting(evaluation, "evaluation", "evaluation_report")  # imported when the command runs
    counting(paired_change, "paired", "paired_report")

    def run(*args: str) -> str:
        done = runner.invoke(args=["report", *args, "--study", "default"])
        assert done.exit_code == 0, done.output
        return done.stdout

    first = [run("evaluation", "--format", "json"), run("paired")]
    assert [run("evaluation", "--format", "json"), run("paired")] == first
    assert calls == {"evaluation": 1, "paired": 1}
    run("evaluation", "--format", "json", "--breakdown", "site")  # other options: its own
    assert calls == {"evaluation": 2, "paired": 1}
    with session_factory() as s:
        s.scalar(select(Study).where(Study.slug == "default")).name = "Renamed study"
        s.commit()
    assert run("evaluation", "--format", "json") != first[0]
    run("paired")
    assert calls == {"evaluation": 3, "paired": 2}
