"""Routing: which pages and questions a respondent sees."""

import pytest

from instruments import (
    clean_answers,
    is_visible,
    load_file,
    load_instrument,
    visible_pages,
    visible_questions,
)
from instruments.routing import evaluate


@pytest.fixture(scope="module")
def wave1():
    return load_instrument("wave1")


@pytest.fixture(scope="module")
def wave2():
    return load_instrument("wave2")


def shown(instrument, answers):
    return [question.id for question in visible_questions(instrument, answers)]


def test_not_having_read_the_plan_hides_the_plan_page(wave1):
    pages = [page.id for page in visible_pages(wave1, {"read_plan": "no"})]
    assert "your_plan" not in pages
    assert "plan_tailored" not in shown(wave1, {"read_plan": "no"})
    assert "right_work_health" in shown(wave1, {"read_plan": "no"})


def test_having_read_the_plan_shows_the_plan_page(wave1):
    pages = [page.id for page in visible_pages(wave1, {"read_plan": "yes"})]
    assert "your_plan" in pages
    assert not is_visible(wave1.page("your_plan"), {})


def test_the_plan_page_is_hidden_until_read_plan_is_answered(wave1):
    assert "your_plan" not in [page.id for page in visible_pages(wave1, {})]


def test_taking_all_steps_asks_whether_they_helped_but_not_why_not(wave2):
    questions = shown(wave2, {"steps_taken": "all"})
    assert "steps_helped" in questions
    assert "steps_reasons" not in questions
    assert "more_steps_planned" not in questions


def test_taking_no_steps_asks_why_and_about_future_plans(wave2):
    questions = shown(wave2, {"steps_taken": "none"})
    assert "steps_reasons" in questions
    assert "more_steps_planned" in questions
    assert "steps_helped" not in questions


def test_taking_some_steps_asks_everything_about_steps(wave2):
    questions = shown(wave2, {"steps_taken": "some"})
    assert {"steps_helped", "steps_reasons", "more_steps_planned"} <= set(questions)


def test_something_else_among_the_reasons_asks_what_it_was(wave2):
    base = {"steps_taken": "none"}
    assert "steps_reasons_other" not in shown(wave2, {**base, "steps_reasons": ["health"]})
    with_other = {**base, "steps_reasons": ["health", "other"]}
    assert "steps_reasons_other" in shown(wave2, with_other)


def test_reasons_chosen_before_changing_to_all_steps_no_longer_count(wave2):
    answers = {"steps_taken": "all", "steps_reasons": ["other"], "steps_reasons_other": "x"}
    assert "steps_reasons_other" not in shown(wave2, answers)
    assert clean_answers(wave2, answers) == {"steps_taken": "all"}


def test_work_coach_questions_follow_having_seen_the_work_coach(wave2):
    assert "discussed_plan" in shown(wave2, {"seen_work_coach": "yes"})
    assert "work_coach_relationship" in shown(wave2, {"seen_work_coach": "yes"})
    assert "discussed_plan" not in shown(wave2, {"seen_work_coach": "no"})
    assert "work_coach_relationship" not in shown(wave2, {})


def test_clean_answers_drops_hidden_and_unknown_answers(wave1):
    answers = {
        "read_plan": "no",
        "plan_tailored": "agree",
        "satisfaction": "satisfied",
        "not_a_question": "x",
    }
    assert clean_answers(wave1, answers) == {"read_plan": "no", "satisfaction": "satisfied"}


def test_visible_questions_keep_instrument_order(wave2):
    questions = shown(wave2, {"steps_taken": "some", "seen_work_coach": "yes"})
    order = [question.id for question in wave2.questions()]
    assert questions == sorted(questions, key=order.index)


def test_blank_answers_satisfy_no_condition(wave2):
    for blank in (None, "", []):
        assert "steps_helped" not in shown(wave2, {"steps_taken": blank})
        assert "steps_reasons_other" not in shown(
            wave2, {"steps_taken": "none", "steps_reasons": blank}
        )


ROUTED = """
name: routed
version: "1"
audience: client
title: {en: Routed, cy: Wedi'i gyfeirio}
pages:
  - id: first
    questions:
      - id: score
        type: scale_0_10
        text: {en: Score, cy: Sgôr}
      - id: reasons
        type: multiple_choice
        text: {en: Reasons, cy: Rhesymau}
        choices:
          - {value: health, label: {en: Health, cy: Iechyd}}
          - {value: family, label: {en: Family, cy: Teulu}}
      - id: agreed
        type: yes_no
        text: {en: Agreed, cy: Cytuno}
  - id: both
    show_if:
      all:
        - {question: agreed, equals: "yes"}
        - {question: reasons, includes: health}
    questions:
      - id: both_q
        type: free_text
        text: {en: Both, cy: Y ddau}
  - id: either
    show_if:
      any:
        - {question: score, in: [0, 1, 2]}
        - {question: reasons, includes: family}
    questions:
      - id: either_q
        type: free_text
        text: {en: Either, cy: Y naill neu'r llall}
      - id: nested_q
        type: free_text
        text: {en: Nested, cy: Nythu}
        show_if:
          all:
            - {question: agreed, equals: "no"}
            - any:
                - {question: score, equals: 0}
                - {question: reasons, includes: health}
"""


@pytest.fixture
def routed(tmp_path):
    path = tmp_path / "routed.yaml"
    path.write_text(ROUTED, encoding="utf-8")
    return load_file(path)


def test_all_needs_every_condition(routed):
    assert "both_q" in shown(routed, {"agreed": "yes", "reasons": ["health"]})
    assert "both_q" not in shown(routed, {"agreed": "yes", "reasons": ["family"]})
    assert "both_q" not in shown(routed, {"agreed": "no", "reasons": ["health"]})


def test_any_needs_one_condition(routed):
    assert "either_q" in shown(routed, {"score": 2})
    assert "either_q" in shown(routed, {"score": 9, "reasons": ["family"]})
    assert "either_q" not in shown(routed, {"score": 9, "reasons": ["health"]})
    assert "either_q" not in shown(routed, {})


def test_combinations_nest(routed):
    assert "nested_q" in shown(routed, {"score": 0, "agreed": "no"})
    assert "nested_q" in shown(routed, {"score": 1, "agreed": "no", "reasons": ["health"]})
    assert "nested_q" not in shown(routed, {"score": 1, "agreed": "no"})
    assert "nested_q" not in shown(routed, {"score": 0, "agreed": "yes"})


def test_scale_conditions_accept_the_number_or_its_text(routed):
    condition = routed.page("either").show_if
    assert evaluate(condition, {"score": 1})
    assert evaluate(condition, {"score": "1"})
    assert not evaluate(condition, {"score": True})


def test_a_page_whose_questions_are_all_hidden_is_not_shown(tmp_path):
    path = tmp_path / "empty_page.yaml"
    routed_either = "      - id: either_q\n        show_if: {question: agreed, equals: 'yes'}\n"
    path.write_text(ROUTED.replace("      - id: either_q\n", routed_either), encoding="utf-8")
    instrument = load_file(path)

    def pages(answers):
        return [page.id for page in visible_pages(instrument, answers)]

    assert "either" in pages({"score": 1, "agreed": "yes"})
    assert "either" not in pages({"score": 1, "agreed": "no"})
    assert "either" in pages({"score": 1, "agreed": "no", "reasons": ["health"]})
