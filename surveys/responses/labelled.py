"""Labelled exports for statistics packages: a wave's responses, and a study's pairs,
as SPSS .sav and Stata .dta (pyreadstat), with the same variables as CSV.

Both exports are built once as a `LabelledTable` (variables, then rows) and written in
any format, so the .sav, the .dta, the CSV and the codebook can never disagree.

- Variable labels are the question text, value labels the answer labels, in the chosen
  language. Choices are coded 1..k in the questionnaire's order; yes/no as 1 = yes,
  0 = no (as measures store them); a multiple-choice question gives one 0/1 variable per
  choice; free text stays text (blank when missing).
- Numeric cells say why an answer is missing: `NOT_ASKED` (routing hid the question),
  `NOT_ANSWERED` (shown, left blank; for a baseline: not recorded; for a change: no
  pair), `NOT_IN_VERSION` (the instrument version the client answered had no such
  question). In .sav these are user-missing values; in .dta extended missing values
  .a, .b and .c.
- One name per variable, valid in both packages (Stata's rule is the stricter: 32
  characters of ASCII letters, digits and _, starting with a letter; no reserved word of
  either); a shortened name is listed against its source in the codebook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import Instrument, Question, text, visible_questions
from instruments.model import (
    AGREEMENT_5,
    CHANGE_3,
    FREE_TEXT,
    MULTIPLE_CHOICE,
    SCALE_0_10,
    SINGLE_CHOICE,
    YES_NO,
)
from surveys.csv_safety import safe_cell
from surveys.i18n import N_, translate
from surveys.models import Measure, Participant, Response, Study, Wave
from surveys.responses.export import question_columns
from surveys.studies import measures as study_measures
from surveys.studies.instruments import instrument as load_version
from surveys.studies.instruments import wave_instrument
from surveys.studies.waves import wave_name

FORMATS = ("csv", "sav", "dta")
NOT_IN_VERSION = -97
NOT_ASKED = -98
NOT_ANSWERED = -99
MISSING_CODES = (NOT_IN_VERSION, NOT_ASKED, NOT_ANSWERED)
STATA_MISSING = {NOT_ASKED: "a", NOT_ANSWERED: "b", NOT_IN_VERSION: "c"}

MISSING_LABELS = {
    NOT_IN_VERSION: N_("Not in this instrument version"),
    NOT_ASKED: N_("Not asked (routing)"),
    NOT_ANSWERED: N_("Not answered"),
}
NOT_RECORDED = N_("Not recorded")
NO_PAIR = N_("No pair (baseline or follow-up missing)")
SELECTED = N_("Selected")
NOT_SELECTED = N_("Not selected")

# Limits of the formats (ReadStat refuses longer labels in .dta; SPSS cuts them).
STATA_NAME = 32
STATA_LABEL_CHARS = 80
SAV_LABEL_BYTES = 256
SAV_VALUE_LABEL_BYTES = 120
SAV_FILE_LABEL_BYTES = 64
RESERVED = {
    # SPSS (case-insensitive)
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    # Stata
    "byte", "double", "float", "if", "in", "int", "long", "using", "strl",
}


class ExportError(ValueError):
    """Input that cannot be exported (one line for the user)."""


@dataclass(frozen=True)
class Variable:
    name: str
    source: str  # what it holds: a question id, "question=choice", or a field of the row
    label: str  # the full text; writers shorten it to what the format allows
    kind: str  # "numeric" | "text"
    values: dict[int, str] = field(default_factory=dict)  # value labels of valid values
    missing: dict[int, str] = field(default_factory=dict)  # missing code -> its label
    question: Question | None = None
    measure: str | None = None
    versions: tuple[str, ...] = ()
    routing: str = ""
    wanted: str = ""  # the name asked for, before the naming rules (the codebook shows it)


@dataclass
class LabelledTable:
    variables: list[Variable]
    rows: list[list[object]]
    file_label: str
    basename: str


# Names ----------------------------------------------------------------------------------


def variable_name(source: str, taken: set[str], avoid: frozenset[str] = frozenset()) -> str:
    """A name both Stata and SPSS accept, unique (case-insensitively) among `taken`, and
    not one of `avoid` (names other variables will want: questions keep their ids)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", source) or "v"
    if not name[0].isalpha():
        name = "v_" + name
    if name.lower() in RESERVED:
        name += "_"
    base, candidate, number = name[:STATA_NAME], name[:STATA_NAME], 1
    while candidate.lower() in taken or candidate.lower() in avoid:
        number += 1
        suffix = f"_{number}"
        candidate = base[: STATA_NAME - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _variable(wanted: str, taken: set[str], *args, avoid: frozenset[str] = frozenset(),
              **kwargs) -> Variable:
    return Variable(variable_name(wanted, taken, avoid), *args, wanted=wanted, **kwargs)


def shorten(label: str, *, chars: int | None = None, utf8_bytes: int | None = None) -> str:
    """`label` cut to a format's limit at a character boundary, ending in "…" when cut."""
    label = " ".join(label.split())

    def fits(value: str) -> bool:
        return ((chars is None or len(value) <= chars)
                and (utf8_bytes is None or len(value.encode("utf-8")) <= utf8_bytes))

    if fits(label):
        return label
    cut = label
    while cut and not fits(cut + "…"):
        cut = cut[:-1]
    return cut.rstrip() + "…"


# Routing, as the codebook shows it ------------------------------------------------------


def condition_text(condition) -> str:
    from instruments.model import AllOf, AnyOf, Equals, In, Includes

    match condition:
        case Equals(question, value):
            return f"{question} = {value}"
        case In(question, values):
            return f"{question} in ({', '.join(str(v) for v in values)})"
        case Includes(question, value):
            return f"{question} includes {value}"
        case AllOf(parts):
            return " and ".join(f"({condition_text(p)})" for p in parts)
        case AnyOf(parts):
            return " or ".join(f"({condition_text(p)})" for p in parts)
    return ""


def routing_text(instrument: Instrument, question: Question) -> str:
    parts = [c for c in (instrument.page_of(question.id).show_if, question.show_if) if c]
    return " and ".join(condition_text(c) for c in parts)


# Answers as codes ---------------------------------------------------------------------


def choice_codes(question: Question) -> dict[str, int]:
    """Stored value -> numeric code: yes/no as 1/0, other choices 1..k in their order."""
    if question.type == YES_NO:
        return {"yes": 1, "no": 0}
    return {choice.value: code for code, choice in enumerate(question.choices, start=1)}


def _missing(language: str, only: str | None = None) -> dict[int, str]:
    """The missing codes of an answer, or `only` NOT_ANSWERED with its own label (a
    baseline not recorded, a change without a pair: routing does not apply there)."""
    if only is not None:
        return {NOT_ANSWERED: translate(only, language)}
    return {code: translate(MISSING_LABELS[code], language) for code in MISSING_CODES}


def question_variables(question: Question, instrument: Instrument, versions: tuple[str, ...],
                       language: str, taken: set[str], measure: str | None,
                       avoid: frozenset[str] = frozenset()) -> list[Variable]:
    label = text(question.text, language)
    common = {"question": question, "measure": measure, "versions": versions,
              "routing": routing_text(instrument, question)}
    if question.type == FREE_TEXT:
        return [_variable(question.id, taken, question.id, label, "text",
                         **common)]
    if question.type == MULTIPLE_CHOICE:
        ticks = {1: translate(SELECTED, language), 0: translate(NOT_SELECTED, language)}
        return [_variable(f"{question.id}_{choice.value}", taken,
                         f"{question.id}={choice.value}",
                         f"{label}: {text(choice.label, language)}", "numeric", ticks,
                         _missing(language), avoid=avoid, **common)
                for choice in question.choices]
    if question.type == SCALE_0_10:
        values = {point: text(anchor, language)
                  for point, anchor in sorted(question.scale_labels.items())}
    elif question.type in (AGREEMENT_5, CHANGE_3, YES_NO, SINGLE_CHOICE):
        codes = choice_codes(question)
        values = {codes[c.value]: text(c.label, language) for c in question.choices}
    else:  # a type this module does not know yet: keep it as text rather than lose it
        return [_variable(question.id, taken, question.id, label, "text",
                         **common)]
    return [_variable(question.id, taken, question.id, label, "numeric", values,
                     _missing(language), **common)]


def answer_cells(question_id: str, variables: list[Variable], instrument: Instrument,
                 shown: set[str], answers: dict) -> list[object]:
    """The cells of one question's variables for one response."""
    present = {q.id: q for q in instrument.questions()}
    if question_id not in present:
        reason: int | None = NOT_IN_VERSION
    elif question_id not in shown:
        reason = NOT_ASKED
    elif answers.get(question_id) in (None, "", [], ()):
        reason = NOT_ANSWERED
    else:
        reason = None
    if variables[0].kind == "text":
        answer = answers.get(question_id)
        return ["" if reason is not None or answer is None else str(answer)]
    if reason is not None:
        return [reason] * len(variables)
    answer = answers[question_id]
    question = variables[0].question
    if question.type == MULTIPLE_CHOICE:
        ticked = set(answer if isinstance(answer, list | tuple) else [answer])
        return [1 if v.source.split("=", 1)[1] in ticked else 0 for v in variables]
    if question.type == SCALE_0_10:
        return [int(answer)]
    return [choice_codes(question)[str(answer)]]


# Responses of a wave ------------------------------------------------------------------


def _submitted(session: Session, wave: Wave) -> list[Response]:
    return list(session.scalars(
        select(Response)
        .where(Response.wave_id == wave.id, Response.status == "submitted")
        .order_by(Response.submitted_on, Response.participant_ref, Response.id)))


def _merged_question(instruments: list[Instrument], question_id: str) -> tuple[Question,
                                                                             Instrument]:
    """The question as the newest version asks it, with any choice only an older version
    offered added at the end (so every stored value has a code)."""
    having = [i for i in instruments if any(q.id == question_id for q in i.questions())]
    newest = having[0]
    question = newest.question(question_id)
    if question.type in (SINGLE_CHOICE, MULTIPLE_CHOICE, AGREEMENT_5, CHANGE_3):
        choices = list(question.choices)
        for other in having[1:]:
            known = {c.value for c in choices}
            choices += [c for c in other.question(question_id).choices if c.value not in known]
        if len(choices) != len(question.choices):
            from dataclasses import replace

            question = replace(question, choices=tuple(choices))
    return question, newest


def _by_age(instruments: list[Instrument]) -> list[Instrument]:
    from instruments import instrument_versions

    def age(instrument: Instrument) -> int:
        try:
            versions = instrument_versions(instrument.name)
        except LookupError:
            return 0
        return versions.index(instrument.version) if instrument.version in versions else -1

    return sorted(instruments, key=age, reverse=True)


def wave_instruments(session: Session, wave: Wave, responses: Iterable[Response] = (),
                     *, with_current: bool = False) -> list[Instrument]:
    """The versions the responses answered (newest first); the current questionnaire when
    there are none, or always with `with_current` (the codebook: what exports will hold)."""
    keys = {(r.instrument, r.instrument_version) for r in responses}
    found = [load_version(session, name, version) for name, version in sorted(keys)]
    if with_current or not found:
        current = wave_instrument(session, wave)
        if (current.name, current.version) not in keys:
            found.append(current)
    return _by_age(found)


def _measure_keys(study: Study) -> dict[str, str]:
    return {m.key: m.key for m in study.measures}


def response_variables(study: Study, wave: Wave, instruments: list[Instrument],
                       language: str) -> list[Variable]:
    taken: set[str] = set()
    fixed = [
        ("participant_ref", N_("Participant reference")),
        ("submitted_on", N_("Date submitted (YYYY-MM-DD)")),
        ("mode", N_("How it was answered (web or telephone)")),
        ("instrument_version", N_("Instrument version answered")),
        ("wave", N_("Wave")),
    ]
    variables = [_variable(name, taken, name, translate(label, language), "text")
                 for name, label in fixed]
    measures = _measure_keys(study)
    ids = question_columns(instruments)
    avoid = frozenset(i.lower() for i in ids)
    for question_id in ids:
        question, newest = _merged_question(instruments, question_id)
        versions = tuple(i.version for i in instruments
                         if any(q.id == question_id for q in i.questions()))
        variables += question_variables(question, newest, versions, language, taken,
                                        measures.get(question_id), avoid)
    return variables


def _grouped(variables: list[Variable]) -> list[tuple[str, list[Variable]]]:
    """Question variables grouped by question id, in order."""
    groups: list[tuple[str, list[Variable]]] = []
    for variable in variables:
        if variable.question is None:
            continue
        if groups and groups[-1][0] == variable.question.id:
            groups[-1][1].append(variable)
        else:
            groups.append((variable.question.id, [variable]))
    return groups


def responses_table(session: Session, study: Study, wave: Wave, *,
                    language: str = "en") -> LabelledTable:
    responses = _submitted(session, wave)
    instruments = wave_instruments(session, wave, responses)
    variables = response_variables(study, wave, instruments, language)
    groups = _grouped(variables)
    by_version = {(i.name, i.version): i for i in instruments}
    rows: list[list[object]] = []
    for response in responses:
        instrument = by_version[(response.instrument, response.instrument_version)]
        answers = response.answers or {}
        shown = {q.id for q in visible_questions(instrument, answers)}
        row: list[object] = [
            response.participant_ref or "",
            response.submitted_on.isoformat() if response.submitted_on else "",
            response.mode, response.instrument_version, wave.code,
        ]
        for question_id, group in groups:
            row += answer_cells(question_id, group, instrument, shown, answers)
        rows.append(row)
    versions = ", ".join(sorted({i.version for i in instruments}))
    names = ", ".join(sorted({i.name for i in instruments}))
    label = f"{study.slug} {wave.code}: {names} {versions}"
    return LabelledTable(variables, rows, label, f"responses-{study.slug}-{wave.code}")


# Pairs of a follow-up wave --------------------------------------------------------------


def _measure_question(instruments: list[Instrument], key: str) -> Question | None:
    for instrument in instruments:
        for question in instrument.questions():
            if question.id == key:
                return question
    return None


def _measure_values(measure: Measure, question: Question | None, language: str
                    ) -> dict[int, str]:
    if measure.kind == "binary":
        if question is not None and question.type == YES_NO:
            codes = choice_codes(question)
            return {codes[c.value]: text(c.label, language) for c in question.choices}
        return {1: translate(N_("Yes"), language), 0: translate(N_("No"), language)}
    if question is not None and question.type == SCALE_0_10:
        return {p: text(a, language) for p, a in sorted(question.scale_labels.items())}
    return {}


def pair_variables(study: Study, wave: Wave, instruments: list[Instrument],
                   language: str) -> list[Variable]:
    taken: set[str] = set()
    fixed = [("participant_ref", N_("Participant reference")), ("site", N_("Site"))]
    if study.arms:
        fixed.append(("arm", N_("Arm")))
    fixed += [("instrument_version", N_("Instrument version answered")),
              ("wave", N_("Follow-up wave"))]
    variables = [_variable(name, taken, name, translate(label, language), "text")
                 for name, label in fixed]
    versions = tuple(i.version for i in instruments)
    for measure in study.measures:
        question = _measure_question(instruments, measure.key)
        name = study_measures.label(measure, language)
        values = _measure_values(measure, question, language)
        routing = ""
        for instrument in instruments:
            if question is not None and question.id in {q.id for q in instrument.questions()}:
                routing = routing_text(instrument, question)
                break
        common = {"measure": measure.key, "versions": versions, "routing": routing}
        if measure.baseline:
            variables.append(_variable(f"{measure.key}_base", taken, f"{measure.key} baseline",
                translate(N_("%(measure)s: baseline"), language, measure=name), "numeric",
                values, _missing(language, NOT_RECORDED), **common))
        variables.append(_variable(f"{measure.key}_fu", taken, f"{measure.key} {wave.code}",
            translate(N_("%(measure)s: follow-up (%(wave)s)"), language, measure=name,
                      wave=wave_name(wave.code, wave.label, language)),
            "numeric", values, _missing(language), question=question, **common))
        if measure.baseline:
            if measure.kind == "binary":
                label = N_("%(measure)s: change towards the better answer")
                change = {1: translate(N_("Improved"), language),
                          0: translate(N_("No change"), language),
                          -1: translate(N_("Deteriorated"), language)}
            else:
                label, change = N_("%(measure)s: change (follow-up minus baseline)"), {}
            variables.append(_variable(f"{measure.key}_chg", taken, f"{measure.key} change",
                translate(label, language, measure=name), "numeric", change,
                _missing(language, NO_PAIR), **common))
    return variables


def asks_a_measure(study: Study, instruments: list[Instrument]) -> bool:
    return any(_measure_question(instruments, m.key) is not None for m in study.measures)


def pairs_table(session: Session, study: Study, wave: Wave, *,
                language: str = "en") -> LabelledTable:
    """One row per linked response of the follow-up wave: per measure its baseline,
    follow-up and change (towards the better value, for binary measures)."""
    rows_in = session.execute(
        select(Response, Participant.ref, Participant.site, Participant.arm)
        .join(Participant, Participant.id == Response.participant_id)
        .where(Response.wave_id == wave.id, Response.status == "submitted")
        .order_by(Participant.ref, Response.id)).all()
    instruments = wave_instruments(session, wave, [r[0] for r in rows_in])
    if not asks_a_measure(study, instruments):
        raise ExportError(f"Wave '{wave.code}' of study '{study.slug}' asks none of the study's "
                          "measures, so it has no pairs.")
    variables = pair_variables(study, wave, instruments, language)
    by_version = {(i.name, i.version): i for i in instruments}
    rows: list[list[object]] = []
    for response, ref, site, arm in rows_in:
        instrument = by_version[(response.instrument, response.instrument_version)]
        answers = response.answers or {}
        shown = {q.id for q in visible_questions(instrument, answers)}
        present = {q.id for q in instrument.questions()}
        row: list[object] = [ref, site or ""]
        if study.arms:
            row.append(arm or "")
        row += [response.instrument_version, wave.code]
        for measure in study.measures:
            base = getattr(response, f"baseline_{measure.slot}")
            score = getattr(response, f"score_{measure.slot}")
            if score is None:
                score_cell = (NOT_IN_VERSION if measure.key not in present
                              else NOT_ASKED if measure.key not in shown else NOT_ANSWERED)
            else:
                score_cell = score
            if measure.baseline:
                row.append(NOT_ANSWERED if base is None else base)
            row.append(score_cell)
            if measure.baseline:
                row.append(NOT_ANSWERED if base is None or score is None
                           else change(measure, base, score))
        rows.append(row)
    label = f"{study.slug} pairs {wave.code}: " + ", ".join(
        sorted({f"{i.name} {i.version}" for i in instruments}))
    return LabelledTable(variables, rows, label, f"pairs-{study.slug}-{wave.code}")


def change(measure: Measure, base: int, score: int) -> int:
    """Scale: follow-up minus baseline. Binary: 1 moved to the better value, -1 away from
    it, 0 stayed."""
    if measure.kind != "binary":
        return score - base
    better = study_measures.better_value(measure)
    return (score == better) - (base == better)


# Writers ------------------------------------------------------------------------------


def _frame(table: LabelledTable, stata: bool):
    import pandas as pd

    columns: dict[str, object] = {}
    for index, variable in enumerate(table.variables):
        cells = [row[index] for row in table.rows]
        if variable.kind == "text":
            columns[variable.name] = pd.Series(cells, dtype=object)
        elif stata and any(cell in STATA_MISSING for cell in cells):
            columns[variable.name] = pd.Series(
                [STATA_MISSING.get(cell, cell) for cell in cells], dtype=object)
        else:
            columns[variable.name] = pd.Series(cells, dtype="float64")
    return pd.DataFrame(columns)


def write_sav(table: LabelledTable, path: Path) -> None:
    import pyreadstat

    labels = {v.name: shorten(v.label, utf8_bytes=SAV_LABEL_BYTES) for v in table.variables}
    value_labels = {
        v.name: {code: shorten(label, utf8_bytes=SAV_VALUE_LABEL_BYTES)
                 for code, label in {**v.values, **v.missing}.items()}
        for v in table.variables if v.kind == "numeric" and (v.values or v.missing)}
    missing = {v.name: list(v.missing) for v in table.variables
               if v.kind == "numeric" and v.missing}
    pyreadstat.write_sav(_frame(table, stata=False), str(path),
                         file_label=shorten(table.file_label, utf8_bytes=SAV_FILE_LABEL_BYTES),
                         column_labels=labels, variable_value_labels=value_labels,
                         missing_ranges=missing)


def write_dta(table: LabelledTable, path: Path) -> None:
    import pyreadstat

    labels = {v.name: shorten(v.label, chars=STATA_LABEL_CHARS) for v in table.variables}
    value_labels = {
        v.name: {**v.values, **{STATA_MISSING[code]: label for code, label in v.missing.items()}}
        for v in table.variables if v.kind == "numeric" and (v.values or v.missing)}
    missing = {v.name: [STATA_MISSING[code] for code in v.missing]
               for v in table.variables if v.kind == "numeric" and v.missing}
    pyreadstat.write_dta(_frame(table, stata=True), str(path),
                         file_label=shorten(table.file_label, chars=STATA_LABEL_CHARS),
                         column_labels=labels, variable_value_labels=value_labels,
                         missing_user_values=missing)


def pairs_csv(table: LabelledTable) -> str:
    """The pairs as CSV: the same variables and codes, missing cells blank. Text cells are
    made spreadsheet-safe; numbers (a change of -3) are written as numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([v.name for v in table.variables])
    for row in table.rows:
        writer.writerow([
            ("" if value in MISSING_CODES else value) if v.kind == "numeric" else safe_cell(value)
            for v, value in zip(table.variables, row, strict=True)])
    return out.getvalue()


def write(table: LabelledTable, fmt: str) -> bytes:
    """The table as a file's bytes (.sav and .dta go through a temporary file: ReadStat
    writes to a path)."""
    import tempfile

    if fmt == "csv":
        return pairs_csv(table).encode("utf-8")
    writer = {"sav": write_sav, "dta": write_dta}.get(fmt)
    if writer is None:
        raise ExportError(f"Unknown format '{fmt}' (use one of: {', '.join(FORMATS)}).")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        writer(table, path)
        return path.read_bytes()
