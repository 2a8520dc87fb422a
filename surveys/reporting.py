"""The paired-change report (contracts section 4): data from the database, numbers from analysis/.

This module only gathers plain numbers and hands them to the pure functions in
`analysis`; the statistics themselves live there.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.i18n import translate
from surveys.models import Participant, Response, Study
from surveys.studies import wave_by_code

# Question id in the follow-up wave -> the participant's stored end-of-intervention score.
MEASURES = {
    "workability": Participant.workability_end,
    "confidence": Participant.confidence_end,
    "importance": Participant.importance_end,
}


def _counts(session: Session, wave_id: int) -> tuple[int, int]:
    responses, linked = session.execute(
        select(func.count(), func.count(Response.participant_id)).where(
            Response.wave_id == wave_id, Response.status == "submitted"
        )
    ).one()
    return responses, linked


def paired_scores(session: Session, wave_id: int) -> dict[str, tuple[list, list]]:
    """Baseline and follow-up score lists per measure, one entry per linked response."""
    columns = [MEASURES[m] for m in MEASURES] + [
        Response.answers[m].as_integer() for m in MEASURES
    ]
    rows = session.execute(
        select(*columns)
        .join(Participant, Participant.id == Response.participant_id)
        .where(Response.wave_id == wave_id, Response.status == "submitted")
    ).all()
    k = len(MEASURES)
    return {
        measure: ([row[i] for row in rows], [row[k + i] for row in rows])
        for i, measure in enumerate(MEASURES)
    }


def caveat_sentence(caveat, language: str) -> str:
    from analysis.caveats import CAVEAT_TEMPLATES

    return translate(CAVEAT_TEMPLATES[caveat.code], language).format(**caveat.params)


def paired_report(session: Session, study: Study, follow_up: str, *, language: str = "en") -> dict:
    # SciPy takes a second or two to import: only reports pay for it.
    from analysis.caveats import paired_caveats
    from analysis.paired import paired_change

    wave = wave_by_code(study, follow_up)
    responses, linked = _counts(session, wave.id)
    thresholds = study.reliable_change or {}
    measures = {}
    for measure, (baseline, follow) in paired_scores(session, wave.id).items():
        result = paired_change(baseline, follow, reliable_change=thresholds.get(measure))
        caveats = paired_caveats(result, linked=linked, responses=responses)
        entry = result.to_contract_dict()
        entry["caveats"] = [caveat_sentence(c, language) for c in caveats]
        entry["caveat_codes"] = [c.code for c in caveats]
        measures[measure] = entry
    return {
        "follow_up": follow_up,
        "responses": responses,
        "linked": linked,
        "unlinked": responses - linked,
        "study": study.slug,
        "baseline": "score stored at the end of the intervention",
        "measures": measures,
    }


CSV_COLUMNS = (
    "measure", "n", "improved", "same", "deteriorated", "mean_change", "median_change",
    "sign_test_p", "wilcoxon_p", "wilcoxon_zero_method", "wilcoxon_method", "caveats",
)


def render_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("follow_up", "responses", "linked", *CSV_COLUMNS))
    for measure, m in report["measures"].items():
        writer.writerow((
            report["follow_up"], report["responses"], report["linked"], measure, m["n"],
            m["improved"], m["same"], m["deteriorated"], m["mean_change"], m["median_change"],
            m["sign_test"]["p"], m["wilcoxon"]["p"], m["wilcoxon"]["zero_method"],
            m["wilcoxon"]["method"], " ".join(m["caveats"]),
        ))
    return out.getvalue()


def render_html(report: dict, language: str = "en") -> str:
    from flask import render_template
    from flask_babel import force_locale

    with force_locale(language):
        return render_template("pages/reports/paired_standalone.html", report=report)
