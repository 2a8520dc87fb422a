"""The evaluation report: the quantitative chapter of an evaluation, from the database.

Sections: referrals (management information), the intervention (appointments, attendance,
channel, work ability during the intervention), one section per survey wave (every
question, from the instrument), paired change between the end of the intervention and
the follow-up, and who is missing (response, linkage, attrition).

`evaluation_report` returns plain JSON-ready data. The page, CSV, spreadsheet and API all
render this one structure, so they show the same numbers. With `publication=True` the
study's disclosure rule is applied to every table (surveys.reports.table.publish).
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from analysis.caveats import Caveat
from analysis.rounding import percent_half_up
from instruments import text
from surveys.i18n import N_
from surveys.models import Study, Wave
from surveys.reports import queries
from surveys.reports.arm_tables import comparison_section, has_arms
from surveys.reports.breakdowns import (
    ATTENDANCE_LABELS,
    CHANNEL_LABELS,
    NO_GROUP,
    NOT_LINKED,
    Breakdown,
    group_value,
)
from surveys.reports.build import ALL_COUNT, TOTAL, Category, Net, crosstab, frequency, t
from surveys.reports.kept import reading_kept_counts
from surveys.reports.methods import method_text
from surveys.reports.paired_change import (
    baseline_at_end_of_intervention,
    caveat_sentence,
    paired_report,
    reliable_change_thresholds,
)
from surveys.reports.paired_tables import (
    EVALUATOR_RULE,
    SMALL_STUDY,
    clients,
    evaluator_paired,
    paired_section,
    publish_paired,
)
from surveys.reports.questions import wave_tables
from surveys.reports.table import (
    COUNT,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    Derived,
    Independent,
    OneWay,
    RestsOn,
    Row,
    Table,
    TwoWay,
    evaluator_hidden,
    hidden_cells,
    publish,
    scrub,
)
from surveys.studies import wave_by_code
from surveys.studies.instruments import wave_instrument
from surveys.studies.measures import label as measure_label
from surveys.studies.measures import participant_baseline
from surveys.studies.waves import study_wave_name, wave_name

log = logging.getLogger(__name__)

RULE = N_(
    "Disclosure control: counts from 1 to {threshold} are suppressed and shown as [c]. Further "
    "cells are suppressed so that a suppressed count cannot be worked out from totals or other "
    "cells, and per cents, shares and intervals worked out from a suppressed count are "
    "suppressed with it."
)
INTERNAL = N_(
    "Not for publication: exact counts are shown, including counts of 1 to {threshold}, for "
    "evaluators inside the study. Anything shared outside the study must use the publication "
    "version, which applies the disclosure rule."
)
SYMBOLS = N_(
    "Symbols: [c] suppressed to protect confidentiality; [u] low reliability (base under 30); "
    "[x] not available."
)


class Section:
    def __init__(self, id: str, title: str):
        self.id = id
        self.title = title
        self.tables: list[Table] = []
        self.caveats: list[str] = []
        self.notes: list[str] = []
        # Numbers in the notes and caveats: (table id, cell, number), see Table.text_numbers.
        self.text_numbers: list[tuple[str, tuple[str, str], int]] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "notes": self.notes,
            "caveats": self.caveats,
            "tables": [table.to_dict() for table in self.tables],
        }


def _labelled(keys, labels: dict[str, str], language: str) -> list[Category]:
    known = list(labels)
    extra = sorted(k for k in keys if k not in labels)
    return [Category(k, t(labels[k], language)) for k in known] + [
        Category(k, k) for k in extra
    ]


def _one_or_cross(
    id: str, title: str, row_header: str, cats: list[Category], counts: dict, *,
    language: str, base_text: str, breakdown: Breakdown | None, none_label: str = NOT_LINKED,
    nets=(),
) -> Table:
    if breakdown is None:
        flat: Counter = Counter()
        for (_, category), n in counts.items():
            flat[category] += n
        return frequency(id, title, row_header, cats, flat, language=language,
                         base_text=base_text, nets=nets)
    groups = breakdown.groups({g for g, _ in counts}, none_label)
    by_value: dict[Any, list[tuple[str, int]]] = defaultdict(list)  # one pass, not one a group
    for (value, category), n in counts.items():
        by_value[value].append((category, n))
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for g in groups:
        for category, n in by_value.get(group_value(g), ()):
            cells[(g.key, category)] += n
    return crosstab(id, title, row_header, cats, groups, cells, language=language,
                    base_text=base_text, nets=nets)


# Referrals ------------------------------------------------------------------------------

OUTCOME_COLUMNS = (
    ("successfully_closed", N_("Successfully closed (completed)")),
    ("in_progress", N_("Still in progress")),
    ("not_completed_unsuitable", N_("Not completed: unsuitable")),
    ("not_completed_disengaged", N_("Not completed: never or stopped engaging")),
    ("not_completed_claim_closed", N_("Not completed: claim closed")),
)


def _fte(value: str | None) -> Decimal | None:
    """A site's practitioner FTE as stored ("0.7"): a number, None when absent or unreadable."""
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _fte_total(values: list[str | None]) -> float | None:
    if any(v and _fte(v) is None for v in values):
        return None
    return float(sum((_fte(v) or Decimal(0) for v in values), Decimal(0)))


