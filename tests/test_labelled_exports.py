"""Labelled exports (`surveys export-responses --format sav|dta`, `surveys export-pairs`):
every file is read back with pyreadstat, and once with R's haven, and every label and
value compared with what the instrument and the answers say."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date

import pyreadstat
import pytest

from instruments import load_instrument, text
from surveys.responses.labelled import (
    NOT_ANSWERED,
    NOT_ASKED,
    SAV_LABEL_BYTES,
    STATA_LABEL_CHARS,
    shorten,
    variable_name,
)
from tests.helpers import participants_csv, person

WAVE2 = load_instrument("wave2")
HEADER = ["participant_ref", "submitted_on", "mode", *(q.id for q in WAVE2.questions())]
# Three linked clients and one unlinked reference, answering wave2 by telephone:
# R-1 took all steps (steps_reasons not asked), R-2 none (steps_helped not asked) and left
# confidence blank (not answered), R-3 some and ticked two reasons, X-9 is unknown.
ROWS = [
    {"participant_ref": "R-1", "workability": "7", "confidence": "6", "importance": "8",
     "steps_taken": "all", "steps_helped": "unsure", "seen_work_coach": "no",
     "comments": "Helpful ŵ"},
    {"participant_ref": "R-2", "workability": "3", "confidence": "", "importance": "6",
     "steps_taken": "none", "steps_reasons": "health;other", "steps_reasons_other": "Car",
     "more_steps_planned": "some", "seen_work_coach": "yes", "discussed_plan": "yes",
     "work_coach_relationship": "improved"},
    {"participant_ref": "R-3", "workability": "5", "confidence": "9", "importance": "2",
     "steps_taken": "some", "steps_helped": "yes", "steps_reasons": "no_places",
     "more_steps_planned": "all", "seen_work_coach": "no"},
    {"participant_ref": "X-9", "workability": "10", "confidence": "10", "importance": "10",
     "steps_taken": "all", "steps_helped": "no", "seen_work_coach": "no"},
]
# A choice variable never takes a question's name: steps_reasons=other is renamed.
RENAMED = {"steps_reasons_other": "steps_reasons_other_2"}
BASELINES = {"R-1": (4, 5, 9), "R-2": (6, 6, 6), "R-3": (5, 5, 7)}


@pytest.fixture
def answered(runner, tmp_path, clock):
    people = tmp_path / "participants.csv"
    people.write_text(participants_csv(*(person(ref, date(2026, 1, 5), scores=scores)
                                         for ref, scores in BASELINES.items())))
    result = runner.invoke(args=["import-cohort", "--participants", str(people)])
    assert result.exit_code == 0, result.output
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n", restval="")
    writer.writeheader()
    for row in ROWS:
        writer.writerow({"submitted_on": "2026-02-20", "mode": "telephone", **row})
    responses = tmp_path / "responses.csv"
    responses.write_text(out.getvalue(), encoding="utf-8")
    result = runner.invoke(args=["import-responses", "--wave", "wave2", str(responses)])
    assert result.exit_code == 0, result.output
    return tmp_path


def choice_name(question, choice) -> str:
    name = f"{question.id}_{choice.value}"
    return RENAMED.get(name, name)


def expected_codes(question, answer: str) -> object:
    """An answer as the export codes it, computed here from the instrument."""
    if question.type == "scale_0_10":
        return int(answer)
    if question.type == "yes_no":
        return {"yes": 1, "no": 0}[answer]
    return [c.value for c in question.choices].index(answer) + 1


def expected_row(row: dict) -> dict:
    """Variable -> value (or missing code) of one response, from the routing rules."""
    answers = {k: v for k, v in row.items() if v}
    shown = {
        "steps_helped": answers["steps_taken"] in ("all", "some"),
        "steps_reasons": answers["steps_taken"] in ("some", "none"),
        "more_steps_planned": answers["steps_taken"] in ("some", "none"),
        "steps_reasons_other": "other" in answers.get("steps_reasons", ""),
        "discussed_plan": answers["seen_work_coach"] == "yes",
        "work_coach_relationship": answers["seen_work_coach"] == "yes",
    }
    out: dict[str, object] = {"participant_ref": row["participant_ref"],
                              "submitted_on": "2026-02-20", "mode": "telephone",
                              "instrument_version": WAVE2.version, "wave": "wave2"}
    for question in WAVE2.questions():
        asked = shown.get(question.id, True)
        answer = answers.get(question.id)
        missing = NOT_ASKED if not asked else NOT_ANSWERED if answer is None else None
        if question.type == "free_text":
            out[question.id] = answer if asked and answer else ""
        elif question.type == "multiple_choice":
            ticked = (answer or "").split(";")
            for choice in question.choices:
                out[choice_name(question, choice)] = (
                    missing if missing else int(choice.value in ticked))
        else:
            out[question.id] = missing if missing else expected_codes(question, answer)
    return out


def expected_labels(language: str) -> tuple[dict[str, str], dict[str, dict]]:
    """Variable labels and value labels (valid values only), from the instrument."""
    labels = {}
    values: dict[str, dict] = {}
    for question in WAVE2.questions():
        qtext = text(question.text, language)
        if question.type == "multiple_choice":
            for choice in question.choices:
                name = choice_name(question, choice)
                labels[name] = f"{qtext}: {text(choice.label, language)}"
                values[name] = {1: "Selected" if language == "en" else None,
                                0: "Not selected" if language == "en" else None}
            continue
        labels[question.id] = qtext
        if question.type == "scale_0_10":
            values[question.id] = {k: text(v, language) for k, v in question.scale_labels.items()}
        elif question.type != "free_text":
            values[question.id] = {expected_codes(question, c.value): text(c.label, language)
                                   for c in question.choices}
    return labels, values


def export(runner, tmp_path, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def by_ref(frame) -> dict[str, dict]:
    return {row["participant_ref"]: row for row in frame.to_dict("records")}


def check_label(actual: str, full: str, **limit: int) -> None:
    assert actual == shorten(full, **limit)
    assert full.startswith(actual.removesuffix("…"))


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_sav_has_every_label_value_and_missing_code(runner, answered, language):
    path = answered / "wave2.sav"
    export(runner, answered, "export-responses", "--wave", "wave2", "--format", "sav",
           "--output", str(path), "--language", language)
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels, values = expected_labels(language)
    rows = by_ref(frame)
    assert set(rows) == {"R-1", "R-2", "R-3", "X-9"}  # the unlinked response is kept
    for row in ROWS:
        for name, value in expected_row(row).items():
            got = rows[row["participant_ref"]][name]
            assert got == value, (row["participant_ref"], name, got, value)
    for name, full in labels.items():
        check_label(meta.column_names_to_labels[name], full, utf8_bytes=SAV_LABEL_BYTES)
        if name not in values:  # free text: blank when missing
            assert name not in meta.missing_ranges
            continue
        assert meta.missing_ranges[name] == [{"lo": c, "hi": c} for c in (-97, -98, -99)]
        value_labels = meta.variable_value_labels.get(name, {})
        for code, label in values.get(name, {}).items():
            if label is not None:
                check_label(value_labels[code], label, utf8_bytes=120)
        if name in values:
            assert {-97, -98, -99} <= set(value_labels)
    assert meta.column_names_to_labels["comments"] == text(WAVE2.question("comments").text,
                                                           language)
    assert "wave2" in meta.file_label and WAVE2.version in meta.file_label
    # Without user-missing values, SPSS (and pyreadstat) treat the codes as missing.
    plain, _ = pyreadstat.read_sav(str(path))
    assert plain.loc[plain.participant_ref == "R-2", "confidence"].isna().all()


def test_the_dta_uses_extended_missing_values_and_stata_labels(runner, answered):
    path = answered / "wave2.dta"
    export(runner, answered, "export-responses", "--wave", "wave2", "--format", "dta",
           "--output", str(path))
    frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    labels, values = expected_labels("en")
    letters = {NOT_ASKED: "a", NOT_ANSWERED: "b"}
    rows = by_ref(frame)
    for row in ROWS:
        for name, value in expected_row(row).items():
            want = letters.get(value, value) if name not in ("comments",) else value
            assert rows[row["participant_ref"]][name] == want, (name, row["participant_ref"])
    for name, full in labels.items():
        check_label(meta.column_names_to_labels[name], full, chars=STATA_LABEL_CHARS)
        for code, label in values.get(name, {}).items():
            assert meta.variable_value_labels[name][code] == label or label is None
        if name in values:
            assert meta.variable_value_labels[name]["a"] == "Not asked (routing)"
            assert meta.variable_value_labels[name]["b"] == "Not answered"
            assert meta.variable_value_labels[name]["c"] == "Not in this instrument version"
    assert all(len(name) <= 32 for name in meta.column_names)


def test_pairs_carry_baseline_follow_up_and_change(runner, answered):
    path = answered / "pairs.sav"
    export(runner, answered, "export-pairs", "--follow-up", "wave2", "--format", "sav",
           "--output", str(path))
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    rows = by_ref(frame)
    assert set(rows) == {"R-1", "R-2", "R-3"}  # linked responses only
    for row in ROWS[:3]:
        ref = row["participant_ref"]
        for key, base in zip(("workability", "confidence", "importance"), BASELINES[ref],
                             strict=True):
            follow = int(row[key]) if row[key] else None
            assert rows[ref][f"{key}_base"] == base
            assert rows[ref][f"{key}_fu"] == (NOT_ANSWERED if follow is None else follow)
            assert rows[ref][f"{key}_chg"] == (NOT_ANSWERED if follow is None
                                               else follow - base)
    assert meta.column_names_to_labels["workability_chg"] == (
        "Work ability (0 to 10): change (follow-up minus baseline)")
    assert meta.variable_value_labels["workability_chg"] == {
        -99.0: "No pair (baseline or follow-up missing)"}
    assert meta.variable_value_labels["workability_fu"][0] == "Completely unable to work"
    # The same pairs as CSV (missing blank) and as .dta (.b).
    csv_rows = {r["participant_ref"]: r for r in csv.DictReader(io.StringIO(
        export(runner, answered, "export-pairs", "--follow-up", "wave2", "--format", "csv")))}
    assert csv_rows["R-2"]["confidence_fu"] == "" and csv_rows["R-2"]["workability_chg"] == "-3"
    dta = answered / "pairs.dta"
    export(runner, answered, "export-pairs", "--follow-up", "wave2", "--format", "dta",
           "--output", str(dta))
    frame, _ = pyreadstat.read_dta(str(dta), user_missing=True)
    assert by_ref(frame)["R-2"]["confidence_chg"] == "b"


def test_binary_pairs_change_towards_the_better_answer(runner, tmp_path):
    from surveys.demo.hws import DEFINITION

    assert runner.invoke(args=["study", "apply", str(DEFINITION)]).exit_code == 0
    people = tmp_path / "people.csv"
    people.write_text("participant_ref,site,completed_on,concerned_job_end,absent_end\n"
                      "H-1,Fife,2020-01-06,yes,yes\nH-2,Fife,2020-01-06,no,no\n"
                      "H-3,Fife,2020-01-06,no,\n")
    result = runner.invoke(args=["import-cohort", "--study", "hws-pilot",
                                 "--participants", str(people)])
    assert result.exit_code == 0, result.output
    answers = tmp_path / "answers.csv"
    answers.write_text("participant_ref,submitted_on,mode,concerned_job,absent,made_difference,"
                       "health_improved,health_contributed\n"
                       "H-1,2020-02-10,telephone,no,yes,yes,no,\n"
                       "H-2,2020-02-10,telephone,yes,no,no,yes,yes\n"
                       "H-3,2020-02-10,telephone,no,yes,yes,no,\n")
    result = runner.invoke(args=["import-responses", "--study", "hws-pilot", "--wave", "survey",
                                 str(answers)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "pairs.dta"
    export(runner, tmp_path, "export-pairs", "--study", "hws-pilot", "--follow-up", "survey",
           "--format", "dta", "--output", str(path))
    frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    rows = by_ref(frame)
    # better is "no": yes -> no improved (1), no -> yes deteriorated (-1), same 0.
    assert [rows[r]["concerned_job_chg"] for r in ("H-1", "H-2", "H-3")] == [1, -1, 0]
    assert [rows[r]["absent_chg"] for r in ("H-1", "H-2", "H-3")] == [0, 0, "b"]
    assert rows["H-3"]["absent_base"] == "b"
    assert meta.variable_value_labels["absent_base"] == {1: "Yes", 0: "No", "b": "Not recorded"}
    assert meta.variable_value_labels["concerned_job_chg"] == {
        1: "Improved", 0: "No change", -1: "Deteriorated",
        "b": "No pair (baseline or follow-up missing)"}
    responses = tmp_path / "responses.sav"
    export(runner, tmp_path, "export-responses", "--study", "hws-pilot", "--wave", "survey",
           "--format", "sav", "--output", str(responses))
    frame, _ = pyreadstat.read_sav(str(responses), user_missing=True)
    # health_contributed is asked only when health improved.
    assert by_ref(frame)["H-1"]["health_contributed"] == NOT_ASKED
    assert by_ref(frame)["H-2"]["health_contributed"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["export-responses", "--wave", "wave9", "--format", "sav"],
     "Error: Study 'default' has no wave 'wave9' (its waves: wave1, wave2)."),
    (["export-responses", "--wave", "wave2", "--format", "xls"],
     "Error: Unknown format 'xls' (use one of: csv, sav, dta)."),
    (["export-responses", "--wave", "wave2", "--format", "sav", "--study", "nope"],
     "Error: No study called 'nope'."),
    (["export-responses", "--wave", "wave2", "--format", "sav", "--language", "fr"],
     "Error: Unknown language 'fr' (use en or cy)."),
    (["export-pairs", "--follow-up", "wave1", "--format", "dta", "--output", "{tmp}/p.dta"],
     "Error: Wave 'wave1' of study 'default' asks none of the study's measures, so it has no "
     "pairs."),
    (["export-responses", "--wave", "wave2", "--format", "dta", "--output",
      "{tmp}/missing/r.dta"],
     "Error: Cannot write {tmp}/missing/r.dta: No such file or directory"),
])
def test_bad_input_is_one_line_and_exit_1(runner, answered, args, message):
    args = [a.replace("{tmp}", str(answered)) for a in args]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [message.replace("{tmp}", str(answered))]
    assert not (answered / "p.dta").exists()


def test_csv_is_todays_export(runner, answered):
    from surveys.responses.export import export_csv

    out = export(runner, answered, "export-responses", "--wave", "wave2")
    assert out == export(runner, answered, "export-responses", "--wave", "wave2", "--format",
                         "csv")
    with runner.app.extensions["surveys.session_factory"]() as session:
        from surveys.studies import resolve_study, wave_by_code

        study = resolve_study(session, None)
        assert out == export_csv(session, wave_by_code(study, "wave2"))


def test_names_follow_stata_and_spss_rules():
    taken: set[str] = set()
    long = "how_much_did_the_programme_help_you_with_your_health"
    first = variable_name(long, taken)
    second = variable_name(long, taken)
    assert first == long[:32] and second == long[:30] + "_2"
    assert variable_name("with", taken) == "with_"  # reserved in SPSS
    assert variable_name("2nd", taken) == "v_2nd"
    assert variable_name("A-b", taken) == "A_b"


R_SCRIPT = r"""
library(haven)
args <- commandArgs(trailingOnly = TRUE)
read <- function(path) if (grepl("sav$", path)) read_sav(path, user_na = TRUE) else read_dta(path)
out <- list()
for (path in args) {
  d <- read(path)
  vars <- list()
  for (name in names(d)) {
    x <- d[[name]]
    labels <- attr(x, "labels")
    tagged <- if (is.null(labels)) character(0) else ifelse(
      is_tagged_na(unname(labels)), paste0(".", na_tag(unname(labels))),
      as.character(unname(labels)))
    values <- if (is.numeric(x)) ifelse(is_tagged_na(x), paste0(".", na_tag(x)),
                                        as.character(unclass(x))) else as.character(x)
    vars[[name]] <- list(label = attr(x, "label"), values = values,
                         labels = as.list(setNames(tagged, names(labels))),
                         na_values = attr(x, "na_values"))
  }
  out[[basename(path)]] <- vars
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, null = "null", na = "null"))
"""


def test_r_haven_reads_the_same_labels_and_values(runner, answered):
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript is needed (apt-get install r-cran-haven)"
    paths = []
    for fmt in ("sav", "dta"):
        path = answered / f"wave2.{fmt}"
        export(runner, answered, "export-responses", "--wave", "wave2", "--format", fmt,
               "--output", str(path), "--language", "cy")
        paths.append(str(path))
    script = answered / "read.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run([rscript, str(script), *paths], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    labels, values = expected_labels("cy")
    for fmt in ("sav", "dta"):
        frame, meta = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(
            f"{answered}/wave2.{fmt}", user_missing=True)
        seen = result[f"wave2.{fmt}"]
        assert list(seen) == list(frame.columns)
        for name, variable in seen.items():
            assert variable["label"] == meta.column_names_to_labels[name]
            want = {str(label): code for code, label in
                    meta.variable_value_labels.get(name, {}).items()}
            got = variable["labels"] or {}
            for label, code in want.items():
                expected = f".{code}" if isinstance(code, str) else f"{code:g}"
                assert got[label].rstrip("0").rstrip(".") == expected or got[label] == expected
        for row in ROWS:
            index = [r["participant_ref"] for r in frame.to_dict("records")].index(
                row["participant_ref"])
            for name, value in expected_row(row).items():
                cell = seen[name]["values"][index]
                if fmt == "dta" and value in (NOT_ASKED, NOT_ANSWERED):
                    value = {NOT_ASKED: ".a", NOT_ANSWERED: ".b"}[value]
                if isinstance(value, int):
                    assert float(cell) == value, (fmt, name)
                else:
                    assert (cell or "") == value, (fmt, name)
        if fmt == "sav":
            assert seen["confidence"]["na_values"] == [-97, -98, -99]
        for name, full in labels.items():
            assert full.startswith(seen[name]["label"].removesuffix("…"))


def test_researchers_download_labelled_files_and_evaluators_cannot(app, client, answered,
                                                                   session_factory):
    from surveys.accounts import create_user
    from tests.helpers import sign_in

    with session_factory() as session:
        create_user(session, "res@example.org", "a-long-password-1", "researcher")
        create_user(session, "eva@example.org", "a-long-password-2", "evaluator")
        session.commit()
    url = "/staff/studies/default/responses.dta?wave=wave2&language=cy"
    sign_in(client, "eva@example.org", "a-long-password-2")
    assert client.get(url).status_code == 403
    client.post("/staff/sign-out", data={})
    client.delete_cookie("session")
    sign_in(client, "res@example.org", "a-long-password-1")
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    (answered / "web.dta").write_bytes(page.data)
    frame, meta = pyreadstat.read_dta(str(answered / "web.dta"), user_missing=True)
    assert meta.column_names_to_labels["comments"] == text(WAVE2.question("comments").text, "cy")
    pairs = client.get("/staff/studies/default/pairs.sav?follow_up=wave2")
    assert pairs.status_code == 200
    assert client.get("/staff/studies/default/pairs.sav?follow_up=wave1").status_code == 404
    book = client.get("/staff/studies/default/codebook.html")
    assert book.status_code == 200 and b"steps_reasons_other_2" in book.data
