"""Checking answers from forms and CSV cells against their question."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instruments import (
    ERROR_CODES,
    load_instrument,
    parse_answer,
    parse_import_cell,
    parse_response,
)
from instruments.model import Choice, Question


@pytest.fixture(scope="module")
def wave1():
    return load_instrument("wave1")


@pytest.fixture(scope="module")
def wave2():
    return load_instrument("wave2")


@pytest.fixture(scope="module")
def scale(wave2):
    return wave2.question("workability")


@pytest.fixture(scope="module")
def reasons(wave2):
    return wave2.question("steps_reasons")


@pytest.fixture(scope="module")
def comments(wave1):
    return wave1.question("comments")


def test_error_codes_are_the_agreed_ones():
    assert set(ERROR_CODES) == {
        "required",
        "not_a_whole_number",
        "out_of_range",
        "invalid_choice",
        "too_long",
    }


# scale_0_10 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("7", 7), ("10", 10), (" 7 ", 7), ("07", 7), ("+3", 3), ("\t5\n", 5), (4, 4)],
)
def test_scale_accepts_whole_numbers_from_0_to_10(scale, raw, expected):
    assert parse_answer(scale, raw) == (expected, None)


@pytest.mark.parametrize(
    "raw", ["7.5", "7.0", "seven", "7a", "1e1", "0x7", "1_0", "٧", "−1", "7 8", "=cmd()"]
)
def test_scale_rejects_what_is_not_a_whole_number(scale, raw):
    assert parse_answer(scale, raw) == (None, "not_a_whole_number")


@pytest.mark.parametrize("raw", ["-1", "11", "100", "-0000011", "9" * 5000, -1, 11])
def test_scale_rejects_numbers_outside_0_to_10(scale, raw):
    assert parse_answer(scale, raw) == (None, "out_of_range")


@pytest.mark.parametrize("raw", [None, "", "   ", []])
def test_a_blank_required_answer_is_required(scale, raw):
    assert parse_answer(scale, raw) == (None, "required")


# choices ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question_id", "raw", "expected"),
    [
        ("satisfaction", "satisfied", "satisfied"),
        ("trusted_ehp", "strongly_agree", "strongly_agree"),
        ("outlook_change", "deteriorated", "deteriorated"),
        ("read_plan", " yes ", "yes"),
        ("read_plan", ["no"], "no"),
    ],
)
def test_one_choice_types_return_the_choice_value(wave1, question_id, raw, expected):
    assert parse_answer(wave1.question(question_id), raw) == (expected, None)


@pytest.mark.parametrize(
    "raw", ["Yes", "maybe", "yes\x00", "y" * 10_000, "<script>", ["yes", "no"], "True"]
)
def test_one_choice_types_reject_anything_else(wave1, raw):
    assert parse_answer(wave1.question("read_plan"), raw) == (None, "invalid_choice")


def test_multiple_choice_returns_values_in_the_instruments_order(reasons):
    assert parse_answer(reasons, ["other", "health", "other"]) == (["health", "other"], None)
    assert parse_answer(reasons, "no_places") == (["no_places"], None)


def test_multiple_choice_rejects_an_unknown_value(reasons):
    assert parse_answer(reasons, ["health", "money"]) == (None, "invalid_choice")
    assert parse_answer(reasons, ["health", 3]) == (None, "invalid_choice")


def test_multiple_choice_with_nothing_ticked_is_required(reasons):
    assert parse_answer(reasons, []) == (None, "required")
    assert parse_answer(reasons, ["", " "]) == (None, "required")


def test_unexpected_python_values_are_invalid_not_crashes(wave1, scale):
    assert parse_answer(wave1.question("read_plan"), {"yes": 1}) == (None, "invalid_choice")
    assert parse_answer(scale, 7.5) == (None, "invalid_choice")


# free text -------------------------------------------------------------------


def test_free_text_is_kept_as_data(comments):
    assert parse_answer(comments, "=cmd()") == ("=cmd()", None)
    assert parse_answer(comments, "<b>hi</b> ' OR 1=1 --") == ("<b>hi</b> ' OR 1=1 --", None)


def test_free_text_is_trimmed_and_line_endings_are_tidied(comments):
    assert parse_answer(comments, "  line one\r\nline two\r  ") == ("line one\nline two", None)


def test_free_text_loses_stray_control_characters(comments):
    assert parse_answer(comments, "a\x00b\x07c\td") == ("abc\td", None)


def test_blank_optional_free_text_is_no_answer(comments):
    assert parse_answer(comments, None) == (None, None)
    assert parse_answer(comments, "   \r\n ") == (None, None)
    assert parse_answer(comments, "\x00") == (None, None)


def test_free_text_longer_than_max_length_is_too_long(comments):
    assert comments.max_length == 1000
    assert parse_answer(comments, "a" * 1000) == ("a" * 1000, None)
    assert parse_answer(comments, "a" * 1001) == (None, "too_long")
    assert parse_answer(comments, "é" * 1_000_000) == (None, "too_long")


def test_free_text_default_max_length_is_500(wave2):
    other = wave2.question("steps_reasons_other")
    assert parse_answer(other, "x" * 500) == ("x" * 500, None)
    assert parse_answer(other, "x" * 501) == (None, "too_long")


def test_required_free_text_that_is_only_spaces_is_required():
    question = Question(
        id="why", type="free_text", text={"en": "Why?", "cy": "Pam?"}, max_length=10
    )
    assert parse_answer(question, "  ") == (None, "required")


# CSV import cells --------------------------------------------------------------


def test_import_cells_split_multiple_choice_on_semicolons(reasons):
    assert parse_import_cell(reasons, "health; other_issues") == (["health", "other_issues"], None)
    assert parse_import_cell(reasons, "health;;") == (["health"], None)
    assert parse_import_cell(reasons, "health;money") == (None, "invalid_choice")
    assert parse_import_cell(reasons, "") == (None, "required")


def test_import_cells_match_choice_values_whatever_their_case(wave1):
    assert parse_import_cell(wave1.question("read_plan"), "YES") == ("yes", None)
    assert parse_answer(wave1.question("read_plan"), "YES") == (None, "invalid_choice")


def test_import_cells_use_the_same_error_codes(scale, comments):
    assert parse_import_cell(scale, "7.5") == (None, "not_a_whole_number")
    assert parse_import_cell(scale, "11") == (None, "out_of_range")
    assert parse_import_cell(scale, " ") == (None, "required")
    assert parse_import_cell(comments, "x" * 1001) == (None, "too_long")
    assert parse_import_cell(comments, "a;b") == ("a;b", None)


# whole responses ------------------------------------------------------------------


def test_a_hidden_question_is_never_required_and_its_answer_is_discarded(wave2):
    raw = {
        "workability": "6",
        "confidence": "5",
        "importance": "8",
        "steps_taken": "all",
        "steps_helped": "unsure",
        "steps_reasons": ["health"],
        "seen_work_coach": "no",
        "discussed_plan": "yes",
    }
    answers, errors = parse_response(wave2, raw)
    assert errors == {}
    assert answers == {
        "workability": 6,
        "confidence": 5,
        "importance": 8,
        "steps_taken": "all",
        "steps_helped": "unsure",
        "seen_work_coach": "no",
    }


def test_a_shown_question_left_blank_is_reported(wave2):
    raw = {"workability": "6", "confidence": "11", "importance": "x", "steps_taken": "none"}
    answers, errors = parse_response(wave2, raw)
    assert answers == {"workability": 6, "steps_taken": "none"}
    assert errors == {
        "confidence": "out_of_range",
        "importance": "not_a_whole_number",
        "steps_reasons": "required",
        "more_steps_planned": "required",
        "seen_work_coach": "required",
    }


def test_a_whole_imported_row_is_parsed_with_import_rules(wave2):
    row = {
        "workability": "3",
        "confidence": "4",
        "importance": "5",
        "steps_taken": "Some",
        "steps_helped": "no",
        "steps_reasons": "health;other",
        "steps_reasons_other": "Caring for my mother",
        "more_steps_planned": "some",
        "seen_work_coach": "yes",
        "discussed_plan": "no",
        "work_coach_relationship": "improved",
        "comments": "",
    }
    answers, errors = parse_response(wave2, row, from_import=True)
    assert errors == {}
    assert answers["steps_reasons"] == ["health", "other"]
    assert answers["steps_reasons_other"] == "Caring for my mother"
    assert "comments" not in answers


# properties ---------------------------------------------------------------------------

ANY_RAW = st.one_of(
    st.none(),
    st.text(max_size=2000),
    st.lists(st.text(max_size=50), max_size=6),
    st.integers(),
)


@given(raw=ANY_RAW)
def test_parse_answer_never_raises_and_returns_a_known_code(wave1, wave2, raw):
    for instrument in (wave1, wave2):
        for question in instrument.questions():
            value, error = parse_answer(question, raw)
            assert error is None or error in ERROR_CODES
            if error:
                assert value is None


@given(number=st.integers(min_value=0, max_value=10), padding=st.sampled_from(["", " ", "0"]))
def test_every_score_from_0_to_10_is_accepted(scale, number, padding):
    raw = f"{padding}{number}" if padding == "0" else f"{padding}{number}{padding}"
    assert parse_answer(scale, raw) == (number, None)


@given(cell=st.text(max_size=300))
def test_import_cells_never_raise(wave2, cell):
    for question in wave2.questions():
        value, error = parse_import_cell(question, cell)
        assert error is None or error in ERROR_CODES


@given(values=st.lists(st.sampled_from(["health", "other_issues", "no_places", "other"])))
def test_ticked_choices_come_back_once_each_in_order(reasons, values):
    value, error = parse_answer(reasons, values)
    if values:
        assert error is None
        assert value == [v for v in ["health", "other_issues", "no_places", "other"] if v in values]
    else:
        assert (value, error) == (None, "required")


def test_a_question_built_in_code_parses_too():
    question = Question(
        id="colour",
        type="single_choice",
        text={"en": "Colour", "cy": "Lliw"},
        required=False,
        choices=(Choice("red", {"en": "Red", "cy": "Coch"}),),
    )
    assert parse_answer(question, "red") == ("red", None)
    assert parse_answer(question, "") == (None, None)
