"""Chasing a wave (issue 14): its questionnaires not yet answered, a call list to
download, and pausing or resuming its issuing. Researchers and admins only: the list
carries references and contact details. Queries live in surveys/invitations/chasing.py.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from surveys import audit
from surveys.csv_safety import write_csv
from surveys.invitations import chasing
from surveys.list_pages import page_count
from surveys.models import Wave
from surveys.studies import waves as wave_names
from surveys.web.access import study_or_404
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now
from surveys.web.downloads import download, wave_or_404
from surveys.web.paging import pagination

bp = Blueprint("chasing", __name__, url_prefix="/staff/studies/<slug>/waves/<code>")

RESEARCH = ("admin", "researcher")


def wave_name(wave: Wave) -> str:
    return wave_names.wave_name(wave.code, wave.label, str(get_locale())[:2])


def message_outcomes() -> dict[str, str]:
    """The messages table's statuses in words."""
    return {"sending": _("sending"), "delivered": _("delivered"),
            "temporary-failure": _("not delivered yet (will try again)"),
            "permanent-failure": _("could not be delivered"),
            "technical-failure": _("not delivered (technical problem)"),
            "sent": _("sent")}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0


def _pagination(slug: str, code: str, page: chasing.OpenPage) -> dict | None:
    return pagination(page.page, page.pages,
                      lambda n: url_for("chasing.unanswered", slug=slug, code=code, page=n),
                      _("Pages of questionnaires"))


@bp.route("/unanswered")
@roles_required(*RESEARCH)
def unanswered(slug: str, code: str):
    study = study_or_404(slug)
    wave = wave_or_404(study, code)
    page = chasing.open_page(db(), study, wave, _page_number(), now())
    problem = None
    if page is None:
        pages = page_count(chasing.open_count(db(), wave))
        problem = _("Enter a page number from 1 to %(pages)s", pages=pages)
    return render_template(
        "pages/staff/unanswered.html", study=study, wave=wave, name=wave_name(wave),
        page=page, problem=problem, outcomes=message_outcomes(),
        pagination=_pagination(slug, code, page) if page else None,
        format_number=lambda n: format_decimal(n),
    ), (400 if problem else 200)


@bp.route("/unanswered.csv")
@roles_required(*RESEARCH)
def call_list_csv(slug: str, code: str):
    """Every open questionnaire of the wave with the client's contact details: a call list."""
    study = study_or_404(slug)
    wave = wave_or_404(study, code)
    body = write_csv(chasing.call_list(db(), study, wave, now()))
    audit.record(db(), now(), current_user(), "export", study=study.slug, report="call_list",
                 wave=code, format="csv")
    db().commit()
    # A byte order mark, so that spreadsheet programs read Welsh letters as UTF-8.
    return download("\ufeff" + body, "text/csv", f"call-list-{study.slug}-{wave.code}.csv")


def _back(slug: str, code: str) -> str:
    """Back to the page the button was on (a field of the form: browsers may send no
    Referer): the schedule, or the wave's unanswered list."""
    if request.form.get("back") == "schedule":
        return url_for("staff.schedule", slug=slug)
    return url_for("chasing.unanswered", slug=slug, code=code)


@bp.route("/pause", methods=["POST"])
@roles_required(*RESEARCH)
def pause(slug: str, code: str):
    study = study_or_404(slug)
    wave = wave_or_404(study, code)
    if chasing.pause(wave, now()):
        audit.record(db(), now(), current_user(), "wave_paused", study=study.slug, wave=code)
        db().commit()
        flash(_("Issuing of %(wave)s is paused. Its questionnaires and reminders wait until "
                "you resume it.", wave=wave_name(wave)))
    else:
        flash(_("%(wave)s was already paused.", wave=wave_name(wave)))
    return redirect(_back(slug, code))


@bp.route("/resume", methods=["POST"])
@roles_required(*RESEARCH)
def resume(slug: str, code: str):
    study = study_or_404(slug)
    wave = wave_or_404(study, code)
    if wave.paused_at is None:
        flash(_("%(wave)s is not paused.", wave=wave_name(wave)))
        return redirect(_back(slug, code))
    waiting = chasing.resume(db(), wave)
    audit.record(db(), now(), current_user(), "wave_resumed", study=study.slug, wave=code,
                 waiting=waiting)
    db().commit()
    flash(_("Issuing of %(wave)s resumed. %(num)s questionnaires that were waiting will be "
            "issued now, or marked too late to answer if their answering time has passed.",
            wave=wave_name(wave), num=format_decimal(waiting)))
    return redirect(_back(slug, code))
