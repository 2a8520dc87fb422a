"""The paired-change report (contracts sections 4 and 6): data from the database, numbers from
analysis/.

One entry per measure of the study (study.measures, in order): a scale measure with a baseline
gets the statistics of section 4, a binary one the 2x2 of before and after (McNemar, Newcombe),
and an outcome asked at follow-up only (baseline: false) its answers. This module only gathers
plain numbers and hands them to the pure functions in `analysis`; the statistics live there.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from surveys import i18n
from surveys.i18n import translate
from surveys.models import Measure, Participant, Response, Study
from surveys.reports.kept import kept_for, reading_kept_counts
from surveys.reports.queries import kept_pairs
from surveys.studies import wave_by_code
from surveys.studies.measures import (
    better_value,
    cohort_column,
    higher_is_better,
    label,
    participant_baseline,
    response_pair,
)
from surveys.studies.waves import wave_name

EHD_KEYS = ("workability", "confidence", "importance")
EHD_BASELINE = "score stored at the end of the intervention"  # contract section 4's words
STATUSES = ("completed", "dropped_out", "in_progress")


def baseline_at_end_of_intervention(study: Study) -> bool:
    """Whether the study's baselines are the EHD's scores stored at the end of the
    intervention: its measures are exactly the EHD three (by key). Other studies store a
    value per participant in the cohort file, whenever it was recorded (enrolment, say), so
    their reports name the cohort column instead."""
    return tuple(m.key for m in study.measures) == EHD_KEYS


def baseline_description(study: Study) -> str:
    """The report's `baseline` key: the EHD's contract words, else the cohort columns."""
    if baseline_at_end_of_intervention(study):
        return EHD_BASELINE
    columns = ", ".join(cohort_column(m) for m in study.measures if m.baseline)
    return ("the value stored for each participant in the cohort file"
            + (f" ({columns})" if columns else ""))


def _counts(session: Session, wave_id: int, linked: int | None = None) -> tuple[int, int]:
    """(responses, linked) of a wave. Given `linked` (already counted by the paired query),
    only the unlinked ones are counted: an index range over participant_id IS NULL."""
    kept = kept_for(session, wave_id=wave_id)
    if kept:
        reasons = {reason: n for _, w, reason, _, _, n in kept.rows("linkage")
                   if w == str(wave_id)}
        return sum(reasons.values()), reasons.get("linked", 0)
    if linked is not None:
        unlinked = session.scalar(
            select(func.count()).where(Response.wave_id == wave_id,
                                       Response.status == "submitted",
                                       Response.participant_id.is_(None))
        )
        return linked + unlinked, linked
    responses, linked = session.execute(
        select(func.count(), func.count(Response.participant_id)).where(
            Response.wave_id == wave_id, Response.status == "submitted"
        )
    ).one()
    return responses, linked


def paired_score_counts(
    session: Session, wave_id: int, measures: list[Measure]
) -> dict[str, list[tuple]]:
    """Per measure key: (baseline, follow-up, number of linked responses) for each distinct pair.

    Counted in the database (GROUP BY), so only a few rows per measure come back (at most
    12 x 12 on a 0-10 scale, 3 x 3 for yes/no) whatever the number of clients. None stands for
    a missing value on either side. Both sides are slot columns of the linked responses
    (surveys.studies.measures.response_pair), so the counts come from one covering index
    (ix_responses_paired) with no join; on PostgreSQL one statement counts every measure
    (GROUPING SETS) in a single index-only scan.
    """
    linked = (Response.wave_id == wave_id, Response.status == "submitted",
              Response.participant_id.is_not(None))
    pairs = {m.key: response_pair(m) for m in measures}
    out: dict[str, list[tuple]] = {key: [] for key in pairs}
    if not pairs:
        return out
    kept = kept_for(session, wave_id=wave_id)
    if kept:  # the kept pairs have either value; the rest of the linked have neither
        _, linked = _counts(session, wave_id)
        for m in measures:
            rows = [(b, f, n) for _, (_, _, b, f), n in kept_pairs(kept, wave_id, m.slot)]
            neither = linked - sum(n for _, _, n in rows)
            out[m.key] = rows + ([(None, None, neither)] if neither else [])
        return out
    if session.get_bind().dialect.name != "postgresql":
        for key, (baseline, follow) in pairs.items():
            rows = session.execute(
                select(baseline, follow, func.count()).where(*linked)
                .group_by(baseline, follow)
            ).all()
            out[key] = [(b, f, int(n)) for b, f, n in rows]
        return out
    # Index pages are in memory, so random reads cost little more than sequential ones
    # (the default random_page_cost assumes spinning disks); JIT only slows a 0.5 s query.
    session.execute(text("SET LOCAL random_page_cost = 1.1"))
    session.execute(text("SET LOCAL jit = off"))
    columns = [column for pair in pairs.values() for column in pair]
    rows = session.execute(
        select(*columns, *[func.grouping(b) for b, _ in pairs.values()], func.count())
        .where(*linked)
        .group_by(func.grouping_sets(*[tuple_(b, f) for b, f in pairs.values()]))
    ).all()
    k = len(pairs)
    for row in rows:
        for i, key in enumerate(pairs):
            if row[2 * k + i] == 0:  # GROUPING() is 0 for the set this row counts
                out[key].append((row[2 * i], row[2 * i + 1], int(row[-1])))
    return out


def paired_scores(
    session: Session, wave_id: int, measures: list[Measure]
) -> dict[str, tuple[list, list]]:
    """Baseline and follow-up value lists per measure, one entry per linked response."""
    scores = {}
    for measure, rows in paired_score_counts(session, wave_id, measures).items():
        baseline: list = []
        follow: list = []
        for b, f, n in sorted(rows, key=lambda r: (r[0] is None, r[0] or 0, r[1] is None,
                                                   r[1] or 0)):
            baseline.extend([b] * n)
            follow.extend([f] * n)
        scores[measure] = (baseline, follow)
    return scores


def _before_after(rows: list[tuple]) -> dict:
    """Means and medians at both points, over the complete pairs only.

    `rows` are paired_score_counts' (baseline, follow-up, count) for one measure.
    """
    from analysis.paired import mean_from_counts, median_from_counts

    before: dict[int, int] = {}
    after: dict[int, int] = {}
    for b, f, n in rows:
        if b is not None and f is not None:
            before[b] = before.get(b, 0) + n
            after[f] = after.get(f, 0) + n
    return {
        "baseline_mean": mean_from_counts(before),
        "follow_up_mean": mean_from_counts(after),
        "baseline_median": median_from_counts(before),
        "follow_up_median": median_from_counts(after),
    }


def yes_share(yes: int, n: int, **extra) -> dict:
    """How many answered, how many said yes, the share (full precision) with its Wilson
    interval, and the whole per cent rounded half-up as published figures are."""
    from analysis.binary import SHARE_METHOD
    from analysis.intervals import proportion_ci
    from analysis.rounding import percent_half_up

    ci = proportion_ci(yes, n, SHARE_METHOD)
    return {"n": n, "yes": yes, "share_yes": yes / n if n else None,
            "ci_low": ci.low if ci else None, "ci_high": ci.high if ci else None,
            "method": SHARE_METHOD, "percent_yes": percent_half_up(yes, n), **extra}


def baseline_yes_counts(
    session: Session, study: Study, measures: list[Measure]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per yes/no measure with a baseline: {status: (with a stored baseline, yes)} over every
    participant of the study, whatever their status (the published "all participants at
    enrolment"). One scan of the study's participants counts every such measure."""
    binary = [m for m in measures if m.kind == "binary" and m.baseline]
    if not binary:
        return {}
    columns = []
    for m in binary:
        column = participant_baseline(m)
        columns += [func.count(column), func.coalesce(func.sum(column), 0)]
    rows = session.execute(
        select(Participant.status, *columns).where(Participant.study_id == study.id)
        .group_by(Participant.status)
    ).all()
    out: dict[str, dict[str, tuple[int, int]]] = {m.key: {} for m in binary}
    for status, *counts in rows:
        for i, m in enumerate(binary):
            out[m.key][status or "completed"] = (int(counts[2 * i]), int(counts[2 * i + 1]))
    return out


