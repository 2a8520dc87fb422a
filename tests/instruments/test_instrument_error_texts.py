"""A question may carry its own words for a missing answer (`error: {en, cy}`): checked
at load like every human text, and used instead of the service's "Select an answer"."""


import pytest

from instruments import InstrumentError, load_file
from instruments.loader import load_text
from surveys.messages import answer_error

HEADER = """\
name: sample
version: "2024.1"
audience: client
title: {en: Sample, cy: Sampl}
pages:
"""


def question(*extra: str) -> str:
    """The sample with one yes/no question, plus the given lines of that question."""
    lines = "".join(f"          {line}\n" for line in extra)
    return HEADER + (
        "  - id: satisfied\n"
        "    questions:\n"
        "      - id: satisfied\n"
        "        type: yes_no\n"
        '        text: {en: "Satisfied?", cy: "Yn fodlon?"}\n'
    ) + lines.replace("          ", "        ")


def load(tmp_path, source: str):
    path = tmp_path / "sample.yaml"
    path.write_text(source, encoding="utf-8")
    return load_file(path)


WITH_ERROR = 'error: {en: "Select whether you are satisfied", cy: "Dewiswch a ydych yn fodlon"}'


def test_a_question_carries_its_own_error_in_each_language(tmp_path):
    satisfied = load(tmp_path, question(WITH_ERROR)).question("satisfied")
    assert answer_error("required", satisfied, "en") == "Select whether you are satisfied"
    assert answer_error("required", satisfied, "cy") == "Dewiswch a ydych yn fodlon"
    # Other problems, and a response import's cells, keep the service's words.
    assert answer_error("invalid_choice", satisfied, "en") == "Select one of the answers shown"
    assert answer_error("required", satisfied, "en", cell="") == "Select an answer"


def test_without_one_the_service_words_stay(tmp_path):
    satisfied = load(tmp_path, question()).question("satisfied")
    assert satisfied.error is None
    assert answer_error("required", satisfied, "en") == "Select an answer"


def test_an_error_lacking_a_language_is_refused_with_the_question_named(tmp_path):
    with pytest.raises(InstrumentError) as caught:
        load(tmp_path, question('error: {en: "Select whether you are satisfied"}'))
    assert "question 'satisfied'" in str(caught.value)
    assert "Welsh (cy)" in str(caught.value)
    # An English-only study's kept instrument needs English only.
    only_en = question('error: {en: "Select whether you are satisfied"}')
    assert load_text(only_en.replace(", cy: Sampl", "").replace(', cy: "Yn fodlon?"', ""),
                     "sample.yaml", ["en"]).question("satisfied").error == {
        "en": "Select whether you are satisfied"}


def test_an_error_on_an_optional_question_is_refused(tmp_path):
    with pytest.raises(InstrumentError) as caught:
        load(tmp_path, question(WITH_ERROR, "required: false"))
    assert "question 'satisfied': error is the message for a missing answer" in str(caught.value)
