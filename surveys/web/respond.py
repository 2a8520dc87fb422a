"""Clients answering through their personal link (and staff answering for them by telephone)."""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import refresh
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from instruments import text, visible_pages
from surveys import audit, throttle
from surveys.i18n import client_language, programme_name
from surveys.invitations import find_by_token
from surveys.models import Invitation, InvitationStatus, Study, Wave
from surveys.responses import questionnaire
from surveys.web.auth import current_user
from surveys.web.context import db, now, settings
from surveys.web.forms import page_form, parsed_values

bp = Blueprint("respond", __name__)


@bp.route("/")
def start():
    return render_template("pages/start.html")


def invitation_for_link(token: str) -> tuple[Invitation | None, tuple | None]:
    """The invitation a personal link (questionnaire or stop link) opens, or the page to
    answer instead: 429 to a client who has guessed too many links, 404 for an unknown
    one (counted as a guess, so no link can be found by trying)."""
    client = throttle.client_key(settings().secret_key, request.remote_addr)
    if throttle.is_blocked(db(), throttle.LINK_GUESSES, client, now()):
        wait = throttle.retry_after(db(), throttle.LINK_GUESSES, client, now())
        return None, (render_template("pages/errors/too_many.html", code=429), 429, {
            "Retry-After": str(wait or int(throttle.LINK_GUESSES.window.total_seconds()))})
    invitation = find_by_token(db(), token)
    if invitation is None:
        throttle.record_failure(db(), throttle.LINK_GUESSES, client, now())
        db().commit()
        return None, (render_template("pages/respond/unknown_link.html"), 404)
    return invitation, None


@bp.route("/r/<token>")
def open_link(token: str):
    """Check the link, remember it in the session and send the client to where they were.

    A client who has tried too many unknown links is stopped for a while, even
    with a right one, so guessing links gains nothing (surveys/throttle.py).
    """
    invitation, refusal = invitation_for_link(token)
    if invitation is None:
        return refusal
    session["invitation_id"] = invitation.id
    session["mode"] = "web"
    if "lang" not in session:
        session["lang"] = client_language(invitation.wave.study, invitation.participant.language)
    return redirect(url_for("respond.resume"))


class ClientStudy(NamedTuple):
    """What client pages need of their study (surveys.i18n reads these three)."""

    name: str
    programme: dict
    languages: list


# One SELECT, built once, for what every client page needs: the link, the answers so far
# and the study's name, programme and languages as plain columns. Loading Wave and Study
# objects instead (and session.get with loader options built per request) cost each
# submission about 0.5 ms of CPU. The wave and the client load on the few pages using them.
_CURRENT = (
    select(Invitation, Study.name, Study.programme, Study.languages)
    .join(Wave, Wave.id == Invitation.wave_id)
    .join(Study, Study.id == Wave.study_id)
    .where(Invitation.id == bindparam("invitation_id"))
    .options(joinedload(Invitation.response))
)


def _current() -> Invitation:
    invitation_id = session.get("invitation_id")
    if not invitation_id:
        abort(404)
    row = db().execute(_CURRENT, {"invitation_id": invitation_id}).one_or_none()
    if row is None:
        abort(404)
    invitation = row[0]
    speak_for(ClientStudy(*row[1:]))
    g.telephone_invitation = invitation if _telephone() else None
    if session.get("mode") == "telephone":
        user = current_user()
        if user is None or user.role not in ("researcher", "admin", "interviewer"):
            session.pop("invitation_id", None)
            abort(403)
    return invitation


def _blocked(invitation: Invitation):
    """A page explaining why this link cannot be answered now, or None."""
    response = invitation.response
    if response is not None and response.status == "submitted":
        return render_template("pages/respond/already_completed.html", response=response)
    if invitation.status == InvitationStatus.CLOSED or (
        invitation.closes_on and invitation.closes_on < now().date()
    ):
        return render_template("pages/respond/closed.html", invitation=invitation)
    if invitation.status not in (InvitationStatus.ISSUED, InvitationStatus.COMPLETED):
        return render_template("pages/respond/closed.html", invitation=invitation)
    return None