def _published_shares(by_status: dict[str, tuple[int, int]], rows: list[tuple]) -> dict:
    """The two shares a publication sets side by side: yes among all participants with a
    baseline, and yes among every linked response that answered the follow-up."""
    base_n = sum(n for n, _ in by_status.values())
    base_yes = sum(y for _, y in by_status.values())
    statuses = {s: by_status.get(s, (0, 0))[0] for s in STATUSES}
    statuses.update({s: n for s, (n, _) in by_status.items() if s not in statuses})
    follow_n = sum(n for _, f, n in rows if f is not None)
    follow_yes = sum(n for _, f, n in rows if f == 1)
    return {
        "baseline_all_participants": yes_share(base_yes, base_n, by_status=statuses),
        "follow_up_all_respondents": yes_share(follow_yes, follow_n),
    }


def caveat_sentence(caveat, language: str) -> str:
    """The caveat in `language`; plural templates go through ngettext with their count (a
    count hidden by disclosure control, "[c]", takes the plural form)."""
    from analysis.caveats import CAVEAT_TEMPLATES, Plural

    found = CAVEAT_TEMPLATES[caveat.code]
    if isinstance(found, Plural):
        count = caveat.params.get(found.count)
        n = count if isinstance(count, int) and not isinstance(count, bool) else 2
        form = i18n.catalog(language).ngettext(found.singular, found.plural, n)
        return form.format(**caveat.params)
    return translate(found, language).format(**caveat.params)