def _fte_decimals(values: list[str | None]) -> int:
    """As many decimal places as the sites gave (at most 2, as imported)."""
    places = [-d.as_tuple().exponent for d in map(_fte, values) if d is not None]
    return min(max([0, *places]), 2)


def referral_section(session: Session, study: Study, language: str) -> Section:
    section = Section("referrals", t(N_("Referrals and completions"), language))
    records = queries.site_referrals(session, study)
    loaded = queries.completers_per_site(session, study)
    if not records:
        section.notes.append(t(N_("No referral figures have been loaded for this study (see "
                                  "`surveys import-referrals`)."), language))
        return section
    outcome_keys = [k for k, _ in OUTCOME_COLUMNS]
    columns = [
        # A number, so spreadsheets add it up; staffing, not clients: the evaluator rule
        # leaves it shown for a small site.
        Column("fte", t(N_("Practitioners (FTE)"), language), NUMBER,
               decimals=_fte_decimals([r.fte for r in records]), about_clients=False),
        Column("note", t(N_("Note"), language), TEXT),
        Column("eligible_referrals", t(N_("Eligible referrals"), language), COUNT),
    ]
    for key, label in OUTCOME_COLUMNS:
        columns.append(Column(key, t(label, language), COUNT))
        if key == "successfully_closed":
            columns.append(Column("completed_percent",
                                  t(N_("Completed, per cent of eligible referrals"), language),
                                  PERCENT))
    columns.append(Column("completers_loaded", t(N_("Completers loaded in this service"),
                                                 language), COUNT))
    rows = []
    sites = [r.site for r in records]
    for record in records:
        cells: dict[str, Any] = {
            "fte": None if (fte := _fte(record.fte)) is None else float(fte),
            "note": record.note or "",
            "eligible_referrals": record.eligible_referrals,
            **{k: getattr(record, k) for k in outcome_keys},
            "completers_loaded": loaded.get(record.site, 0),
        }
        rows.append(Row(record.site, record.site, cells))
    for site in sorted(set(loaded) - set(sites)):
        rows.append(Row(site, site, {"fte": None, "note": "", "eligible_referrals": None,
                                     **{k: None for k in outcome_keys},
                                     "completers_loaded": loaded[site]}, kind="other"))
    totals: dict[str, Any] = {
        "fte": _fte_total([r.fte for r in records]), "note": "",
        "eligible_referrals": sum(r.eligible_referrals for r in records),
        "completers_loaded": sum(loaded.values()),
    }
    complete = all(getattr(r, k) is not None for r in records for k in outcome_keys)
    for k in outcome_keys:
        values = [getattr(r, k) for r in records]
        totals[k] = sum(values) if None not in values else None
    rows.append(Row(TOTAL, t(N_("Total"), language), totals, kind="total"))
    table = Table(
        "referrals-by-site", t(N_("Referrals, outcomes and completions by site"), language),
        t(N_("Site"), language), columns, rows, base=totals["eligible_referrals"],
        base_text=t(N_("Base: the {n} eligible referrals reported by the sites (management "
                       "information)."), language, n=totals["eligible_referrals"]),
    )
    table.text_numbers.append(((TOTAL, "eligible_referrals"), totals["eligible_referrals"]))
    # Each site's row rests on its referrals (or, with none reported, its loaded completers).
    table.row_people = {
        row.key: (row.cells["eligible_referrals"] if row.cells["eligible_referrals"] is not None
                  else row.cells["completers_loaded"])
        for row in rows if row.kind != "total"
    }
    if complete:
        table.blocks.append(TwoWay(
            tuple(tuple((s, k) for k in outcome_keys) for s in sites),
            tuple((s, "eligible_referrals") for s in sites),
            tuple((TOTAL, k) for k in outcome_keys),
            (TOTAL, "eligible_referrals"),
        ))
    else:
        for k in ("eligible_referrals", "successfully_closed"):
            table.blocks.append(OneWay(tuple((s, k) for s in sites), (TOTAL, k)))
        table.blocks.append(Independent(tuple((s, k) for s in sites for k in outcome_keys[1:])))
    all_sites = [r.key for r in rows if r.kind != "total"]
    table.blocks.append(OneWay(tuple((s, "completers_loaded") for s in all_sites),
                               (TOTAL, "completers_loaded")))
    for row in rows:
        table.add_percent(row.key, "successfully_closed", "completed_percent",
                          (row.key, "eligible_referrals"))
    table.notes.append(t(N_("Referral figures are management information reported by each "
                            "site; 'completers loaded' counts the clients in this service's "
                            "cohort."), language))
    section.tables.append(table)
    if not complete:
        return section

    outcome = Table(
        "referral-outcomes", t(N_("What happened to eligible referrals"), language),
        t(N_("Outcome"), language),
        [Column("count", t(N_("Number"), language), COUNT),
         Column("percent", t(N_("Per cent"), language), PERCENT)],
        [], base=totals["eligible_referrals"],
        base_text=table.base_text,
    )
    labels = dict(OUTCOME_COLUMNS)
    not_completed = [k for k in outcome_keys if k.startswith("not_completed")]
    for key in ("successfully_closed", "in_progress"):
        outcome.rows.append(Row(key, t(labels[key], language), {"count": totals[key]}))
    outcome.rows.append(Row("not_completed", t(N_("Not completed"), language),
                            {"count": sum(totals[k] for k in not_completed)}, kind="net"))
    outcome.blocks.append(Derived(("not_completed", "count"),
                                  tuple((k, "count") for k in not_completed)))
    for key in not_completed:
        outcome.rows.append(Row(key, t(labels[key], language), {"count": totals[key]}))
    outcome.rows.append(Row(TOTAL, t(N_("Eligible referrals (base)"), language),
                            {"count": totals["eligible_referrals"]}, kind="total"))
    outcome.add_percents([("count", "percent")], TOTAL)
    # The same figures as the site table's total row: hidden where that row is hidden.
    outcome.mirror = {(k, "count"): (table.id, (TOTAL, k)) for k in outcome_keys}
    outcome.mirror[(TOTAL, "count")] = (table.id, (TOTAL, "eligible_referrals"))
    outcome.text_numbers.append(((TOTAL, "count"), totals["eligible_referrals"]))
    section.tables.append(outcome)
    return section