def speak_for(study: Study | ClientStudy) -> None:
    """Client pages speak only their study's languages (surveys.web.setup.select_locale):
    a client whose language the study lacks, or who asks for it, gets its first."""
    g.client_study = study
    g.client_languages = list(study.languages or ()) or ["en"]
    language = client_language(study, session.get("lang"))
    if session.get("lang") != language:
        session["lang"] = language
        refresh()  # the locale may already have been chosen for this request


@bp.context_processor
def study_context() -> dict:
    """The programme a client knows, and the languages to offer, for the client's study."""
    study = g.get("client_study")
    if study is None:
        return {}
    return {"programme": programme_name(study, current_language()),
            "client_languages": g.client_languages}


def current_language() -> str:
    study = g.get("client_study")
    if study is None:
        return session.get("lang") or "en"
    return client_language(study, session.get("lang"))


def _start_response(invitation: Invitation):
    user = current_user() if session.get("mode") == "telephone" else None
    response = questionnaire.start(
        db(), invitation, now(), mode=session.get("mode", "web"), entered_by=user
    )
    return response


@bp.route("/q/")
def resume():
    invitation = _current()
    blocked = _blocked(invitation)
    if blocked is not None:
        return blocked
    response = invitation.response
    if response is None:
        instrument = questionnaire.instrument_for(invitation)
        return render_template(
            "pages/respond/intro.html",
            instrument=instrument,
            invitation=invitation,
            first=questionnaire.next_page_id(instrument, {}, None),
        )
    instrument = questionnaire.instrument_for(invitation, response)
    if _confirming_draft():
        # The client's own online draft: go through it with them from the first page.
        first = questionnaire.next_page_id(instrument, response.answers, None)
        return redirect(url_for("respond.page", page_id=first))
    return redirect(url_for("respond.page", page_id=questionnaire.resume_page_id(instrument,
                                                                                  response)))


def _telephone() -> bool:
    return session.get("mode") == "telephone"


def _confirming_draft() -> bool:
    """Telephone entry over answers the client began online (surveys/web/calls.start_entry):
    they are sent only once the interviewer confirms they read them to the client."""
    return _telephone() and bool(session.get("web_draft"))


@bp.context_processor
def on_behalf() -> dict:
    """Whose answers these are, for the banner on every page of telephone entry."""
    if not _telephone() or request.endpoint not in ("respond.page", "respond.resume"):
        return {}
    invitation = g.get("telephone_invitation")
    if invitation is None:
        return {}
    from surveys.studies.waves import wave_name
    return {"on_behalf": {"ref": invitation.participant.ref,
                          "wave": wave_name(invitation.wave.code, invitation.wave.label,
                                            current_language()),
                          "web_draft": _confirming_draft()}}


@bp.route("/q/<page_id>", methods=["GET", "POST"])
def page(page_id: str):
    invitation = _current()
    blocked = _blocked(invitation)
    if blocked is not None:
        return blocked
    if page_id == questionnaire.CHECK:
        return check_answers(invitation)
    response = invitation.response
    instrument = questionnaire.instrument_for(invitation, response)
    answers = response.answers if response else {}
    shown = {p.id: p for p in visible_pages(instrument, answers)}
    if page_id not in shown:
        # A page hidden by routing, or made up: go to where the client should be.
        return redirect(url_for("respond.resume"))
    current = shown[page_id]
    returning = _returning() and response is not None
    language = current_language()
    form = page_form(current, language, answers, formdata=request.form if request.method ==
                     "POST" else None)
    if request.method == "POST" and form.validate():
        if response is None:
            response = _start_response(invitation)
        if session.get("mode") == "telephone":
            response.mode = "telephone"
            response.entered_by_id = current_user().id
        questionnaire.save_page(response, instrument, current, parsed_values(form, current))
        db().commit()
        if "save_and_exit" in request.form:
            return redirect(url_for("respond.saved"))
        if returning:
            # Back to check-answers, through any page the changed answer newly opened.
            target = questionnaire.after_change(instrument, response.answers, page_id)
            return redirect(_page_url(target, returning=target != questionnaire.CHECK))
        target = questionnaire.next_page_id(instrument, response.answers, page_id)
        return redirect(url_for("respond.page", page_id=target))
    if returning:
        back = url_for("respond.page", page_id=questionnaire.CHECK)
    else:
        previous = questionnaire.previous_page_id(instrument, answers, page_id)
        back = url_for("respond.page", page_id=previous) if previous else url_for(
            "respond.resume")
    # No "Question 4 of 6": routing changes the count as the client answers (GOV.UK's
    # question pages pattern); the caption names the questionnaire instead.
    return render_template(
        "pages/respond/question.html",
        form=form,
        page=current,
        instrument=instrument,
        language=language,
        text=text,
        back=back,
        telephone=session.get("mode") == "telephone",
    ), (400 if form.errors else 200)