def _points(value: float) -> int | float:
    """A threshold as the researcher wrote it: 2, not 2.0 (the column is a float)."""
    return int(value) if float(value).is_integer() else value


def reliable_change_thresholds(study: Study) -> dict[str, float]:
    """{measure key: threshold in points} for the scale measures that have one."""
    return {m.key: _points(m.reliable_change) for m in study.measures
            if m.kind == "scale" and m.reliable_change is not None}


def lower_is_better(result):
    """A scale result read with `better: lower`: improved means the score went down.

    Only the direction's names swap (counts, their intervals, reliable change); every change
    stays follow-up minus baseline, and the two-sided tests do not depend on the direction.
    """
    from dataclasses import replace

    return replace(
        result, improved=result.deteriorated, deteriorated=result.improved,
        improved_ci=result.deteriorated_ci, deteriorated_ci=result.improved_ci,
        reliably_improved=result.reliably_deteriorated,
        reliably_deteriorated=result.reliably_improved,
    )


def _entry(measure: Measure, rows: list[tuple], *, linked: int, responses: int,
           thresholds: dict, language: str, baseline_counts: dict | None = None,
           comparison_group: bool = False) -> dict:
    """One measure's entry of the report (contracts sections 4 and 6). `comparison_group`:
    the study has arms, so the "no comparison group" caveat does not apply."""
    from analysis.binary import (
        outcome_binary_from_counts,
        outcome_scale_from_counts,
        paired_binary_from_counts,
    )
    from analysis.caveats import binary_caveats, outcome_caveats, paired_caveats
    from analysis.paired import paired_change_from_counts

    shares: dict = {}
    if measure.baseline:
        counts: dict = {}
        for b, f, n in rows:
            counts[(b, f)] = counts.get((b, f), 0) + n
        if measure.kind == "binary":
            result = paired_binary_from_counts(counts, better_value(measure))
            shares = _published_shares(baseline_counts or {}, rows)
            # The published shares compare two groups unless everyone with a baseline
            # answered the follow-up and every answer there has a baseline.
            different = not (shares["baseline_all_participants"]["n"] == result.n
                             == shares["follow_up_all_respondents"]["n"])
            caveats = binary_caveats(result, linked=linked, responses=responses,
                                     unpaired_shares_shown=different,
                                     comparison_group=comparison_group)
        else:
            result = paired_change_from_counts(counts,
                                               reliable_change=thresholds.get(measure.key))
            if not higher_is_better(measure):
                result = lower_is_better(result)
            caveats = paired_caveats(result, linked=linked, responses=responses,
                                     comparison_group=comparison_group)
    else:
        answers: dict = {}
        for _, f, n in rows:
            answers[f] = answers.get(f, 0) + n
        if measure.kind == "binary":
            result = outcome_binary_from_counts(answers, better_value(measure))
        else:
            result = outcome_scale_from_counts(answers, higher_is_better(measure))
        caveats = outcome_caveats(result, linked=linked, responses=responses,
                                  comparison_group=comparison_group)
    entry = result.to_contract_dict()
    entry.update(shares)
    entry.update(kind=measure.kind, baseline=bool(measure.baseline), better=measure.better,
                 label=label(measure, language))
    entry["caveats"] = [caveat_sentence(c, language) for c in caveats]
    entry["caveat_codes"] = [c.code for c in caveats]
    entry["caveat_params"] = [dict(c.params) for c in caveats]
    entry["methods"] = result.methods
    if measure.kind == "scale":
        entry.update(min_value=measure.min_value if measure.min_value is not None else 0,
                     max_value=measure.max_value if measure.max_value is not None else 10)
        if measure.baseline:
            entry.update(_before_after(rows))
    return entry