# The intervention -----------------------------------------------------------------------


def intervention_section(
    session: Session, study: Study, language: str, breakdown: Breakdown | None, dim
) -> Section:
    section = Section("intervention", t(N_("Appointments and work ability during the "
                                           "intervention"), language))
    none_label = N_("Not recorded")
    per_client = queries.appointments_per_completer(session, study, dim)
    values = sorted({int(k) for _, k in per_client})
    cats = [Category(str(v), t(N_("None recorded"), language) if v == 0 else str(v))
            for v in values]
    counts = {(g, str(int(k))): n for (g, k), n in per_client.items()}
    section.tables.append(_one_or_cross(
        "appointments-per-completer", t(N_("Appointments attended per completer"), language),
        t(N_("Appointments attended"), language), cats, counts, language=language,
        base_text=t(N_("Base: the {n} clients who completed the intervention."), language,
                    n=sum(per_client.values())),
        breakdown=breakdown, none_label=none_label,
    ))
    with_appointments = queries.clients_with_appointments(session, study, dim)
    by_attendance, by_channel = queries.appointment_counts(session, study, dim)
    for key, title, heading, counts, labels in (
        ("attendance", N_("Attendance at scheduled appointments"), N_("Attendance"),
         by_attendance, ATTENDANCE_LABELS),
        ("channel", N_("Channel of scheduled appointments"), N_("Channel"),
         by_channel, CHANNEL_LABELS),
    ):
        section.tables.append(_one_or_cross(
            key, t(title, language), t(heading, language),
            _labelled({c for _, c in counts}, labels, language), counts, language=language,
            base_text=t(N_("Base: the {n} appointments scheduled for clients who completed "
                           "the intervention."), language, n=sum(counts.values())),
            breakdown=breakdown, none_label=none_label,
        ))
        table = section.tables[-1]
        table.people = sum(with_appointments.values())
        if dim is not None:
            table.group_people = {NO_GROUP if g is None else str(g): n
                                  for g, n in with_appointments.items()}
    change = queries.workability_first_to_last(session, study, dim)
    kept = {k: n for k, n in change.items() if k[1] in ("improved", "same", "deteriorated")}
    base = sum(kept.values())
    left_out = Counter()
    for (_, category), n in change.items():
        left_out[category] += n
    table = _one_or_cross(
        "workability-first-to-last",
        t(N_("Change in work ability from the first to the last appointment"), language),
        t(N_("Change"), language),
        [Category("improved", t(N_("Improved"), language)),
         Category("same", t(N_("Stayed the same"), language)),
         Category("deteriorated", t(N_("Deteriorated"), language))],
        kept, language=language,
        base_text=t(N_("Base: the {n} clients with a work ability score at more than one "
                       "appointment."), language, n=base),
        breakdown=breakdown, none_label=none_label,
    )
    count_key = "count" if breakdown is None else ALL_COUNT
    for key, label in (("single", N_("Not in the base: a score at one appointment only")),
                       ("none", N_("Not in the base: no score recorded"))):
        table.rows.append(Row(key, t(label, language), {count_key: left_out[key]}, kind="other"))
        table.blocks.append(Independent(((key, count_key),)))
    table.notes.append(t(N_("Clients with a score at only one appointment cannot show change "
                            "and are not in the base."), language))
    table.caveats.append(caveat_sentence(Caveat("no_comparison_group"), language))
    table.caveat_codes.append("no_comparison_group")
    section.tables.append(table)
    return section


