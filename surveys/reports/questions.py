"""Tables of a wave's answers, built from the instrument itself.

Every question with fixed answers gets a table of how often each answer was given,
its base being the respondents who were routed to the question and answered it; a
question added to an instrument shows up here without any code. Questions on one page
that share their answers form one grid (as the published tables group them). A question
routed from an earlier one-answer question (e.g. "did the steps help?" after "which
steps did you take?") also gets a table of its answers by that earlier answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from instruments import Instrument, Question, text, visible_questions
from instruments.errors import InstrumentError
from instruments.loader import built_in_choices
from instruments.model import (
    BUILT_IN_CHOICE_TYPES,
    FREE_TEXT,
    MULTIPLE_CHOICE,
    ONE_CHOICE_TYPES,
    SCALE_0_10,
    SCALE_MAX,
    SCALE_MIN,
    Equals,
    In,
)
from surveys.i18n import N_
from surveys.models import Wave
from surveys.reports import queries
from surveys.reports.breakdowns import NOT_LINKED, Breakdown, group_value
from surveys.reports.build import Category, GridRow, Group, Net, crosstab, frequency, grid, t
from surveys.reports.table import Table
from surveys.studies.instruments import instrument as instrument_version
from surveys.studies.instruments import wave_instrument

OTHER = "other_value"

# Nets of answers, applied to any question whose answers include all the members.
NETS = (
    (("strongly_agree", "agree"), N_("Agree or strongly agree")),
    (("disagree", "strongly_disagree"), N_("Disagree or strongly disagree")),
    (("extremely_satisfied", "satisfied"), N_("Extremely satisfied or satisfied")),
    (("dissatisfied", "extremely_dissatisfied"), N_("Dissatisfied or extremely dissatisfied")),
)


def _instrument(session: Session, name: str, version: str | None) -> Instrument | None:
    try:
        return instrument_version(session, name, version)
    except (InstrumentError, LookupError):
        return None


def dependencies(instrument: Instrument, question: Question) -> list[str]:
    """Every question whose answer decides whether `question` is asked (transitively)."""
    found: list[str] = []
    todo = [question]
    while todo:
        current = todo.pop()
        for condition in (current.show_if, instrument.page_of(current.id).show_if):
            if condition is None:
                continue
            for qid in condition.question_ids():
                if qid not in found and qid != question.id:
                    found.append(qid)
                    todo.append(instrument.question(qid))
    return found


def router(instrument: Instrument, question: Question) -> tuple[Question, tuple[str, ...]] | None:
    """The one-answer question that routes to `question`, and the answers that do, if any."""
    for condition in (question.show_if, instrument.page_of(question.id).show_if):
        if isinstance(condition, Equals | In):
            parent = instrument.question(condition.question)
            values = (condition.value,) if isinstance(condition, Equals) else condition.values
            if parent.type in ONE_CHOICE_TYPES:
                return parent, tuple(str(v) for v in values)
    return None


def categories(question: Question, language: str) -> list[Category]:
    if question.type == SCALE_0_10:
        labels = {k: text(v, language) for k, v in question.scale_labels.items()}
        return [
            Category(str(score), f"{score} – {labels[score]}" if score in labels else str(score))
            for score in range(SCALE_MIN, SCALE_MAX + 1)
        ]
    return [Category(c.value, text(c.label, language)) for c in question.choices]


def nets(question: Question, language: str) -> list[Net]:
    values = set(question.choice_values())
    return [
        Net(f"net_{'_'.join(members)}", t(label, language), members)
        for members, label in NETS
        if set(members) <= values
    ]


@dataclass
class QuestionCounts:
    """Answers to one question, per breakdown group and per routing answer."""

    question: Question
    by_group: dict[Any, Counter] = field(default_factory=lambda: defaultdict(Counter))
    bases: Counter = field(default_factory=Counter)  # respondents answering, per group
    not_answered: Counter = field(default_factory=Counter)  # routed but blank, per group
    by_route: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    route_bases: Counter = field(default_factory=Counter)

    def total(self) -> Counter:
        out: Counter = Counter()
        for counts in self.by_group.values():
            out.update(counts)
        return out


def count_question(
    session: Session,
    wave: Wave,
    instrument: Instrument,
    question: Question,
    dim: Subquery | None,
    groups: list | None = None,
) -> QuestionCounts:
    """`groups`: queries.answer_groups of the question and its dependencies, if read already."""
    deps = dependencies(instrument, question)
    route = router(instrument, question)
    result = QuestionCounts(question)
    known = set(question.choice_values()) if question.type != SCALE_0_10 else {
        str(s) for s in range(SCALE_MIN, SCALE_MAX + 1)
    }
    if groups is None:
        groups = queries.answer_groups(session, wave, [question.id, *deps], dim)
    # Rows repeat the same version and answers across breakdown groups (97 sites): the
    # instrument and its routing walk are worked out once per distinct pair.
    asked: dict[tuple, bool] = {}
    versions: dict[str | None, Instrument] = {}
    ids = [question.id, *deps]
    for group, version, answers, n in groups:
        # The rows of one question all answer the same ids: their values make the key.
        key = (version, *[tuple(v) if isinstance(v, list) else v
                          for v in map(answers.get, ids)])
        if key not in asked:
            if version not in versions:
                versions[version] = _instrument(session, instrument.name, version) or instrument
            asked[key] = question.id in {
                q.id for q in visible_questions(versions[version], answers)}
        if not asked[key]:
            continue
        answer = answers.get(question.id)
        if answer is None:
            result.not_answered[group] += n
            continue
        given = answer if isinstance(answer, list) else [answer]
        given = [str(v) if str(v) in known else OTHER for v in given]
        result.bases[group] += n
        route_value = str(answers.get(route[0].id)) if route else None
        if route_value is not None:
            result.route_bases[route_value] += n
        for value in dict.fromkeys(given):
            result.by_group[group][value] += n
            if route_value is not None:
                result.by_route[route_value][value] += n
    return result


def _with_other(cats: list[Category], counts: Counter, language: str) -> list[Category]:
    if counts.get(OTHER):
        return [*cats, Category(OTHER, t(N_("Other answers (from earlier versions)"),
                                         language))]
    return cats


def _base_text(question: Question, routed: bool, language: str, n: int) -> str:
    if routed:
        return t(N_("Base: the {n} respondents who were routed to this question and answered "
                    "it."), language, n=n)
    return t(N_("Base: the {n} respondents who answered this question."), language, n=n)


def _routed(instrument: Instrument, question: Question) -> bool:
    return bool(dependencies(instrument, question))


def question_table(
    wave: Wave,
    instrument: Instrument,
    counts: QuestionCounts,
    language: str,
    breakdown: Breakdown | None,
) -> Table:
    question = counts.question
    total = counts.total()
    cats = _with_other(categories(question, language), total, language)
    title = text(question.text, language)
    routed = _routed(instrument, question)
    multiple = question.type == MULTIPLE_CHOICE
    base = sum(counts.bases.values())
    if breakdown is None:
        return frequency(
            f"{wave.code}-{question.id}", title, t(N_("Answer"), language), cats, total,
            language=language, base_text=_base_text(question, routed, language, base),
            nets=nets(question, language), multiple=multiple,
            base=base if multiple else None, not_answered=sum(counts.not_answered.values()),
        )
    groups = breakdown.groups([*counts.bases, *counts.by_group], NOT_LINKED)
    cells = {
        (g.key, category): n
        for g in groups
        for category, n in counts.by_group.get(group_value(g), Counter()).items()
    }
    return crosstab(
        f"{wave.code}-{question.id}", title, t(N_("Answer"), language), cats, groups, cells,
        language=language, base_text=_base_text(question, routed, language, base),
        nets=nets(question, language), multiple=multiple,
        bases={g.key: counts.bases.get(group_value(g), 0) for g in groups} if multiple else None,
    )


def routed_table(
    wave: Wave, instrument: Instrument, counts: QuestionCounts, language: str
) -> Table | None:
    """Answers by the earlier answer that routed respondents here (when more than one did)."""
    question = counts.question
    route = router(instrument, question)
    if route is None or len(route[1]) < 2:
        return None
    parent, values = route
    labels = {c.value: text(c.label, language) for c in parent.choices}
    groups = [Group(v, labels.get(v, v)) for v in values]
    cats = _with_other(categories(question, language), counts.total(), language)
    cells = {(v, c): n for v in values for c, n in counts.by_route.get(v, Counter()).items()}
    multiple = question.type == MULTIPLE_CHOICE
    return crosstab(
        f"{wave.code}-{question.id}-by-{parent.id}",
        t(N_("{question} – by answer to: {earlier}"), language,
          question=text(question.text, language), earlier=text(parent.text, language)),
        t(N_("Answer"), language), cats, groups, cells, language=language,
        base_text=t(N_("Base: the {n} respondents routed to this question who answered it, by "
                       "their earlier answer."), language, n=sum(counts.route_bases.values())),
        nets=nets(question, language), multiple=multiple,
        bases={v: counts.route_bases.get(v, 0) for v in values} if multiple else None,
        all_label=t(N_("All routed"), language),
    )


def _grid_label_set(question: Question) -> tuple:
    return tuple((c.value, tuple(sorted(c.label.items()))) for c in question.choices)


def page_units(instrument: Instrument) -> Iterator[tuple[str, list[Question]]]:
    """Questions to tabulate, page by page: a grid when several share their answers."""
    for page in instrument.pages:
        tabulated = [q for q in page.questions if q.type != FREE_TEXT]
        by_answers: dict[tuple, list[Question]] = defaultdict(list)
        for q in tabulated:
            if q.type in ONE_CHOICE_TYPES:
                by_answers[(q.type, tuple(q.choice_values()))].append(q)
        for q in tabulated:
            same = by_answers.get((q.type, tuple(q.choice_values())), [])
            if len(same) >= 2:
                if q is same[0]:
                    yield page.id, same
            else:
                yield page.id, [q]


def grid_table(
    wave: Wave, instrument: Instrument, page_id: str, counted: list[QuestionCounts],
    language: str,
) -> Table:
    first = counted[0].question
    if len({_grid_label_set(c.question) for c in counted}) == 1 or first.type not in (
        BUILT_IN_CHOICE_TYPES
    ):
        cats = categories(first, language)
    else:
        cats = [Category(c.value, text(c.label, language))
                for c in built_in_choices()[first.type]]
    page = instrument.page(page_id)
    title = text(page.title, language) if page.title else text(first.text, language)
    routed = _routed(instrument, first)
    items = [
        GridRow(c.question.id, text(c.question.text, language), c.total(),
                sum(c.not_answered.values()))
        for c in counted
    ]
    bases = [sum(c.bases.values()) for c in counted]
    n = bases[0] if len(set(bases)) == 1 else None
    if n is None:
        base_text = t(N_("Base: respondents who answered each question (see the Base column)."),
                      language)
    else:
        base_text = _base_text(first, routed, language, n)
    return grid(f"{wave.code}-{page_id}", title, t(N_("Statement"), language), cats, items,
                language=language, base_text=base_text, nets=nets(first, language))


def question_sets(instrument: Instrument) -> list[list[str]]:
    """Every question of the questionnaire with the questions that decide whether it is
    asked: the answers the report counts together (queries.answer_groups_many)."""
    return [[q.id, *dependencies(instrument, q)]
            for _, questions in page_units(instrument) for q in questions]


def store_study_answer_sets(session: Session, study) -> None:
    """Keep each wave's routed answers counted together from now on (reports.kept), as a
    study's first report would: for a study loaded in bulk before any report."""
    from surveys.reports.kept import store_answer_sets

    for wave in study.waves:
        sets = question_sets(wave_instrument(session, wave))
        store_answer_sets(session, wave.id,
                          queries.answer_set_clusters([qs for qs in sets if len(qs) > 1]))


def wave_tables(
    session: Session,
    wave: Wave,
    language: str,
    dim: Subquery | None,
    breakdown: Breakdown | None,
) -> list[Table]:
    instrument = wave_instrument(session, wave)
    tables: list[Table] = []
    units = list(page_units(instrument))
    # Every question of the wave from one reading of its answers (see answer_groups_many).
    read = iter(queries.answer_groups_many(session, wave, question_sets(instrument), dim))
    for page_id, questions in units:
        counted = [count_question(session, wave, instrument, q, dim, next(read))
                   for q in questions]
        if len(counted) > 1 and breakdown is None:
            tables.append(grid_table(wave, instrument, page_id, counted, language))
            continue
        for counts in counted:
            tables.append(question_table(wave, instrument, counts, language, breakdown))
            if breakdown is None:
                extra = routed_table(wave, instrument, counts, language)
                if extra is not None:
                    tables.append(extra)
    return tables