def paired_report(session: Session, study: Study, follow_up: str, *, language: str = "en") -> dict:
    """The paired-change report (contracts section 4), from the kept counts on PostgreSQL."""
    with reading_kept_counts(session, study, None):
        return _paired_report(session, study, follow_up, language)


def _paired_report(session: Session, study: Study, follow_up: str, language: str) -> dict:
    wave = wave_by_code(study, follow_up)
    measures = list(study.measures)
    # Counts per (baseline, follow-up) pair, never one row per client: the statistics are
    # worked out from a few numbers per measure whatever the size of the cohort.
    scored = paired_score_counts(session, wave.id, measures)
    if measures:  # every linked response is counted once in each measure's rows
        every_pair = scored[measures[0].key]
        responses, linked = _counts(session, wave.id, linked=sum(n for _, _, n in every_pair))
    else:
        responses, linked = _counts(session, wave.id)
    thresholds = reliable_change_thresholds(study)
    everyone = baseline_yes_counts(session, study, measures)
    entries = {
        m.key: _entry(m, scored[m.key], linked=linked, responses=responses,
                      thresholds=thresholds, language=language,
                      baseline_counts=everyone.get(m.key), comparison_group=bool(study.arms))
        for m in measures
    }
    report = {
        "follow_up": follow_up,
        # The wave's name for readers (the code stays the key: contract).
        "follow_up_label": wave_name(wave.code, wave.label, language),
        "responses": responses,
        "linked": linked,
        "unlinked": responses - linked,
        "study": study.slug,
        "baseline": baseline_description(study),
        # Which words pages use for the baseline: the EHD's, or the cohort file's.
        "baseline_source": ("end_of_intervention" if baseline_at_end_of_intervention(study)
                            else "cohort_file"),
        "reliable_change_thresholds": thresholds,
        "disclosure_threshold": study.disclosure_threshold,
        "study_notes": study.notes or None,
        "measures": entries,
    }
    if study.arms:  # only then a join to the participants: the no-arms path stays as it was
        from surveys.reports.arms import arms_sections

        report.update(arms_sections(session, study, wave, scored, thresholds=thresholds,
                                    language=language))
    return report


CSV_COLUMNS = (
    "measure", "n", "improved", "same", "deteriorated", "mean_change", "median_change",
    "sign_test_p", "wilcoxon_p", "wilcoxon_zero_method", "wilcoxon_method", "caveats",
)
# Added after the contract's columns (extend, never rename).
CSV_EXTRA_COLUMNS = (
    "confidence", "improved_share", "improved_ci_low", "improved_ci_high",
    "deteriorated_share", "deteriorated_ci_low", "deteriorated_ci_high", "share_ci_method",
    "mean_change_ci_low", "mean_change_ci_high", "hodges_lehmann", "hodges_lehmann_ci_low",
    "hodges_lehmann_ci_high", "hodges_lehmann_achieved_confidence", "rank_biserial",
    "reliable_change_threshold", "reliably_improved", "reliably_deteriorated",
    "baseline_mean", "follow_up_mean", "baseline_median", "follow_up_median",
    "publication", "disclosure_rule",
)


