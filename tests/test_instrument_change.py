"""Done means: a researcher adds a question to wave two by editing one instrument file, and
the English form, the Welsh form, the response import and the CSV export all show it,
with no Python change. Responses begun on the earlier version keep it.

The edit is made on a copy of instruments/definitions, and the app is pointed at the
copy with SURVEYS_INSTRUMENTS_DIR, as a deployment with its own definitions would be.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from instruments import load_instrument, text
from instruments.loader import DEFINITIONS_DIR
from scheduler.jobs import dispatch
from tests.helpers import participants_csv, person, token_from
from tests.i18n.walk import (
    fields,
    open_and_start,
    page_text,
    post_page,
    send_answers,
    stored_response,
    walk,
)

NEW_PAGE = """\
  - id: hours_wanted
    questions:
      - id: hours_wanted
        type: single_choice
        text:
          en: How many hours a week would you like to work?
          cy: Sawl awr yr wythnos yr hoffech chi weithio?
        choices:
          - value: under_16
            label: {en: Fewer than 16 hours, cy: Llai nag 16 awr}
          - value: from_16_to_30
            label: {en: 16 to 30 hours, cy: Rhwng 16 a 30 awr}
          - value: over_30
            label: {en: More than 30 hours, cy: Mwy na 30 awr}

