"""Checking raw answers (from a form or a CSV cell) against their question.

`parse_answer` returns (value, error_code). Values: int for scale_0_10, the
choice value (str) for one-choice types, list[str] in the instrument's order
for multiple_choice, str for free_text, None for a blank answer. Error codes
are the keys of a message catalogue kept by the web layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from instruments.model import (
    FREE_TEXT,
    MULTIPLE_CHOICE,
    ONE_CHOICE_TYPES,
    SCALE_0_10,
    SCALE_MAX,
    SCALE_MIN,
    Instrument,
    Question,
)
from instruments.routing import is_visible
from instruments.text import strip_invisible

REQUIRED = "required"
NOT_A_WHOLE_NUMBER = "not_a_whole_number"
OUT_OF_RANGE = "out_of_range"
INVALID_CHOICE = "invalid_choice"
TOO_LONG = "too_long"
ERROR_CODES = (REQUIRED, NOT_A_WHOLE_NUMBER, OUT_OF_RANGE, INVALID_CHOICE, TOO_LONG)

IMPORT_SEPARATOR = ";"

Raw = str | Sequence[str] | None
Parsed = tuple[object, str | None]

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_KEPT_CONTROLS = {"\n", "\t"}


def parse_answer(question: Question, raw: Raw) -> Parsed:
    """The typed answer and an error code (None when the answer is acceptable)."""
    return _parse(question, raw, ignore_case=False)


def parse_import_cell(question: Question, cell: str | None) -> Parsed:
    """Like parse_answer, for a CSV cell: multiple choice values are separated by ";",
    and choice values are matched whatever their case."""
    raw: Raw = cell
    if question.type == MULTIPLE_CHOICE and isinstance(cell, str):
        raw = cell.split(IMPORT_SEPARATOR)
    return _parse(question, raw, ignore_case=True)


def parse_response(
    instrument: Instrument, raw_answers: Mapping[str, Raw], *, from_import: bool = False
) -> tuple[dict[str, object], dict[str, str]]:
    """Parse a whole response, following the routing.

    Returns (answers, errors): answers to the questions shown (blank ones
    left out), and an error code per question id. Hidden questions are never
    required and their raw answers are discarded; an answer with an error
    counts as blank for the routing of later questions.
    """
    parse = parse_import_cell if from_import else parse_answer
    answers: dict[str, object] = {}
    errors: dict[str, str] = {}
    for page in instrument.pages:
        if not is_visible(page, answers):
            continue
        for question in page.questions:
            if not is_visible(question, answers):
                continue
            value, error = parse(question, raw_answers.get(question.id))
            if error:
                errors[question.id] = error
            elif value is not None:
                answers[question.id] = value
    return answers, errors


def _is_blank(raw: Raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return all(isinstance(item, str) and not item.strip() for item in raw)


def _parse(question: Question, raw: Raw, *, ignore_case: bool) -> Parsed:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if raw is not None and not isinstance(raw, str | list | tuple):
        return None, INVALID_CHOICE
    if _is_blank(raw):
        return None, (REQUIRED if question.required else None)
    if question.type == MULTIPLE_CHOICE:
        return _multiple(question, [raw] if isinstance(raw, str) else list(raw), ignore_case)
    if not isinstance(raw, str):
        items = [item for item in raw if not (isinstance(item, str) and not item.strip())]
        if len(items) != 1 or not isinstance(items[0], str):
            return None, INVALID_CHOICE
        raw = items[0]
    if question.type == SCALE_0_10:
        return _scale(raw)
    if question.type in ONE_CHOICE_TYPES:
        value = _match(question, raw, ignore_case)
        return (value, None) if value is not None else (None, INVALID_CHOICE)
    if question.type == FREE_TEXT:
        return _free_text(question, raw)
    raise ValueError(f"unknown answer type {question.type!r}")


def _scale(raw: str) -> Parsed:
    cleaned = raw.strip()
    if not _WHOLE_NUMBER.fullmatch(cleaned):
        return None, NOT_A_WHOLE_NUMBER
    digits = cleaned.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 2:  # never hand a huge digit string to int()
        return None, OUT_OF_RANGE
    value = int(cleaned[0] + digits) if cleaned[0] == "-" else int(digits)
    if not SCALE_MIN <= value <= SCALE_MAX:
        return None, OUT_OF_RANGE
    return value, None


def _match(question: Question, raw: str, ignore_case: bool) -> str | None:
    cleaned = raw.strip()
    for value in question.choice_values():
        if cleaned == value or (ignore_case and cleaned.casefold() == value.casefold()):
            return value
    return None


def _multiple(question: Question, raw: list, ignore_case: bool) -> Parsed:
    picked: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            return None, INVALID_CHOICE
        if not item.strip():
            continue
        value = _match(question, item, ignore_case)
        if value is None:
            return None, INVALID_CHOICE
        picked.add(value)
    return [value for value in question.choice_values() if value in picked], None


def _free_text(question: Question, raw: str) -> Parsed:
    """Stored as data, never interpreted: only line endings, stray control characters
    (which some databases refuse) and invisible format characters are tidied."""
    cleaned = strip_invisible(raw, keep="".join(_KEPT_CONTROLS)).strip()
    if not cleaned:
        return None, (REQUIRED if question.required else None)
    if question.max_length is not None and len(cleaned) > question.max_length:
        return None, TOO_LONG
    return cleaned, None