# Added after those for any study's measures (contracts section 6): binary and outcome figures.
CSV_KIND_COLUMNS = (
    "kind", "better", "has_baseline", "label", "before_better", "after_better",
    "before_better_after_better", "before_better_after_worse", "before_worse_after_better",
    "before_worse_after_worse", "mcnemar_p", "mcnemar_method", "difference",
    "difference_ci_low", "difference_ci_high", "difference_method", "difference_confidence",
    "better_count", "better_share", "better_share_ci_low", "better_share_ci_high",
    "better_share_method",
)
# Added after those: the two shares a publication sets side by side (yes/no measures with a
# baseline): yes among all participants with a baseline, and among all who answered.
SHARE_GROUPS = ("baseline_all_participants", "follow_up_all_respondents")
CSV_SHARE_COLUMNS = tuple(
    f"{group}_{key}" for group in SHARE_GROUPS
    for key in ("n", "yes", "share_yes", "ci_low", "ci_high")
)


def _get(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _extra_cells(m: dict) -> tuple:
    get = _get
    rc = m.get("reliable_change") or {}
    return (
        m.get("confidence"), get(m, "improved_share", "share"),
        get(m, "improved_share", "ci_low"), get(m, "improved_share", "ci_high"),
        get(m, "deteriorated_share", "share"), get(m, "deteriorated_share", "ci_low"),
        get(m, "deteriorated_share", "ci_high"), get(m, "improved_share", "method"),
        get(m, "mean_change_ci", "low"), get(m, "mean_change_ci", "high"),
        get(m, "hodges_lehmann", "estimate"), get(m, "hodges_lehmann", "ci_low"),
        get(m, "hodges_lehmann", "ci_high"), get(m, "hodges_lehmann", "achieved_confidence"),
        get(m, "rank_biserial", "value"), rc.get("threshold"), rc.get("reliably_improved"),
        rc.get("reliably_deteriorated"), m.get("baseline_mean"), m.get("follow_up_mean"),
        m.get("baseline_median"), m.get("follow_up_median"),
    )


def _kind_cells(m: dict) -> tuple:
    get = _get
    share = m.get("share") or m.get("after_share") or {}
    has_baseline = m.get("baseline")
    return (
        m.get("kind", "scale"), m.get("better", "higher"),
        "" if has_baseline is None else ("yes" if has_baseline else "no"), m.get("label"),
        m.get("before_better"), m.get("after_better"),
        get(m, "table", "before_better_after_better"),
        get(m, "table", "before_better_after_worse"),
        get(m, "table", "before_worse_after_better"),
        get(m, "table", "before_worse_after_worse"),
        get(m, "mcnemar", "p"), get(m, "mcnemar", "method"),
        get(m, "difference", "estimate"), get(m, "difference", "ci_low"),
        get(m, "difference", "ci_high"), get(m, "difference", "method"),
        get(m, "difference", "confidence"), m.get("better_count"),
        share.get("share"), share.get("ci_low"), share.get("ci_high"), share.get("method"),
    )


def render_csv(report: dict) -> str:
    from surveys.reports.table import safe_text as safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("follow_up", "responses", "linked", *CSV_COLUMNS, *CSV_EXTRA_COLUMNS,
                     *CSV_KIND_COLUMNS, *CSV_SHARE_COLUMNS))
    publication = report.get("publication") or {}
    for measure, m in report["measures"].items():
        writer.writerow([safe_cell(v) for v in (
            report["follow_up"], report["responses"], report["linked"], measure, m["n"],
            m.get("improved"), m.get("same"), m.get("deteriorated"), m.get("mean_change"),
            m.get("median_change"), _get(m, "sign_test", "p"), _get(m, "wilcoxon", "p"),
            _get(m, "wilcoxon", "zero_method"), _get(m, "wilcoxon", "method"),
            " ".join(m["caveats"]), *_extra_cells(m),
            "yes" if publication else "no", publication.get("rule", ""), *_kind_cells(m),
            *[_get(m, group, key) for group in SHARE_GROUPS
              for key in ("n", "yes", "share_yes", "ci_low", "ci_high")],
        )])
    return out.getvalue()


def render_html(report: dict, language: str = "en") -> str:
    from flask import render_template
    from flask_babel import force_locale

    from surveys.reports import row_cells
    from surveys.reports.arm_tables import page_model

    with force_locale(language):
        # A file on its own: the charts' styles travel inside it.
        styles = (Path(__file__).resolve().parents[1] / "static" / "app.css").read_text()
        return render_template("pages/reports/paired_standalone.html", report=report,
                               arms=page_model(report, language), row_cells=row_cells,
                               styles=styles)
