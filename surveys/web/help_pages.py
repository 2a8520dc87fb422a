"""The pages every client page's footer links to: accessibility, privacy and contact.

They speak for the client's study when a personal link is open in the session (its
programme, languages and, when the study gives them, `messages` "organisation" and
"contact"), else in the service's general words.
"""

from __future__ import annotations

from flask import Blueprint, render_template, session

from surveys.i18n import programme_name
from surveys.models import Invitation
from surveys.studies.message_texts import study_words
from surveys.web import respond
from surveys.web.context import db

bp = Blueprint("help", __name__, url_prefix="/help")
# The client's programme and languages, as on the questionnaire pages.
bp.context_processor(respond.study_context)


def _client_study():
    """The study of the personal link open in this session, or None."""
    invitation_id = session.get("invitation_id")
    invitation = db().get(Invitation, invitation_id) if invitation_id else None
    if invitation is None:
        return None
    study = invitation.wave.study
    respond.speak_for(study)
    return study


def _render(template: str):
    study = _client_study()
    language = respond.current_language()
    words = study_words(study, language) if study is not None else {
        "organisation": None, "contact": None}
    return render_template(
        template,
        study_programme=programme_name(study, language) if study is not None else "",
        organisation=words["organisation"] or "",
        contact=words["contact"] or "",
    )


@bp.route("/accessibility")
def accessibility():
    return _render("pages/help/accessibility.html")


@bp.route("/privacy")
def privacy():
    return _render("pages/help/privacy.html")


@bp.route("/contact")
def contact():
    return _render("pages/help/contact.html")