# Survey waves ---------------------------------------------------------------------------


def _status_counts(statuses: dict, code: str) -> Counter:
    out: Counter = Counter()
    for (_, (wave_code, status)), n in statuses.items():
        if wave_code == code:
            out[status] += n
    return out


def wave_section(
    session: Session, study: Study, wave: Wave, language: str, breakdown: Breakdown | None,
    dim, statuses: dict, linkage: dict,
) -> Section:
    instrument = wave_instrument(session, wave)
    section = Section(wave.code, t(N_("{title} ({wave})"), language,
                                   title=text(instrument.title, language),
                                   wave=wave_name(wave.code, wave.label, language)))
    status = _status_counts(statuses, wave.code)
    issued = sum(status[s] for s in queries.ISSUED_STATUSES)
    answered = status["completed"]
    responses = sum(n for (code, _), n in linkage.items() if code == wave.code)
    linked = linkage.get((wave.code, "linked"), 0)
    section.notes.append(t(N_("{responses} responses received, of which {linked} were linked "
                              "to a client in the cohort."), language, responses=responses,
                           linked=linked))
    code = f"{wave.code}:count"
    section.text_numbers += [("linkage", (TOTAL, code), responses),
                             ("linkage", ("linked", code), linked)]
    rates, column = ("response-rates", code) if breakdown is None else (
        f"response-{wave.code}", ALL_COUNT)
    section.text_numbers += [(rates, ("completed", column), answered),
                             (rates, ("issued_total", column), issued),
                             (rates, ("completed", column), percent_half_up(answered, issued)
                              if issued else 0)]
    if issued:
        section.caveats.append(t(N_(
            "{answered} of the {issued} clients sent this questionnaire answered it "
            "({percent}%). Those who answered may differ from those who did not, so the "
            "answers may not represent everyone who took part."), language,
            answered=answered, issued=issued, percent=percent_half_up(answered, issued)))
    section.tables.extend(wave_tables(session, wave, language, dim, breakdown))
    return section


# Who is missing -------------------------------------------------------------------------

STATUS_ROWS = (
    ("completed", N_("Answered")),
    ("closed", N_("Closed unanswered")),
    ("issued", N_("Issued, still open")),
    ("opted_out", N_("Asked not to be contacted")),
    ("scheduled", N_("Not yet due")),
    ("out_of_window", N_("Due after the study's end date (outside the window)")),
    ("lapsed", N_("Lapsed before it could be issued")),
)
# Telephone waves' call outcomes: rows only in studies with a telephone wave (issue 14).
CALL_ROWS = (
    ("refused", N_("Refused on the telephone")),
    ("wrong_number", N_("Wrong telephone number")),
    ("not_reached", N_("Not reached after the most calls")),
)


def status_rows(study: Study) -> tuple[tuple[str, str], ...]:
    if not any(w.mode == "telephone" for w in study.waves):
        return STATUS_ROWS
    return STATUS_ROWS[:4] + CALL_ROWS + STATUS_ROWS[4:]


def issued_keys(study: Study) -> tuple[str, ...]:
    calls = tuple(k for k, _ in CALL_ROWS) if len(status_rows(study)) > len(STATUS_ROWS) else ()
    return ISSUED_KEYS + calls


# A client who asked not to be contacted after being sent the questionnaire did not answer
# it: a non-response, so in the base of the response rate.
ISSUED_KEYS = ("completed", "closed", "issued", "opted_out")
ISSUED_NET = N_("Issued (answered, closed, open or asked not to be contacted)")


