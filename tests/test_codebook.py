"""`surveys codebook`: every variable of the study's exports, with its question text in
each study language, values, missing codes, routing, measure and instrument version."""

from __future__ import annotations

import csv
import io

import openpyxl
import pyreadstat

from instruments import load_instrument, text
from tests.test_labelled_exports import answered, export  # noqa: F401 - the fixture

WAVE2 = load_instrument("wave2")


def codebook(runner, tmp_path, *args: str) -> list[dict[str, str]]:
    out = export(runner, tmp_path, "codebook", "--format", "csv", *args)
    return list(csv.DictReader(io.StringIO(out)))


def test_the_codebook_lists_every_variable_of_every_export(runner, answered):  # noqa: F811
    rows = codebook(runner, answered)
    for command, wave, flag in (("export-responses", "wave1", "--wave"),
                                ("export-responses", "wave2", "--wave"),
                                ("export-pairs", "wave2", "--follow-up")):
        path = answered / f"{command}-{wave}.sav"
        export(runner, answered, command, flag, wave, "--format", "sav", "--output", str(path))
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
        kind = "pairs" if command == "export-pairs" else "responses"
        listed = [r["variable"] for r in rows if r["export"] == kind and r["wave"] == wave]
        assert listed == meta.column_names
    assert not [r for r in rows if r["export"] == "pairs" and r["wave"] == "wave1"]


def test_each_row_says_text_values_routing_measure_and_version(runner, answered):  # noqa: F811
    rows = {(r["export"], r["wave"], r["variable"]): r for r in codebook(runner, answered)}
    helped = rows[("responses", "wave2", "steps_helped")]
    question = WAVE2.question("steps_helped")
    assert helped["text_en"] == text(question.text, "en")
    assert helped["text_cy"] == text(question.text, "cy")
    assert helped["values"] == "1 = Yes; 2 = I'm not sure; 3 = No"
    assert helped["routing"] == "steps_taken in (all, some)"
    assert helped["instrument_version"] == WAVE2.version
    assert helped["missing"].startswith("Not in this instrument version: -97 (SPSS), .c (Stata)")
    assert rows[("responses", "wave2", "workability")]["measure"] == "workability"
    other = rows[("responses", "wave2", "steps_reasons_other_2")]
    assert other["source"] == "steps_reasons=other"
    assert other["name_note"] == "steps_reasons_other"  # renamed: the question has that name
    assert rows[("pairs", "wave2", "confidence_chg")]["measure"] == "confidence"


def test_html_and_xlsx_hold_the_same_rows(runner, answered):  # noqa: F811
    rows = codebook(runner, answered, "--language", "cy")
    page = export(runner, answered, "codebook", "--format", "html")
    assert page.count("<tr>") == len(rows) + 1 and '<th scope="col">' in page
    # Readable on a phone: sized to the screen, the table scrolling in its own region.
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<div class="region" role="region" tabindex="0" aria-label="' in page
    path = answered / "codebook.xlsx"
    export(runner, answered, "codebook", "--format", "xlsx", "--output", str(path))
    sheet = openpyxl.load_workbook(path).active
    values = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [v[2] for v in values] == [r["variable"] for r in codebook(runner, answered)]


def test_a_shipped_study_with_its_own_instrument(runner, tmp_path):
    from surveys.demo.hws import DEFINITION

    assert runner.invoke(args=["study", "apply", str(DEFINITION)]).exit_code == 0
    rows = codebook(runner, tmp_path, "--study", "hws-pilot")
    names = [r["variable"] for r in rows if r["export"] == "pairs"]
    assert names == ["participant_ref", "site", "instrument_version", "wave",
                     "concerned_job_base", "concerned_job_fu", "concerned_job_chg",
                     "absent_base", "absent_fu", "absent_chg"]
    contributed = next(r for r in rows if r["variable"] == "health_contributed")
    assert contributed["routing"] == "health_improved = yes"
    assert "text_cy" not in contributed  # an English-only study


def test_bad_input_is_one_line_and_exit_1(runner, tmp_path):
    for args, message in (
        (["--format", "pdf"], "Error: Unknown format 'pdf' (use one of: html, csv, xlsx)."),
        (["--format", "csv", "--study", "nope"], "Error: No study called 'nope'."),
    ):
        result = runner.invoke(args=["codebook", *args])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [message]
