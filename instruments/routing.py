"""Which pages and questions a respondent sees, given the answers so far.

`answers` maps question ids to typed answers (as `parse_answer` returns them:
str for a choice, list[str] for multiple choice, int for a scale). An answer to
a question that is itself hidden never counts: `visible_pages`,
`visible_questions` and `clean_answers` walk the instrument in order and only
look at answers to questions shown so far. Blank answers (None, "", []) satisfy
no condition.
"""

from __future__ import annotations

from collections.abc import Mapping

from instruments.model import (
    AllOf,
    AnyOf,
    Condition,
    Equals,
    In,
    Includes,
    Instrument,
    Page,
    Question,
)


def _same(answer: object, value: object) -> bool:
    if isinstance(answer, bool) or answer is None:
        return False
    if isinstance(answer, int | str):
        return str(answer).strip() == str(value)
    return False


def evaluate(condition: Condition, answers: Mapping[str, object]) -> bool:
    """Whether a show_if condition holds for these answers."""
    match condition:
        case Equals(question, value):
            return _same(answers.get(question), value)
        case In(question, values):
            return any(_same(answers.get(question), value) for value in values)
        case Includes(question, value):
            ticked = answers.get(question)
            if isinstance(ticked, str):
                ticked = [ticked]
            return isinstance(ticked, list | tuple) and value in ticked
        case AllOf(conditions):
            return all(evaluate(part, answers) for part in conditions)
        case AnyOf(conditions):
            return any(evaluate(part, answers) for part in conditions)
    raise TypeError(f"not a routing condition: {condition!r}")


def is_visible(node: Page | Question, answers: Mapping[str, object]) -> bool:
    """Whether a page's or question's own show_if holds for these answers.

    This looks at the node alone: a question on a hidden page, or answers to
    hidden questions, are the business of `visible_pages` / `clean_answers`.
    """
    return node.show_if is None or evaluate(node.show_if, answers)


def _walk(
    instrument: Instrument, answers: Mapping[str, object]
) -> list[tuple[Page, list[Question]]]:
    shown: list[tuple[Page, list[Question]]] = []
    counted: dict[str, object] = {}
    for page in instrument.pages:
        if not is_visible(page, counted):
            continue
        questions = [question for question in page.questions if is_visible(question, counted)]
        if not questions:
            continue
        shown.append((page, questions))
        for question in questions:
            if question.id in answers:
                counted[question.id] = answers[question.id]
    return shown


def visible_pages(instrument: Instrument, answers: Mapping[str, object]) -> list[Page]:
    """The pages shown, in order. A page whose questions are all hidden is left out."""
    return [page for page, _questions in _walk(instrument, answers)]


def visible_questions(instrument: Instrument, answers: Mapping[str, object]) -> list[Question]:
    """The questions shown, in order."""
    return [question for _page, questions in _walk(instrument, answers) for question in questions]


def clean_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers to questions shown; answers to hidden or unknown questions are dropped."""
    return {
        question.id: answers[question.id]
        for question in visible_questions(instrument, answers)
        if question.id in answers
    }