def response_rate_table(
    study: Study, statuses: dict, language: str, breakdown: Breakdown | None
) -> list[Table]:
    waves = [w.code for w in study.waves]
    if breakdown is not None:
        tables = []
        for code in waves:
            counts = {(g, s): n for (g, (c, s)), n in statuses.items() if c == code}
            cats = [Category(k, t(label, language)) for k, label in status_rows(study)]
            tables.append(_one_or_cross(
                f"response-{code}", t(N_("Questionnaires of {wave} by status"), language,
                                      wave=study_wave_name(study, code, language)),
                t(N_("Status"), language), cats, counts, language=language,
                base_text=t(N_("Base: one questionnaire per client in the cohort."), language),
                breakdown=breakdown, none_label=N_("Not recorded"),
                nets=[Net("issued_total", t(ISSUED_NET, language), issued_keys(study))],
            ))
        return tables
    columns = []
    for code in waves:
        name = study_wave_name(study, code, language)
        columns.append(Column(f"{code}:count", t(N_("{wave}: number"), language, wave=name),
                              COUNT))
        columns.append(Column(f"{code}:percent",
                              t(N_("{wave}: per cent of those issued"), language, wave=name),
                              PERCENT))
    table = Table("response-rates", t(N_("Response to each questionnaire"), language),
                  t(N_("Status"), language), columns, [],
                  base_text=t(N_("Base: one questionnaire per client in the cohort and wave; "
                                 "per cents are of the questionnaires issued."), language))
    per_wave = {code: _status_counts(statuses, code) for code in waves}
    issued = issued_keys(study)
    rows = status_rows(study)
    for key, label in rows:
        table.rows.append(Row(key, t(label, language),
                              {f"{c}:count": per_wave[c][key] for c in waves}))
    table.rows.append(Row("issued_total", t(ISSUED_NET, language),
                          {f"{c}:count": sum(per_wave[c][k] for k in issued)
                           for c in waves}, kind="net"))
    table.rows.append(Row(TOTAL, t(N_("All questionnaires (one per client)"), language),
                          {f"{c}:count": sum(per_wave[c].values()) for c in waves},
                          kind="total"))
    for c in waves:
        table.blocks.append(OneWay(tuple((k, f"{c}:count") for k, _ in rows),
                                   (TOTAL, f"{c}:count")))
        table.blocks.append(Derived(("issued_total", f"{c}:count"),
                                    tuple((k, f"{c}:count") for k in issued)))
        for key in (*issued, "issued_total"):
            table.add_percent(key, f"{c}:count", f"{c}:percent", ("issued_total", f"{c}:count"))
    return [table]


LINKAGE_ROWS = (
    ("linked", N_("Linked to a client in the cohort")),
    ("blank", N_("Not linked: reference left blank")),
    ("not_in_cohort", N_("Not linked: reference not in the cohort")),
    ("erased", N_("Not linked: client erased on request")),
)


def linkage_table(study: Study, linkage: dict, language: str) -> Table:
    waves = [w.code for w in study.waves]
    columns = []
    for code in waves:
        name = study_wave_name(study, code, language)
        columns.append(Column(f"{code}:count", t(N_("{wave}: number"), language, wave=name),
                              COUNT))
        columns.append(Column(f"{code}:percent", t(N_("{wave}: per cent"), language, wave=name),
                              PERCENT))
    table = Table("linkage", t(N_("Linking responses to the cohort"), language),
                  t(N_("Linkage"), language), columns, [],
                  base_text=t(N_("Base: all responses received in each wave."), language))
    for key, label in LINKAGE_ROWS:
        table.rows.append(Row(key, t(label, language),
                              {f"{c}:count": linkage.get((c, key), 0) for c in waves}))
    unlinked = [k for k, _ in LINKAGE_ROWS if k != "linked"]
    table.rows.append(Row("unlinked", t(N_("Not linked (all reasons)"), language),
                          {f"{c}:count": sum(linkage.get((c, k), 0) for k in unlinked)
                           for c in waves}, kind="net"))
    table.rows.append(Row(TOTAL, t(N_("Responses received (base)"), language),
                          {f"{c}:count": sum(n for (w, _), n in linkage.items() if w == c)
                           for c in waves}, kind="total"))
    for c in waves:
        table.blocks.append(RestsOn(table.row(TOTAL).cells[f"{c}:count"], tuple(
            (row.key, f"{c}:{kind}") for row in table.rows for kind in ("count", "percent"))))
        table.blocks.append(OneWay(tuple((k, f"{c}:count") for k, _ in LINKAGE_ROWS),
                                   (TOTAL, f"{c}:count")))
        table.blocks.append(Derived(("unlinked", f"{c}:count"),
                                    tuple((k, f"{c}:count") for k in unlinked)))
        table.add_percents([(f"{c}:count", f"{c}:percent")], TOTAL)
    table.notes.append(t(N_("Unlinked responses are kept and counted, but cannot be paired with "
                            "a score stored at the end of the intervention.")
                         if baseline_at_end_of_intervention(study) else
                         N_("Unlinked responses are kept and counted, but cannot be paired with "
                            "a value stored in the cohort file."), language))
    return table


@lru_cache(maxsize=128)
def _attrition(counts: frozenset):
    """analysis.attrition_check_counts on grouped counts ((answered, score), n); the same
    counts always give the same result (its permutations are seeded), so it is computed
    once."""
    from analysis.attrition import attrition_check_counts

    groups: dict[bool, Counter] = {True: Counter(), False: Counter()}
    for (answered, score), n in counts:
        groups[bool(answered)][score] += n
    return attrition_check_counts(groups[True], groups[False])


