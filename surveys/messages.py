"""One catalogue of validation messages, in the GOV.UK voice, marked for translation."""

from __future__ import annotations

from instruments import text
from surveys.i18n import N_, translate

ANSWER_ERRORS = {
    ("required", "choice"): N_("Select an answer"),
    ("required", "multiple"): N_("Select at least one answer"),
    ("required", "scale"): N_("Select a number from 0 to 10"),
    ("required", "text"): N_("Enter your answer"),
    ("not_a_whole_number", None): N_("Enter a whole number from 0 to 10"),
    ("out_of_range", None): N_("Enter a number from 0 to 10"),
    ("invalid_choice", None): N_("Select one of the answers shown"),
    ("too_long", None): N_("Your answer must be %(max)s characters or fewer"),
}

KIND = {
    "scale_0_10": "scale",
    "multiple_choice": "multiple",
    "free_text": "text",
}


def answer_error(code: str, question, language: str, *, cell: str | None = None) -> str:
    """The message for an answer error code from `instruments.parse_answer`.

    A missing answer on a page uses the instrument's own words for that question when it
    has them ("Select how satisfied you are"); an import row keeps the service's words."""
    if code == "required" and cell is None and getattr(question, "error", None):
        return text(question.error, language)
    kind = KIND.get(question.type, "choice")
    template = ANSWER_ERRORS.get((code, kind)) or ANSWER_ERRORS.get((code, None))
    if template is None:
        template = N_("Check your answer")
    message = translate(template, language, max=question.max_length or "")
    if cell is not None and cell != "":
        shown = cell if len(cell) <= 30 else cell[:30] + "..."
        return f"'{shown}': {message}"
    return message
