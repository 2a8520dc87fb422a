"""Questionnaire definitions: instruments are data (YAML + a JSON Schema).

Pure Python: no Flask, no SQLAlchemy. See instruments/README.md for the format.
"""

from instruments.answers import (
    ERROR_CODES,
    parse_answer,
    parse_import_cell,
    parse_response,
)
from instruments.errors import InstrumentError, InstrumentNotFound
from instruments.loader import (
    InstrumentLibrary,
    available_instruments,
    instrument_versions,
    load_file,
    load_instrument,
    load_text,
)
from instruments.model import (
    ANSWER_TYPES,
    Choice,
    Condition,
    Instrument,
    Page,
    Question,
    text,
)
from instruments.routing import clean_answers, is_visible, visible_pages, visible_questions

__all__ = [
    "ANSWER_TYPES",
    "ERROR_CODES",
    "Choice",
    "Condition",
    "Instrument",
    "InstrumentError",
    "InstrumentLibrary",
    "InstrumentNotFound",
    "Page",
    "Question",
    "available_instruments",
    "clean_answers",
    "instrument_versions",
    "is_visible",
    "load_file",
    "load_instrument",
    "load_text",
    "parse_answer",
    "parse_import_cell",
    "parse_response",
    "text",
    "visible_pages",
    "visible_questions",
]