class _InHand(Executor):
    """Runs what it is given at once, in this thread (the attrition table on its own)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


_IN_HAND = _InHand()


def _attrition_scales(study: Study) -> list:
    """The measures the attrition check compares: scales with a stored baseline, in the
    study's order."""
    return [m for m in study.measures if m.kind == "scale" and m.baseline]


# The kept counts start_attrition_checks reads (queries.end_scores_by_response).
ATTRITION_FIGURES = ("attrition",)


def start_attrition_checks(session: Session, study: Study, wave: Wave,
                           pool: Executor) -> list[Future]:
    """Count the scores the attrition check compares and start its tests on `pool`, one per
    measure. Their regroupings are the report's longest computation and NumPy samples them
    without holding the interpreter lock, so started first they run while the database
    works out the rest of the report (and, on two cores, beside one another)."""
    scales = _attrition_scales(study)
    all_counts = queries.end_scores_by_response(
        session, study, wave, [participant_baseline(m) for m in scales])
    return [pool.submit(_attrition, frozenset(counts.items())) for counts in all_counts]


def attrition_table(session: Session, study: Study, wave: Wave, language: str,
                    checks: list[Future] | None = None) -> Table:
    """The attrition check's table; `checks` are its tests if already started
    (start_attrition_checks), else they are worked out here."""
    columns = [
        Column("responders", t(N_("Answered: number with a score"), language), COUNT),
        Column("responders_median", t(N_("Answered: median score"), language), NUMBER, 1),
        Column("non_responders", t(N_("Did not answer: number with a score"), language), COUNT),
        Column("non_responders_median", t(N_("Did not answer: median score"), language),
               NUMBER, 1),
        Column("u", t(N_("Mann-Whitney U"), language), NUMBER, 1),
        Column("p", t(N_("p (two-sided)"), language), NUMBER, 3, p_value=True),
        Column("method", t(N_("Method"), language), TEXT),
        Column("may_differ", t(N_("May differ"), language), TEXT),
    ]
    table = Table(
        f"attrition-{wave.code}",
        t(N_("Scores at the end of the intervention: those who answered {wave} and those who "
             "did not") if baseline_at_end_of_intervention(study) else
          N_("Stored values: those who answered {wave} and those who did not"),
          language, wave=wave_name(wave.code, wave.label, language)),
        t(N_("Score"), language), columns, [],
        base_text=t(N_("Base: clients sent the {wave} questionnaire, by whether they answered "
                       "it."), language, wave=wave_name(wave.code, wave.label, language)),
    )
    tested = True
    scales = _attrition_scales(study)
    if checks is None:
        checks = start_attrition_checks(session, study, wave, _IN_HAND)
    for item, running in zip(scales, checks, strict=True):
        check = running.result()
        measure, name = item.key, measure_label(item, language)
        table.rows.append(Row(measure, name, {
            "responders": check.n_responders,
            "responders_median": check.median_responders,
            "non_responders": check.n_non_responders,
            "non_responders_median": check.median_non_responders,
            "u": check.statistic,
            "p": check.p,
            "method": method_text(check.method_text, language),
            "may_differ": t(N_("yes"), language) if check.may_bias else t(N_("no"), language),
        }))
        table.blocks.append(Independent(((measure, "responders"), (measure, "non_responders"))))
        # Medians and the test rest on each group: hidden from evaluators if either is small.
        results = ((measure, "u"), (measure, "p"), (measure, "may_differ"))
        table.blocks.append(RestsOn(check.n_responders,
                                    ((measure, "responders_median"), *results)))
        table.blocks.append(RestsOn(check.n_non_responders,
                                    ((measure, "non_responders_median"), *results)))
        for key in ("responders_median", "u", "p"):
            table.blocks.append(Derived((measure, key), ((measure, "responders"),)))
        for key in ("non_responders_median", "u", "p"):
            table.blocks.append(Derived((measure, key), ((measure, "non_responders"),)))
        for caveat in check.caveats():
            table.caveats.append(f"{name}: {caveat_sentence(caveat, language)}")
            table.caveat_codes.append(caveat.code)
        tested = tested and check.p is not None
    if tested and not table.caveats:
        table.notes.append(t(N_("No sign that those who answered started from different scores "
                                "than those who did not (two-sided Mann-Whitney test, p of 0.05 "
                                "or more and medians less than 1 point apart)."), language))
    table.notes.append(t(N_(
        "p is two-sided: the chance, if answering had nothing to do with the score, of a "
        "Mann-Whitney U at least as far from its expected value as the one observed, in "
        "either direction (tied scores share their average rank). It is exact where it can "
        "be worked out quickly, otherwise estimated from random regroupings until the "
        "estimate is clearly on one side of 0.05; the method column says which."), language))
    return table