RETURN_TO_CHECK = "check"


def _returning() -> bool:
    """Whether the client came from "Change" on check-answers (?return=check). Only that
    one word counts, and it only ever leads to this service's check-answers page, so the
    parameter cannot send anyone elsewhere."""
    return request.args.get("return") == RETURN_TO_CHECK


def _page_url(page_id: str, *, returning: bool = False) -> str:
    if returning:
        return url_for("respond.page", page_id=page_id, **{"return": RETURN_TO_CHECK})
    return url_for("respond.page", page_id=page_id)


def check_answers(invitation: Invitation):
    response = invitation.response
    if response is None:
        return redirect(url_for("respond.resume"))
    instrument = questionnaire.instrument_for(invitation, response)
    missing = questionnaire.missing_required(instrument, response)
    unconfirmed = False
    if request.method == "POST":
        if missing:
            return redirect(url_for("respond.page", page_id=_page_of(instrument, missing[0])))
        unconfirmed = _confirming_draft() and request.form.get("confirmed") != "yes"
    if request.method == "POST" and not unconfirmed:
        if _telephone():
            mode = "telephone"
            submitted = questionnaire.submit_by_telephone(
                db(), response, instrument, invitation, current_user().id, now())
        else:
            mode = response.mode  # read before submit() expires the row
            submitted = questionnaire.submit(db(), response, instrument, now())
        if submitted:
            if mode == "telephone":
                audit.record(db(), now(), current_user(), "telephone_entry",
                             invitation=invitation.id, wave=invitation.wave.code)
            db().commit()
        else:
            db().rollback()
        return redirect(url_for("respond.done"))
    return render_template(
        "pages/respond/check.html",
        summary=[
            (_page_url(page.id, returning=True), text(q.text, current_language()),
             display_answer(q, response.answers.get(q.id), current_language()))
            for page in visible_pages(instrument, response.answers)
            for q in page.questions
        ],
        back=url_for("respond.page", page_id=questionnaire.previous_page_id(
            instrument, response.answers, questionnaire.CHECK) or questionnaire.CHECK),
        confirm=_confirming_draft(), unconfirmed=unconfirmed,
    ), (400 if unconfirmed else 200)


def display_answer(question, value, language: str) -> str:
    """An answer as the client would recognise it: the label they chose, not its code."""
    if value is None:
        return ""
    if question.type in ("scale_0_10", "free_text"):
        return str(value)
    chosen = value if isinstance(value, list) else [value]
    labels = {c.value: text(c.label, language) for c in question.choices}
    return ", ".join(labels.get(v, str(v)) for v in chosen)


def _page_of(instrument, question_id: str) -> str:
    for candidate in instrument.pages:
        if any(q.id == question_id for q in candidate.questions):
            return candidate.id
    return questionnaire.CHECK


@bp.route("/q/done")
def done():
    invitation = _current()
    response = invitation.response
    if response is None or response.status != "submitted":
        return redirect(url_for("respond.resume"))
    telephone = session.get("mode") == "telephone"
    back, to_calls = None, False
    if telephone:
        session.pop("invitation_id", None)
        session.pop("mode", None)
        session.pop("web_draft", None)
        # An interviewer's next client is on the wave's call list (the studies page is
        # for researchers; interviewers may not open it).
        wave = invitation.wave
        to_calls = wave.mode == "telephone"
        back = (url_for("calls.call_list", slug=wave.study.slug, wave=wave.code) if to_calls
                else url_for("staff.dashboard"))
    return render_template("pages/respond/done.html", telephone=telephone, back=back,
                           to_calls=to_calls)


@bp.route("/q/saved")
def saved():
    invitation = _current()
    return render_template("pages/respond/saved.html", invitation=invitation)
