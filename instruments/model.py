"""The questionnaire model: frozen dataclasses built from a definition file.

Human texts are plain dicts keyed by language ("en", "cy"). Treat every object
here as read-only: instruments are cached and shared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Text = dict[str, str]
LANGUAGES = ("en", "cy")

SCALE_0_10 = "scale_0_10"
AGREEMENT_5 = "agreement_5"
CHANGE_3 = "change_3"
YES_NO = "yes_no"
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
FREE_TEXT = "free_text"

ANSWER_TYPES = (
    SCALE_0_10,
    AGREEMENT_5,
    CHANGE_3,
    YES_NO,
    SINGLE_CHOICE,
    MULTIPLE_CHOICE,
    FREE_TEXT,
)
# Types whose choices come from answer_types.yaml (labels may be overridden).
BUILT_IN_CHOICE_TYPES = (AGREEMENT_5, CHANGE_3, YES_NO)
# Types whose choices are written in the definition.
OWN_CHOICE_TYPES = (SINGLE_CHOICE, MULTIPLE_CHOICE)
# Types answered by picking one value from `Question.choices`.
ONE_CHOICE_TYPES = (*BUILT_IN_CHOICE_TYPES, SINGLE_CHOICE)

SCALE_MIN = 0
SCALE_MAX = 10
DEFAULT_MAX_LENGTH = 500


def text(node_text: Text | None, lang: str) -> str:
    """The text in `lang` ("cy", "cy-GB", "en"...), falling back to English."""
    if not node_text:
        return ""
    primary = (lang or "en").replace("_", "-").split("-")[0].lower()
    return node_text.get(primary) or node_text.get("en") or ""


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text = field(hash=False)


# Routing conditions ---------------------------------------------------------


@dataclass(frozen=True)
class Equals:
    """`{question: q, equals: v}`: the answer to q is v."""

    question: str
    value: str | int

    def question_ids(self) -> Iterator[str]:
        yield self.question


@dataclass(frozen=True)
class In:
    """`{question: q, in: [a, b]}`: the answer to q is one of the values."""

    question: str
    values: tuple[str | int, ...]

    def question_ids(self) -> Iterator[str]:
        yield self.question


@dataclass(frozen=True)
class Includes:
    """`{question: q, includes: v}`: v is among the values ticked for q."""

    question: str
    value: str

    def question_ids(self) -> Iterator[str]:
        yield self.question


@dataclass(frozen=True)
class AllOf:
    """`{all: [...]}`: every condition holds."""

    conditions: tuple[Condition, ...]

    def question_ids(self) -> Iterator[str]:
        for condition in self.conditions:
            yield from condition.question_ids()


@dataclass(frozen=True)
class AnyOf:
    """`{any: [...]}`: at least one condition holds."""

    conditions: tuple[Condition, ...]

    def question_ids(self) -> Iterator[str]:
        for condition in self.conditions:
            yield from condition.question_ids()


Condition = Equals | In | Includes | AllOf | AnyOf


# Questionnaire --------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text = field(hash=False)
    hint: Text | None = field(default=None, hash=False)
    required: bool = True
    # The instrument's own words for a missing answer; None: the service's ("Select an answer").
    error: Text | None = field(default=None, hash=False)
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    show_if: Condition | None = None
    # Anchor labels of a 0-10 scale, keyed 0 and 10 (either may be absent).
    scale_labels: dict[int, Text] = field(default_factory=dict, hash=False)

    def choice_values(self) -> list[str]:
        return [choice.value for choice in self.choices]


@dataclass(frozen=True)
class Page:
    id: str
    title: Text | None = field(hash=False)
    show_if: Condition | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Instrument:
    name: str
    version: str
    audience: Literal["client", "staff"]
    title: Text = field(hash=False)
    intro: Text | None = field(hash=False)
    pages: tuple[Page, ...]

    def questions(self) -> list[Question]:
        """Every question, in the order a respondent meets them."""
        return [question for page in self.pages for question in page.questions]

    def question(self, question_id: str) -> Question:
        for question in self.questions():
            if question.id == question_id:
                return question
        raise KeyError(f"{self.name} {self.version} has no question {question_id!r}")

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(f"{self.name} {self.version} has no page {page_id!r}")

    def page_of(self, question_id: str) -> Page:
        """The page that holds a question."""
        for page in self.pages:
            if any(question.id == question_id for question in page.questions):
                return page
        raise KeyError(f"{self.name} {self.version} has no question {question_id!r}")
