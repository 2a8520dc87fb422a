"""Help where the work is (issue 14): the columns the cohort and response uploads expect,
from the study's definition, each with a short description, and a template file to
download (the header row only, so nothing in it can be loaded by mistake).

The column names come from the importers themselves (CohortColumns, the response
importer's fixed columns and the wave's instrument), so the help and the templates can
never drift from what an upload accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from instruments.model import FREE_TEXT, MULTIPLE_CHOICE, SCALE_0_10, YES_NO, Question
from surveys.cohort.importer import CohortColumns
from surveys.models import Study, Wave
from surveys.studies import measures
from surveys.studies.instruments import wave_instrument


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str


def _language() -> str:
    return str(get_locale() or "en")[:2]


def cohort_columns(study: Study) -> list[Column]:
    """participants.csv's columns for this study, in the order of the template."""
    columns = CohortColumns.of(study)
    required = set(columns.required)
    words = {
        "participant_ref": _("The participant's reference: 1 to 64 letters, digits, hyphens "
                             "or underscores, different for each participant"),
        "site": _("Where they took part, for example the name of a Jobcentre"),
        "completed_on": _("The date they completed the intervention, like 2024-11-05 "
                          "(needed only when the status is completed)"),
        "arm": _("Which arm they are in: one of %(arms)s", arms=", ".join(study.arms or ())),
        "status": _("completed (the default when blank), dropped_out or in_progress. Only "
                    "those who completed are surveyed"),
        "language": _("en (English, the default) or cy (Welsh)"),
        "email": _("Where invitations go; leave blank if there is none"),
        "phone": _("For text messages or telephone calls; leave blank if there is none"),
    }
    by_column = {column: measure for column, _, measure in columns.baselines}
    out: list[Column] = []
    for name in columns.allowed:
        measure = by_column.get(name)
        if measure is None:
            text = words[name]
        elif measure.kind == "binary":
            text = _("%(measure)s at the end of the intervention: yes or no; blank if not "
                     "recorded", measure=measures.label(measure, _language()))
        else:
            text = _("%(measure)s at the end of the intervention: a whole number from "
                     "%(min)s to %(max)s; blank if not recorded",
                     measure=measures.label(measure, _language()),
                     min=measure.min_value if measure.min_value is not None else 0,
                     max=measure.max_value if measure.max_value is not None else 10)
        out.append(Column(name, name in required, text))
    return out


def _answer_words(question: Question) -> str:
    if question.type == SCALE_0_10:
        return _("A whole number from 0 to 10")
    if question.type == YES_NO:
        return _("yes or no")
    if question.type == MULTIPLE_CHOICE:
        return _("Any of %(values)s, separated by semicolons",
                 values=", ".join(question.choice_values()))
    if question.type == FREE_TEXT:
        return _("Text, as the client said it")
    return _("One of %(values)s", values=", ".join(question.choice_values()))


def response_columns(session: Session, wave: Wave) -> list[Column]:
    """responses.csv's columns for this wave: the fixed ones, then its questions."""
    instrument = wave_instrument(session, wave)
    language = _language()
    # The importer's FIXED columns, in its order.
    out = [
        Column("participant_ref", True, _("The participant's reference, as in the cohort")),
        Column("submitted_on", True, _("The date they answered, like 2024-11-05")),
        Column("mode", True, _("web or telephone: how the answers were collected")),
    ]
    for question in instrument.questions():
        text = question.text.get(language) or question.text.get("en") or ""
        out.append(Column(question.id, False, f"{text} – {_answer_words(question)}"
                          if text else _answer_words(question)))
    return out