"""
ANSWERS = {
    "workability": "6", "confidence": "6", "importance": "8", "steps_taken": "all",
    "steps_helped": "unsure", "seen_work_coach": "no", "hours_wanted": "from_16_to_30",
}


def definitions_copy(root: Path) -> Path:
    shutil.copytree(DEFINITIONS_DIR, root)
    return root


def add_question_to_wave_two(definitions: Path) -> str:
    """What the researcher does: keep the current file as its version, then edit wave2.yaml."""
    current = definitions / "wave2.yaml"
    source = current.read_text(encoding="utf-8")
    old_version = load_instrument("wave2").version
    (definitions / "wave2").mkdir(exist_ok=True)
    shutil.copy(current, definitions / "wave2" / f"{old_version}.yaml")
    edited = source.replace(f'version: "{old_version}"', 'version: "2099.1"', 1)
    edited = edited.replace("  - id: comments\n", NEW_PAGE + "  - id: comments\n", 1)
    assert edited.count("hours_wanted") == 2 and "2099.1" in edited
    current.write_text(edited, encoding="utf-8")
    return old_version


@pytest.fixture
def clients(runner, session_factory, settings, mailer, smtp, clock, tmp_path):
    """Three clients with wave two open: two answer in English, one in Welsh."""
    path = tmp_path / "participants.csv"
    path.write_text(participants_csv(
        person("OLD-1", clock().date(), email="old@example.org"),
        person("EN-1", clock().date(), email="en@example.org"),
        person("CY-1", clock().date(), email="cy@example.org", language="cy"),
    ))
    assert runner.invoke(args=["import-cohort", "--participants", str(path)]).exit_code == 0
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)
    return {ref: token_from(smtp.to(address)[-1])
            for ref, address in (("OLD-1", "old@example.org"), ("EN-1", "en@example.org"),
                                 ("CY-1", "cy@example.org"))}


def test_a_question_added_in_one_file_reaches_both_forms_the_import_and_the_export(
    app, runner, clients, session_factory, monkeypatch, tmp_path
):
    # Before the change: a client starts wave two and leaves after the first page.
    monkeypatch.setenv("SURVEYS_INSTRUMENTS_DIR", str(definitions_copy(tmp_path / "before")))
    early = app.test_client()
    _, first = open_and_start(early, clients["OLD-1"])
    assert post_page(early, first, {"workability": "5"}, button="save_and_exit").status_code == 302

    # The change: one instrument file edited (its earlier version kept beside it).
    after = definitions_copy(tmp_path / "after")
    old_version = add_question_to_wave_two(after)
    monkeypatch.setenv("SURVEYS_INSTRUMENTS_DIR", str(after))
    wave2 = load_instrument("wave2")
    assert wave2.version == "2099.1" and wave2.question("hours_wanted").type == "single_choice"
    assert load_instrument("wave2", old_version).version == old_version

    # The English form asks it, between the last routed question and the comments.
    english = app.test_client()
    _, first = open_and_start(english, clients["EN-1"])
    pages = walk(english, first, ANSWERS, stop_before="hours_wanted")
    refused = page_text(post_page(english, "/q/hours_wanted", {}))
    assert "Select an answer" in refused  # required, like every question unless it says not
    pages += walk(english, "/q/hours_wanted", ANSWERS)
    asked = next(p for p in pages if p.id == "hours_wanted")
    assert "How many hours a week would you like to work?" in asked.text
    assert fields(asked.html) == {"hours_wanted"}
    for label in ("Fewer than 16 hours", "16 to 30 hours", "More than 30 hours"):
        assert label in asked.text
    assert [p.id for p in pages][-2:] == ["hours_wanted", "comments"]
    check = page_text(english.get("/q/check"))
    assert "How many hours a week would you like to work?" in check and "16 to 30 hours" in check
    assert send_answers(english).headers["Location"].endswith("/q/done")

    # The Welsh form asks it in Welsh.
    welsh = app.test_client()
    _, first = open_and_start(welsh, clients["CY-1"])
    pages = walk(welsh, first, {**ANSWERS, "hours_wanted": "over_30"})
    asked = next(p for p in pages if p.id == "hours_wanted")
    assert text(wave2.question("hours_wanted").text, "cy") in asked.text
    for label in ("Llai nag 16 awr", "Rhwng 16 a 30 awr", "Mwy na 30 awr"):
        assert label in asked.text
    assert "How many hours" not in asked.text and "Parhau" in asked.text
    assert send_answers(welsh).headers["Location"].endswith("/q/done")

    # The client who began before the change finishes the version they began.
    landed = early.get(f"/r/{clients['OLD-1']}", follow_redirects=True)
    assert landed.request.path == "/q/confidence"
    old_pages = walk(early, "/q/confidence", ANSWERS)
    assert "hours_wanted" not in [p.id for p in old_pages]
    assert send_answers(early).headers["Location"].endswith("/q/done")

    stored = {ref: stored_response(session_factory, ref, "wave2")
              for ref in ("OLD-1", "EN-1", "CY-1")}
    assert stored["EN-1"].answers["hours_wanted"] == "from_16_to_30"
    assert stored["CY-1"].answers["hours_wanted"] == "over_30"
    assert stored["EN-1"].instrument_version == "2099.1"
    assert stored["OLD-1"].instrument_version == old_version
    assert "hours_wanted" not in stored["OLD-1"].answers

    # The response import takes the new column, and checks it like any other.
    imported = tmp_path / "responses.csv"
    imported.write_text("participant_ref,submitted_on,mode,workability,hours_wanted\n"
                        "PAPER-1,2026-04-13,telephone,4,UNDER_16\n")
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(imported)])
    assert result.exit_code == 0, result.output
    imported.write_text("participant_ref,submitted_on,mode,hours_wanted\n"
                        "PAPER-2,2026-04-13,telephone,forty\n")
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(imported)])
    assert result.exit_code == 1
    assert "line 2, column 'hours_wanted': 'forty': Select one of the answers shown" in (
        result.stderr)

    # The CSV export has a column for it, after the questions before it in the file.
    exported = runner.invoke(args=["export-responses", "--wave", "wave2"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    header = list(rows[0])
    assert header[4:] == [q.id for q in wave2.questions()]
    assert header.index("hours_wanted") == header.index("comments") - 1
    by_ref = {row["participant_ref"]: row for row in rows}
    assert by_ref["EN-1"]["hours_wanted"] == "from_16_to_30"
    assert by_ref["CY-1"]["hours_wanted"] == "over_30"
    assert by_ref["PAPER-1"]["hours_wanted"] == "under_16"
    assert (by_ref["OLD-1"]["hours_wanted"], by_ref["OLD-1"]["instrument_version"]) == (
        "", old_version)
    assert by_ref["EN-1"]["instrument_version"] == "2099.1"
