"""A client asking not to be contacted again: the stop link every message carries.

The link uses the invitation's personal token, so it works for as long as the invitation
exists: after the questionnaire closed or was answered too. Stopping is recorded once
(Participant.opted_out_at) and audited; surveys.invitations.cancel_reason then stops
every later message of the study to that client.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, session
from flask_babel import refresh

from surveys import audit
from surveys.i18n import client_language, programme_name
from surveys.models import Invitation
from surveys.privacy import ref_digest
from surveys.studies.message_texts import study_words
from surveys.web.context import db, now, settings
from surveys.web.respond import invitation_for_link

bp = Blueprint("optout", __name__)


@bp.route("/stop/<token>", methods=["GET", "POST"])
def stop(token: str):
    # Counted like a wrong questionnaire link, so stop links cannot be guessed either.
    invitation, refusal = invitation_for_link(token)
    if invitation is None:
        return refusal
    language = _speak_for(invitation)
    participant = invitation.participant
    study = invitation.wave.study
    if request.method == "POST" and participant.opted_out_at is None:
        participant.opted_out_at = now()
        # The action and detail the participant page's timeline reads (participant_record).
        audit.record(db(), now(), None, "participant_opted_out", actor="client",
                     study=study.slug, participant_id=participant.id, wave=invitation.wave.code,
                     # A digest, as for erasure: the audit log never keeps a reference.
                     ref_digest=ref_digest(settings().secret_key, study.slug, participant.ref))
        db().commit()
    template = ("pages/respond/stopped.html" if participant.opted_out_at is not None
                else "pages/respond/stop.html")
    return render_template(template, programme=programme_name(study, language),
                           contact=study_words(study, language)["contact"],
                           organisation=study_words(study, language)["organisation"],
                           client_languages=g.client_languages,
                           opted_out_on=participant.opted_out_at)


def _speak_for(invitation: Invitation) -> str:
    """The page speaks the client's language among the study's (as surveys/web/respond.py)."""
    study = invitation.wave.study
    g.client_study = study
    g.client_languages = list(study.languages or ()) or ["en"]
    wanted = request.args.get("lang") or session.get("lang") or invitation.participant.language
    language = client_language(study, wanted)
    if session.get("lang") != language:
        session["lang"] = language
        refresh()
    return language
