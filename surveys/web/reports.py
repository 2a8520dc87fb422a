"""Evaluators' pages: the evaluation report and the paired-change report, with downloads.

Every download can be marked for publication (?publication=1): the study's disclosure
rule is then applied and stated on the output. Evaluators get aggregates only, and never a
figure resting on a group of the study's disclosure threshold or fewer people (the
evaluator rule, in every format); the row-level paired scores and exact small-group figures
are for researchers and admins.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from surveys import audit
from surveys.models import Participant, Study
from surveys.reports import chart_models, row_cells
from surveys.reports.breakdowns import DIMENSION_LABELS
from surveys.reports.evaluation import APPOINTMENT_BREAKDOWNS
from surveys.reports.paired_change import paired_report, render_csv
from surveys.reports.queries import DIMENSIONS, has_appointments
from surveys.studies import StudyNotFound, default_follow_up
from surveys.studies.waves import wave_name
from surveys.web.access import visible_studies
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now
from surveys.web.downloads import download, wave_or_404
from surveys.web.report_limits import cached_report, rendered
from surveys.web.report_limits import init as limit_reports

bp = Blueprint("reports", __name__)
limit_reports(bp)  # bounded report builds, a cache, 503 when busy (9 of issue 11)
READERS = ("admin", "researcher", "evaluator")
ROW_LEVEL = ("admin", "researcher")  # evaluators never see participant references
TRUE = ("1", "true", "yes", "on")
BREAKDOWN_NAMES = {key: _l(label) for key, label in DIMENSION_LABELS.items()}


def _is_evaluator() -> bool:
    """Whether the evaluator rule applies: anyone but a researcher or an admin."""
    user = current_user()
    return user is None or user.role not in ROW_LEVEL


def _study(slug: str) -> Study:
    return db().scalar(select(Study).where(Study.slug == slug)) or abort(404)


def _options(study: Study) -> dict:
    publication = request.args.get("publication", "").lower() in TRUE
    breakdown = request.args.get("breakdown") or None
    if breakdown is not None and breakdown not in DIMENSIONS:
        abort(400)
    if breakdown == "arm" and not study.arms:
        abort(400)
    follow_up = request.args.get("follow_up") or default_follow_up(study)
    return {"follow_up": follow_up, "publication": publication,
            "breakdown": breakdown}


def _wave_names(study: Study) -> list[tuple[str, str]]:
    """(code, name) of each of the study's waves, for the follow-up selectors."""
    language = str(get_locale())
    return [(w.code, wave_name(w.code, w.label, language)) for w in study.waves]


def _params(options: dict) -> dict:
    """Query parameters that reproduce the same report in another format."""
    out = {"follow_up": options["follow_up"]}
    if options["breakdown"]:
        out["breakdown"] = options["breakdown"]
    if options["publication"]:
        out["publication"] = 1
    return out


def _audit(slug: str, report: str, fmt: str, **detail) -> None:
    audit.record(db(), now(), current_user(), "report_view" if fmt == "html" else "export",
                 study=slug, report=report, format=fmt, **detail)
    db().commit()


def _evaluation(slug: str, fmt: str) -> tuple[Study, dict, dict]:
    from surveys.reports.evaluation import evaluation_report

    study = _study(slug)
    options = _options(study)
    try:
        report = cached_report(study.id, "evaluation", options, lambda: evaluation_report(
            db(), study, language=str(get_locale()), evaluator=_is_evaluator(), **options))
    except StudyNotFound:
        abort(404)
    _audit(slug, "evaluation", fmt, **options)
    return study, report, options


def _codebook(study: Study, report: dict) -> list[tuple[dict, dict]]:
    from surveys.responses.codebook import spreadsheet_sheets

    return spreadsheet_sheets(db(), study, report["language"])


def _filename(study: Study, report: dict, ext: str) -> str:
    parts = ["evaluation", study.slug, report["follow_up"]]
    if report["breakdown"]:
        parts.append(f"by-{report['breakdown']}")
    parts.append("publication" if report["publication"] else "internal")
    return "-".join(parts) + f".{ext}"


@bp.route("/reports/")
@roles_required(*READERS)
def index():
    studies = db().scalars(visible_studies(select(Study).order_by(Study.id))).all()
    return render_template("pages/reports/index.html", studies=studies)


@bp.route("/reports/<slug>/evaluation")
@roles_required(*READERS)
def evaluation(slug: str):
    study, report, options = _evaluation(slug, "html")
    return render_template(
        "pages/reports/evaluation.html", study=study, report=report, params=_params(options),
        charts=chart_models(report), row_cells=row_cells, waves=_wave_names(study),
        breakdowns=[(k, str(v)) for k, v in BREAKDOWN_NAMES.items()
                    if (k not in APPOINTMENT_BREAKDOWNS or has_appointments(db(), study))
                    and (k != "arm" or study.arms)],
    )


@bp.route("/reports/<slug>/evaluation.csv")
@roles_required(*READERS)
def evaluation_csv(slug: str):
    from surveys.reports.export import render_csv as evaluation_csv_text

    study, report, _ = _evaluation(slug, "csv")
    return download(rendered("csv", lambda: evaluation_csv_text(report)), "text/csv",
                    _filename(study, report, "csv"))