def missing_section(
    session: Session, study: Study, follow_up: Wave, language: str,
    breakdown: Breakdown | None, statuses: dict, linkage: dict,
    attrition: list[Future] | None = None,
) -> Section:
    section = Section("missing", t(N_("Who is missing"), language))
    section.tables.extend(response_rate_table(study, statuses, language, breakdown))
    section.tables.append(linkage_table(study, linkage, language))
    # The check compares stored scale values; a study with none has no attrition table.
    if _attrition_scales(study):
        section.tables.append(attrition_table(session, study, follow_up, language, attrition))
    return section


# The whole report -----------------------------------------------------------------------


# Breakdowns read from appointment records: pages offer them only to studies that have
# some (without, everyone falls in "not recorded").
APPOINTMENT_BREAKDOWNS = ("channel", "appointments")


def evaluation_report(
    session: Session,
    study: Study,
    *,
    follow_up: str = "wave2",
    language: str = "en",
    publication: bool = False,
    breakdown: str | None = None,
    evaluator: bool = False,
) -> dict[str, Any]:
    """The report; `evaluator=True` for evaluators' eyes (the evaluator rule, on top of the
    publication rule when both apply); researchers, admins and the CLI see exact figures."""
    follow_wave = wave_by_code(study, follow_up)  # an unknown wave fails before any work
    split = Breakdown(breakdown, language, tuple(study.arms or ())) if breakdown else None
    dim = queries.dimension(study, breakdown)  # a column of participants
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                            thread_name_prefix="attrition") as pool:
        # Started first, from their own few kept counts, and worked out while the rest is
        # read and counted (start_attrition_checks); if counting fails here, the missing
        # section tries again and says what failed.
        with reading_kept_counts(session, study, None, figures=ATTRITION_FIGURES):
            attrition = (_guarded_section(session, "attrition check", language,
                                          lambda: start_attrition_checks(session, study,
                                                                         follow_wave, pool))
                         if _attrition_scales(study) else None)
        with reading_kept_counts(session, study, breakdown):
            return _report(session, study, follow_up, language, publication, breakdown,
                           evaluator, split, dim, attrition)


def _report(session: Session, study: Study, follow_up: str, language: str, publication: bool,
            breakdown: str | None, evaluator: bool, split: Breakdown | None, dim,
            attrition: list[Future] | None) -> dict[str, Any]:
    follow_wave = wave_by_code(study, follow_up)

    statuses = queries.invitation_statuses(session, study, dim)
    # Every participant of the study is in the dimension (a missing value is a group of
    # its own), so the study's totals are the groups' sums: no second pass over invitations.
    flat_statuses: dict = defaultdict(int)
    for (_, key), n in statuses.items():
        flat_statuses[(None, key)] += n
    flat_statuses = dict(flat_statuses)
    linkage = queries.linkage(session, study)
    paired = _guarded_section(
        session, "paired report", language,
        lambda: paired_report(session, study, follow_up, language=language))
    ehd = baseline_at_end_of_intervention(study)
    # Appointments, attendance, channel and work ability by appointment come only from an
    # appointments file: a study that loaded none (the HWS pilot) has no such section.
    appointments = queries.has_appointments(session, study)
    sections = [
        _guarded_section(session, "referrals", language,
                         lambda: referral_section(session, study, language),
                         t(N_("Referrals and completions"), language)),
        *([_guarded_section(
            session, "intervention", language,
            lambda: intervention_section(session, study, language, split, dim),
            t(N_("Appointments and work ability during the intervention"), language))]
          if appointments else []),
        *[_guarded_section(session, w.code, language,
                           lambda w=w: wave_section(session, study, w, language, split, dim,
                                                    flat_statuses, linkage),
                           t(N_("Survey wave {wave}"), language,
                             wave=wave_name(w.code, w.label, language)))
          for w in study.waves],
    ]
    threshold = study.disclosure_threshold
    rule = t(RULE, language, threshold=threshold)
    published_paired = (publish_paired(paired, threshold, rule, language)
                        if publication and paired is not None else None)
    cohort = clients(session, study) if evaluator else 0
    if evaluator and paired is not None:
        published_paired = evaluator_paired(published_paired or paired, threshold, language,
                                            cohort=cohort)
    paired_title = t(N_("Paired change: end of the intervention to {wave}") if ehd else
                     N_("Paired change: stored value to {wave}"), language,
                     wave=wave_name(follow_wave.code, follow_wave.label, language))
    sections.append(_guarded_section(session, "paired", language, lambda: paired_section(
        session, study, follow_wave, paired, language, split, dim,
        caveats_from=published_paired) if paired is not None else None, paired_title))
    if paired is not None and has_arms(paired):
        # The comparison of arms: its own tables, so its own worksheets (issue 13).
        sections.append(_guarded_section(
            session, "comparison", language,
            lambda: comparison_section(paired, language, caveats_from=published_paired),
            t(N_("Comparison of arms"), language)))
    sections.append(_guarded_section(session, "missing", language, lambda: missing_section(
        session, study, follow_wave, language, split, statuses, linkage, attrition),
        t(N_("Who is missing"), language)))
    shield = None
    if evaluator:
        shield = {"everything": 1 <= cohort <= threshold,
                  "group_people": _group_people(session, dim) if dim is not None else {}}
    if publication or evaluator:
        _publish_sections(sections, threshold, cell_rule=publication, shield=shield)
    evaluator_rule = t(EVALUATOR_RULE, language, threshold=threshold)
    statement = rule if publication else t(INTERNAL, language, threshold=threshold)
    if evaluator:
        statement = f"{statement} {evaluator_rule}"
        if shield and shield["everything"]:
            statement = f"{statement} {t(SMALL_STUDY, language, threshold=threshold)}"
    return {
        "study": study.slug,
        "study_name": study.name,
        "follow_up": follow_up,
        "follow_up_label": wave_name(follow_wave.code, follow_wave.label, language),
        # Where the paired section's baseline comes from (the EHD: the end of the
        # intervention; other studies: the cohort file's <measure>_end columns).
        "baseline_source": ("end_of_intervention" if baseline_at_end_of_intervention(study)
                            else "cohort_file"),
        "language": language,
        "publication": publication,
        "breakdown": breakdown,
        "breakdown_label": split.label if split else None,
        "disclosure": {
            "threshold": threshold,
            "applied": publication,
            "rule": rule,
            "statement": statement,
            "symbols": t(SYMBOLS, language),
            "evaluator_rule": {"applied": evaluator, "threshold": threshold,
                               "rule": evaluator_rule},
        },
        "reliable_change_thresholds": (paired["reliable_change_thresholds"] if paired
                                       else reliable_change_thresholds(study)),
        "sections": [s.to_dict() for s in sections],
        "paired": published_paired or paired,
    }


