"""A study's measures: how their values are stored, read from files and shown.

Values live in numbered slot columns (Measure.slot): participants.baseline_<slot> and
responses.baseline_<slot> / score_<slot> (decision 0009). A scale value is stored as the
whole number; a binary one as 1 (yes) or 0 (no).
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement

from surveys.models import Measure, Participant, Response

KINDS = ("scale", "binary")
BINARY_VALUES = {"yes": 1, "no": 0}
_WHOLE = re.compile(r"-?[0-9]+")

# The EHD's three 0-10 scores (contracts section 2): the measures of a study created
# without a definition, in slots 1..3.
EHD_MEASURES = (
    {"key": "workability", "label": {"en": "Work ability (0 to 10)",
                                     "cy": "Gallu i weithio (0 i 10)"}, "reliable_change": 2},
    {"key": "confidence", "label": {"en": "Confidence about getting into work (0 to 10)",
                                    "cy": "Hyder ynghylch cael gwaith (0 i 10)"}},
    {"key": "importance", "label": {"en": "Importance of getting into work (0 to 10)",
                                    "cy": "Pwysigrwydd cael gwaith (0 i 10)"}},
)


def ehd_measures() -> list[Measure]:
    return [
        Measure(key=m["key"], position=slot, slot=slot, kind="scale", better="higher",
                min_value=0, max_value=10, reliable_change=m.get("reliable_change"),
                baseline=True, label=dict(m["label"]))
        for slot, m in enumerate(EHD_MEASURES, start=1)
    ]


def cohort_column(measure: Measure) -> str:
    """The participants.csv column holding the measure's baseline."""
    return f"{measure.key}_end"


def participant_baseline(measure: Measure) -> ColumnElement:
    return getattr(Participant, f"baseline_{measure.slot}")


def response_pair(measure: Measure) -> tuple[ColumnElement, ColumnElement]:
    """(baseline, follow-up) columns of a linked response for this measure."""
    return (getattr(Response, f"baseline_{measure.slot}"),
            getattr(Response, f"score_{measure.slot}"))


def parse_value(measure: Measure, cell: str) -> tuple[int | None, str | None]:
    """A file cell as the stored value, or a one-line problem. Blank is None (not recorded)."""
    text = cell.strip()
    if not text:
        return None, None
    if measure.kind == "binary":
        value = BINARY_VALUES.get(text.lower())
        if value is None:
            return None, f"must be yes or no (got {text[:20]!r})"
        return value, None
    low, high = measure.min_value or 0, measure.max_value if measure.max_value is not None else 10
    if len(text) > 6 or not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        return None, f"must be a whole number from {low} to {high} (got {text[:20]!r})"
    return int(text), None


def format_value(measure: Measure, value: int | None) -> str:
    """The stored value as written in files: blank, a number, or yes/no."""
    if value is None:
        return ""
    if measure.kind == "binary":
        return "yes" if value else "no"
    return str(value)


def better_value(measure: Measure) -> int:
    """Binary: the stored value (1 yes, 0 no) that counts as better."""
    return BINARY_VALUES[measure.better] if measure.kind == "binary" else 1


def higher_is_better(measure: Measure) -> bool:
    if measure.kind == "binary":
        return measure.better == "yes"
    return measure.better != "lower"


def label(measure: Measure, language: str = "en") -> str:
    labels = measure.label or {}
    return labels.get(language) or labels.get("en") or measure.key


def measure_by_key(measures: list[Measure], key: str) -> Measure | None:
    return next((m for m in measures if m.key == key), None)
