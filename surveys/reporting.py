"""The paired-change report (contracts section 4): data from the database, numbers from analysis/.

This module only gathers plain numbers and hands them to the pure functions in
`analysis`; the statistics themselves live there.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from surveys import i18n
from surveys.i18n import translate
from surveys.models import Participant, Response, Study
from surveys.studies import wave_by_code

# Question id in the follow-up wave -> (the participant's score stored at the end of the
# intervention, the same question's answer at follow-up). Both are integer columns of the
# response: the baseline copied by the database from the participant (migration 0005),
# the follow-up derived by the database from the answers (migration 0004).
PAIRS = {
    "workability": (Response.baseline_workability, Response.score_workability),
    "confidence": (Response.baseline_confidence, Response.score_confidence),
    "importance": (Response.baseline_importance, Response.score_importance),
}
# Question id -> the participant's stored score, for reports that join participants anyway
# (breakdowns by site, channel, ...).
MEASURES = {
    "workability": Participant.workability_end,
    "confidence": Participant.confidence_end,
    "importance": Participant.importance_end,
}


def _counts(session: Session, wave_id: int, linked: int | None = None) -> tuple[int, int]:
    """(responses, linked) of a wave. Given `linked` (already counted by the paired query),
    only the unlinked ones are counted: an index range over participant_id IS NULL."""
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


def paired_score_counts(session: Session, wave_id: int) -> dict[str, list[tuple]]:
    """Per measure: (baseline, follow-up, number of linked responses) for each distinct pair.

    Counted in the database (GROUP BY), so only at most 12 x 12 rows per measure come back
    whatever the number of clients. None stands for a missing score on either side. Both
    sides are columns of the linked responses, so the counts come from one covering index
    (ix_responses_paired) with no join; on PostgreSQL one statement counts all three
    measures (GROUPING SETS) in a single index-only scan.
    """
    linked = (Response.wave_id == wave_id, Response.status == "submitted",
              Response.participant_id.is_not(None))
    out: dict[str, list[tuple]] = {measure: [] for measure in PAIRS}
    if session.get_bind().dialect.name != "postgresql":
        for measure, (baseline, follow) in PAIRS.items():
            rows = session.execute(
                select(baseline, follow, func.count()).where(*linked)
                .group_by(baseline, follow)
            ).all()
            out[measure] = [(b, f, int(n)) for b, f, n in rows]
        return out
    # Index pages are in memory, so random reads cost little more than sequential ones
    # (the default random_page_cost assumes spinning disks); JIT only slows a 0.5 s query.
    session.execute(text("SET LOCAL random_page_cost = 1.1"))
    session.execute(text("SET LOCAL jit = off"))
    pairs = list(PAIRS.values())
    columns = [column for pair in pairs for column in pair]
    rows = session.execute(
        select(*columns, *[func.grouping(b) for b, _ in pairs], func.count())
        .where(*linked)
        .group_by(func.grouping_sets(*[tuple_(b, f) for b, f in pairs]))
    ).all()
    k = len(pairs)
    for row in rows:
        for i, measure in enumerate(PAIRS):
            if row[2 * k + i] == 0:  # GROUPING() is 0 for the set this row counts
                out[measure].append((row[2 * i], row[2 * i + 1], int(row[-1])))
    return out


def paired_scores(session: Session, wave_id: int) -> dict[str, tuple[list, list]]:
    """Baseline and follow-up score lists per measure, one entry per linked response."""
    scores = {}
    for measure, rows in paired_score_counts(session, wave_id).items():
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


# Reliable-change thresholds (points) when the study sets none: the 0-10 work ability
# score's smallest detectable change is reported at about 1.9 to 2.2 points.
DEFAULT_RELIABLE_CHANGE = {"workability": 2}


def reliable_change_thresholds(study: Study) -> dict[str, float]:
    return dict(study.reliable_change or DEFAULT_RELIABLE_CHANGE)


def paired_report(session: Session, study: Study, follow_up: str, *, language: str = "en") -> dict:
    # SciPy takes a second or two to import: only reports pay for it.
    from analysis.caveats import paired_caveats
    from analysis.paired import paired_change_from_counts

    wave = wave_by_code(study, follow_up)
    # Counts per (baseline, follow-up) pair, never one row per client: the statistics are
    # worked out from at most 12 x 12 numbers whatever the size of the cohort.
    scored = paired_score_counts(session, wave.id)
    every_pair = next(iter(scored.values()), [])
    responses, linked = _counts(session, wave.id, linked=sum(n for _, _, n in every_pair))
    thresholds = reliable_change_thresholds(study)
    measures = {}
    for measure, rows in scored.items():
        counts: dict[tuple, int] = {}
        for b, f, n in rows:
            counts[(b, f)] = counts.get((b, f), 0) + n
        result = paired_change_from_counts(counts, reliable_change=thresholds.get(measure))
        caveats = paired_caveats(result, linked=linked, responses=responses)
        entry = result.to_contract_dict()
        entry["caveats"] = [caveat_sentence(c, language) for c in caveats]
        entry["caveat_codes"] = [c.code for c in caveats]
        entry["caveat_params"] = [dict(c.params) for c in caveats]
        entry["methods"] = result.methods
        entry.update(_before_after(rows))
        measures[measure] = entry
    return {
        "follow_up": follow_up,
        "responses": responses,
        "linked": linked,
        "unlinked": responses - linked,
        "study": study.slug,
        "baseline": "score stored at the end of the intervention",
        "reliable_change_thresholds": thresholds,
        "disclosure_threshold": study.disclosure_threshold,
        "measures": measures,
    }


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


def _extra_cells(m: dict) -> tuple:
    def get(obj, *path):
        for key in path:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(key)
        return obj

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


def render_csv(report: dict) -> str:
    from surveys.reports.table import safe_text as safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("follow_up", "responses", "linked", *CSV_COLUMNS, *CSV_EXTRA_COLUMNS))
    publication = report.get("publication") or {}
    for measure, m in report["measures"].items():
        writer.writerow([safe_cell(v) for v in (
            report["follow_up"], report["responses"], report["linked"], measure, m["n"],
            m["improved"], m["same"], m["deteriorated"], m["mean_change"], m["median_change"],
            m["sign_test"]["p"], m["wilcoxon"]["p"], m["wilcoxon"]["zero_method"],
            m["wilcoxon"]["method"], " ".join(m["caveats"]), *_extra_cells(m),
            "yes" if publication else "no", publication.get("rule", ""),
        )])
    return out.getvalue()


def render_html(report: dict, language: str = "en") -> str:
    from flask import render_template
    from flask_babel import force_locale

    with force_locale(language):
        return render_template("pages/reports/paired_standalone.html", report=report)