SECTION_FAILED = N_(
    "This part of the report could not be worked out because of an unexpected error, which "
    "has been logged for the service team. The rest of the report is not affected."
)


def _guarded_section(session: Session, section_id: str, language: str, build,
                     title: str | None = None):
    """build(), or, if it fails, a section saying it could not be computed (logged), so one
    bad section never takes the whole report down; without a title (not a section), None."""
    from sqlalchemy.exc import DBAPIError

    try:
        result = build()
        if result is None and title is not None:
            raise RuntimeError(f"{section_id}: nothing to build the section from")
        return result
    except Exception as error:
        log.exception("evaluation report: %s could not be computed", section_id)
        if isinstance(error, DBAPIError):
            session.rollback()  # a failed statement leaves the transaction unusable
        if title is None:
            return None
        section = Section(section_id, title)
        section.caveats.append(t(SECTION_FAILED, language))
        return section


def _group_people(session: Session, dim) -> dict[str, int]:
    """Clients in the cohort per breakdown group (group key -> n)."""
    from surveys.reports.breakdowns import NO_GROUP

    return {NO_GROUP if value is None else str(value): n
            for value, n in queries.group_people(session, dim).items()}


def _publish_sections(
    sections: list[Section], threshold: int, *, cell_rule: bool = True, shield: dict | None = None
) -> None:
    """Apply the publication cell rule (cell_rule) and/or the evaluator rule (shield: its
    options for `evaluator_hidden`) to every table, then scrub hidden numbers from the text."""
    published: dict[str, Table] = {}
    for section in sections:
        for i, table in enumerate(section.tables):
            elsewhere = {
                cell for cell, (source, other) in table.mirror.items()
                if source in published and other in hidden_cells(published[source])
            }
            if shield is not None:
                elsewhere |= evaluator_hidden(table, threshold, **shield)
            section.tables[i] = publish(table, threshold, hidden_elsewhere=elsewhere,
                                        cell_rule=cell_rule)
            published[table.id] = section.tables[i]
    hidden = {table_id: hidden_cells(table) for table_id, table in published.items()}

    def secret(numbers) -> set[int]:
        return {n for table_id, cell, n in numbers if cell in hidden.get(table_id, ())}

    for section in sections:
        numbers = secret(section.text_numbers)
        section.notes = [scrub(x, numbers) for x in section.notes]
        section.caveats = [scrub(x, numbers) for x in section.caveats]
        for table in section.tables:
            numbers = secret(table.foreign_numbers)
            table.base_text = scrub(table.base_text, numbers)
            table.notes = [scrub(x, numbers) for x in table.notes]
            table.caveats = [scrub(x, numbers) for x in table.caveats]