@bp.route("/reports/<slug>/evaluation.xlsx")
@roles_required(*READERS)
def evaluation_xlsx(slug: str):
    from surveys.reports.export import render_xlsx

    study, report, _ = _evaluation(slug, "xlsx")
    return download(rendered("xlsx", lambda: render_xlsx(report, _codebook(study, report))),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    _filename(study, report, "xlsx"))


@bp.route("/reports/<slug>/evaluation.ods")
@roles_required(*READERS)
def evaluation_ods(slug: str):
    from surveys.reports.export_ods import render_ods

    study, report, _ = _evaluation(slug, "ods")
    return download(rendered("ods", lambda: render_ods(report, _codebook(study, report))),
                    "application/vnd.oasis.opendocument.spreadsheet",
                    _filename(study, report, "ods"))


@bp.route("/api/studies/<slug>/reports/evaluation")
@roles_required(*READERS)
def evaluation_json(slug: str):
    _, report, _ = _evaluation(slug, "json")
    return jsonify(report)


# The paired-change report (contracts section 4) ---------------------------------------


def _paired(slug: str, fmt: str) -> tuple[Study, dict]:
    from surveys.reports.evaluation import RULE
    from surveys.reports.paired_tables import clients, evaluator_paired, publish_paired

    study = _study(slug)
    options = _options(study)
    language = str(get_locale())
    try:
        report = cached_report(study.id, "paired", options, lambda: paired_report(
            db(), study, options["follow_up"], language=language))
    except StudyNotFound:
        abort(404)
    if options["publication"]:
        from surveys.reports.build import t

        threshold = study.disclosure_threshold
        report = publish_paired(report, threshold, t(RULE, language, threshold=threshold),
                                language)
    if _is_evaluator():
        report = evaluator_paired(report, study.disclosure_threshold, language,
                                  cohort=clients(db(), study))
    _audit(slug, "paired", fmt, follow_up=options["follow_up"],
           publication=options["publication"])
    return study, report


@bp.route("/reports/<slug>/paired")
@roles_required(*READERS)
def paired(slug: str):
    from surveys.reports.arm_tables import page_model

    study, report = _paired(slug, "html")
    # The comparison of arms and the report within each arm; None for a study without arms.
    arms = page_model(report, str(get_locale()))
    csv_params = {"follow_up": report["follow_up"]}
    if report.get("publication"):
        csv_params["publication"] = 1
    return render_template(
        "pages/reports/paired.html", study=study, report=report, arms=arms,
        row_cells=row_cells, waves=_wave_names(study),
        breakdown=request.args.get("breakdown") or None,
        comparison_csv_url=url_for("reports.comparison_csv", slug=study.slug, **csv_params)
        if arms else None)


@bp.route("/reports/<slug>/paired.csv")
@roles_required(*READERS)
def paired_csv(slug: str):
    _, report = _paired(slug, "csv")
    suffix = "-publication" if report.get("publication") else ""
    return download(rendered("csv", lambda: render_csv(report)), "text/csv",
                    f"paired-change-{slug}-{report['follow_up']}{suffix}.csv")


@bp.route("/api/studies/<slug>/reports/paired")
@roles_required(*READERS)
def paired_json(slug: str):
    _, report = _paired(slug, "json")
    return jsonify(report)


@bp.route("/reports/<slug>/comparison.csv")
@roles_required(*READERS)
def comparison_csv(slug: str):
    """The first arm against the second, one row per measure (studies with arms), with the
    publication and evaluator rules of the paired report."""
    from surveys.reports.arms import render_comparison_csv

    if not _study(slug).arms:
        abort(404)
    _, report = _paired(slug, "csv")
    suffix = "-publication" if report.get("publication") else ""
    # Its own key in the download cache: paired.csv shares the report's key.
    return download(rendered("comparison-csv", lambda: render_comparison_csv(report)),
                    "text/csv",
                    f"comparison-{slug}-{report['follow_up']}{suffix}.csv")


@bp.route("/reports/<slug>/pairs.csv")
@roles_required(*ROW_LEVEL)
def pairs_csv(slug: str):
    """Row-level paired scores (participant references): researchers and admins only."""
    from surveys.models import Response as SurveyResponse
    from surveys.reports.table import safe_text as safe_cell
    from surveys.studies.measures import (
        cohort_column,
        format_value,
        participant_baseline,
        response_pair,
    )

    study = _study(slug)
    follow_up = request.args.get("follow_up") or default_follow_up(study)
    wave = wave_or_404(study, follow_up)
    columns = [Participant.ref, Participant.site]
    header = ["participant_ref", "site"]
    shown = []  # the measure of each column after the first two: values written as in files
    for measure in study.measures:
        _, score = response_pair(measure)
        if measure.baseline:
            columns.append(participant_baseline(measure))
            header.append(cohort_column(measure))
            shown.append(measure)
        columns.append(score)
        header.append(f"{measure.key}_{follow_up}")
        shown.append(measure)
    rows = db().execute(
        select(*columns)
        .join(Participant, Participant.id == SurveyResponse.participant_id)
        .where(SurveyResponse.wave_id == wave.id, SurveyResponse.status == "submitted")
        .order_by(Participant.ref)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for ref, site, *values in rows:
        writer.writerow([safe_cell(ref), safe_cell(site), *[
            safe_cell(format_value(m, v)) for m, v in zip(shown, values, strict=True)]])
        count += 1
    _audit(slug, "pairs", "csv", follow_up=follow_up, rows=count)
    return download(out.getvalue(), "text/csv", f"paired-scores-{slug}-{follow_up}.csv")
