"""Evaluators' pages: the paired-change report as a page, CSV and JSON."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import get_locale
from sqlalchemy import select

from surveys import audit
from surveys.models import Study
from surveys.reporting import paired_report, render_csv
from surveys.studies import StudyNotFound
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now

bp = Blueprint("reports", __name__)
READERS = ("admin", "researcher", "evaluator")


def _report(slug: str, fmt: str) -> tuple[Study, dict]:
    study = db().scalar(select(Study).where(Study.slug == slug)) or abort(404)
    follow_up = request.args.get("follow_up", "wave2")
    try:
        report = paired_report(db(), study, follow_up, language=str(get_locale()))
    except StudyNotFound:
        abort(404)
    audit.record(db(), now(), current_user(), "report_view" if fmt == "html" else "export",
                 study=slug, report="paired", follow_up=follow_up, format=fmt)
    db().commit()
    return study, report


@bp.route("/reports/")
@roles_required(*READERS)
def index():
    studies = db().scalars(select(Study).order_by(Study.id)).all()
    return render_template("pages/reports/index.html", studies=studies)


@bp.route("/reports/<slug>/paired")
@roles_required(*READERS)
def paired(slug: str):
    study, report = _report(slug, "html")
    return render_template("pages/reports/paired.html", study=study, report=report)


@bp.route("/reports/<slug>/paired.csv")
@roles_required(*READERS)
def paired_csv(slug: str):
    _, report = _report(slug, "csv")
    filename = f"paired-change-{slug}-{report['follow_up']}.csv"
    return Response(render_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/api/studies/<slug>/reports/paired")
@roles_required(*READERS)
def paired_json(slug: str):
    _, report = _report(slug, "json")
    return jsonify(report)
