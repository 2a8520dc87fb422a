"""Row-level export of a wave's submitted responses, for researchers (CSV).

Columns: participant_ref, submitted_on, mode, instrument_version, then one
column per question id of the instrument version(s) the responses answered,
in the questionnaire's order (the newest version's order first; a question
only an older version asked comes after). Multiple-choice answers are joined
with ";" as the response import reads them, so an export can be edited and
loaded again. Unlinked responses (imported with an unknown reference) are
included: nothing a client said is left out. Every cell is made safe for
spreadsheets (surveys/csv_safety.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import Instrument, instrument_versions
from instruments.answers import IMPORT_SEPARATOR
from surveys.csv_safety import write_csv
from surveys.models import Response, Wave
from surveys.studies.instruments import instrument as load_version
from surveys.studies.instruments import wave_instrument

FIXED = ("participant_ref", "submitted_on", "mode", "instrument_version")


def _submitted(session: Session, wave: Wave) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .where(Response.wave_id == wave.id, Response.status == "submitted")
            .order_by(Response.submitted_on, Response.participant_ref, Response.id)
        )
    )


def question_columns(instruments: list[Instrument]) -> list[str]:
    """Question ids of these versions, newest version's order first, no repeats."""
    def age(instrument: Instrument) -> int:
        try:
            versions = instrument_versions(instrument.name)
        except LookupError:  # kept with a study: versions in the order they were kept
            return 0
        return versions.index(instrument.version) if instrument.version in versions else -1

    ordered = sorted(instruments, key=age, reverse=True)
    columns: list[str] = []
    for instrument in ordered:
        for question in instrument.questions():
            if question.id not in columns:
                columns.append(question.id)
    return columns


def cell(value: object) -> object:
    if isinstance(value, list | tuple):
        return IMPORT_SEPARATOR.join(str(v) for v in value)
    return value


def export_rows(session: Session, wave: Wave) -> Iterator[list[object]]:
    """The header, then one row per submitted response (cells not yet made safe)."""
    responses = _submitted(session, wave)
    versions = {(r.instrument, r.instrument_version) for r in responses}
    instruments = [load_version(session, name, version) for name, version in sorted(versions)]
    if not instruments:  # no responses yet: the columns the current questionnaire would fill
        instruments = [wave_instrument(session, wave)]
    questions = question_columns(instruments)
    yield [*FIXED, *questions]
    for response in responses:
        answers = response.answers or {}
        yield [
            response.participant_ref or "",
            response.submitted_on.isoformat() if response.submitted_on else "",
            response.mode,
            response.instrument_version,
            *(cell(answers.get(qid)) for qid in questions),
        ]


def export_csv(session: Session, wave: Wave) -> str:
    """The export as CSV text, every cell spreadsheet-safe."""
    return write_csv(export_rows(session, wave))
