"""Interviewers' call lists for telephone waves: who to call now, recording each call, and
starting the interview (issue 14). Queries are in surveys/invitations/calls.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import select
from wtforms import DateField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from surveys import audit
from surveys.csv_safety import write_csv
from surveys.invitations import calls, windows
from surveys.models import CallOutcome, Invitation, Study
from surveys.privacy import ref_digest
from surveys.web.access import study_or_404, visible_studies
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now, settings
from surveys.web.downloads import download

bp = Blueprint("calls", __name__, url_prefix="/staff")

CALLERS = ("admin", "researcher", "interviewer")
RESEARCH = ("admin", "researcher")  # the CSV call list: researchers' own planning


def outcome_names() -> dict[str, str]:
    return {CallOutcome.NO_ANSWER: _("No answer"),
            CallOutcome.CALL_BACK: _("Asked to be called back"),
            CallOutcome.REFUSED: _("Refused"),
            CallOutcome.WRONG_NUMBER: _("Wrong number"),
            CallOutcome.COMPLETED: _("Interview started")}


class CallBackDate(DateField):
    """A GOV.UK date input that tolerates a form posted without its three boxes. A date
    that is not a real one (30 2 2026) is no date: it matters only for a call back, and
    the view says so then, with an example (other outcomes ignore the boxes)."""

    def process(self, formdata, *args, **kwargs) -> None:
        super().process(formdata, *args, **kwargs)
        if formdata is not None and len(self.raw_data or []) != 3:
            self.raw_data = ["", "", ""]
            self.data = None
        if self.process_errors:
            self.data = None
            self.process_errors = []


class CallForm(FlaskForm):
    outcome = RadioField(_l("What happened on the call?"), widget=GovRadioInput(), choices=[
        SelectChoice(CallOutcome.COMPLETED, _l("The client agreed: start the interview")),
        SelectChoice(CallOutcome.NO_ANSWER, _l("No answer: call again tomorrow")),
        SelectChoice(CallOutcome.CALL_BACK, _l("The client asked to be called back")),
        SelectChoice(CallOutcome.REFUSED, _l("The client refused: do not call again")),
        SelectChoice(CallOutcome.WRONG_NUMBER, _l("Wrong number: do not call again"))],
        description=_l("Record every call, answered or not."),
        validators=[InputRequired(_l("Select what happened on the call"))])
    call_back_on = CallBackDate(_l("Date to call back"), widget=GovDateInput(),
                                # The example, a week ahead, is set per request (call()).
                                validators=[Optional()], format=["%Y-%m-%d", "%d %m %Y"])
    call_back_time = StringField(_l("Time to call back"), widget=GovTextInput(),
                                 description=_l("In the 24-hour clock, for example 14:30"))
    submit = SubmitField(_l("Save this call"), widget=GovSubmitInput())


@bp.route("/calls")
@roles_required(*CALLERS)
def index():
    """Where an interviewer starts: the studies with telephone waves they may see."""
    studies = [s for s in db().scalars(visible_studies(select(Study).order_by(Study.name)))
               if calls.telephone_waves(s)]
    return render_template("pages/staff/calls_index.html", studies=studies)


def _wave(study: Study):
    waves = calls.telephone_waves(study)
    if not waves:
        abort(404)
    code = request.args.get("wave")
    chosen = next((w for w in waves if w.code == code), None) if code else \
        calls.wave_to_open(db(), waves, now())
    if chosen is None:
        abort(404)
    return waves, chosen


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9 else 1


@bp.route("/studies/<slug>/calls")
@roles_required(*CALLERS)
def call_list(slug: str):
    study = study_or_404(slug)
    waves, wave = _wave(study)
    due = calls.due_now(db(), wave, now(), _page_number())
    later = calls.later_today(db(), wave, now())
    return render_template("pages/staff/calls.html", study=study, waves=waves, wave=wave,
                           due=due, later=later, outcomes=outcome_names(),
                           when=lambda t: _local(study, t))


def _local(study: Study, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return format_datetime(moment.astimezone(windows.zone(study.time_zone)), "d MMM y, HH:mm")


@bp.route("/studies/<slug>/calls.csv")
@roles_required(*RESEARCH)
def call_list_csv(slug: str):
    study = study_or_404(slug)
    rows = [["participant_ref", "phone", "wave", "calls", "max_calls", "next_call_at",
             "last_outcome"]]
    # A study without a telephone wave has an empty call list (the header only).
    wave = _wave(study)[1] if calls.telephone_waves(study) else None
    found = [] if wave is None else (
        calls.due_now(db(), wave, now(), 1, size=100_000).rows
        + calls.later_today(db(), wave, now(), 1, size=100_000).rows)
    for r in found:
        rows.append([r.ref, r.phone or "", wave.code, r.calls, r.max_calls,
                     r.next_call_at.isoformat(), r.last_outcome or ""])
    audit.record(db(), now(), current_user(), "export", study=study.slug, report="call_list",
                 format="csv", rows=len(rows) - 1, wave=wave.code if wave else None)
    db().commit()
    return download("\ufeff" + write_csv(rows), "text/csv",
                    f"call-list-{study.slug}-{wave.code if wave else 'none'}.csv")


def _example_day(study: Study) -> str:
    """A week from today on the study's clock, as the date fields take it ("9 12 2026")."""
    day = now().astimezone(windows.zone(study.time_zone)).date() + timedelta(days=7)
    return f"{day.day} {day.month} {day.year}"


def _call_back_at(study: Study, form: CallForm) -> datetime:
    """The call-back time typed, in the study's local time. CallError "date" or "time"
    when that part is missing or not a real date or time (25:00)."""
    day, raw = form.call_back_on.data, (form.call_back_time.data or "").strip()
    if day is None:
        raise calls.CallError("date")
    minutes = windows.minutes(raw)
    if minutes is None or minutes >= 24 * 60:
        raise calls.CallError("time")
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60,
                    tzinfo=windows.zone(study.time_zone))


@bp.route("/studies/<slug>/calls/<int:invitation_id>", methods=["GET", "POST"])
@roles_required(*CALLERS)
def call(slug: str, invitation_id: int):
    """One client to call: their number and calls so far, and the form for this call."""
    study = study_or_404(slug)
    try:
        invitation = calls.callable_invitation(db(), invitation_id, study)
    except calls.CallError:
        abort(404)
    form = CallForm()
    problem_field = None
    example = _example_day(study)
    form.call_back_on.description = _("For example, %(example)s", example=example)
    problem = None
    if form.validate_on_submit():
        try:
            call_back = (_call_back_at(study, form)
                         if form.outcome.data == CallOutcome.CALL_BACK else None)
            calls.record_attempt(db(), invitation, form.outcome.data, now(), current_user().id,
                                 call_back)
        except calls.CallError as exc:
            problem = _call_problem(str(exc), example)
            # A missing or impossible date or time is shown at its field too, and the
            # summary links to it (the design system's error pattern).
            at_fault = {"date": (form.call_back_on, "call_back_on-day"),
                        "time": (form.call_back_time, "call_back_time")}.get(str(exc))
            if at_fault is not None:
                field, problem_field = at_fault
                field.errors = [problem]
        else:
            participant = invitation.participant
            audit.record(db(), now(), current_user(), "call_attempt", study=study.slug,
                         participant_id=participant.id,
                         ref_digest=ref_digest(settings().secret_key, study.slug,
                                               participant.ref),
                         invitation=invitation.id, wave=invitation.wave.code,
                         outcome=form.outcome.data)
            db().commit()
            if form.outcome.data == CallOutcome.COMPLETED:
                return start_entry(invitation)
            flash(_("Call saved for %(ref)s.", ref=participant.ref))
            return redirect(url_for("calls.call_list", slug=study.slug,
                                    wave=invitation.wave.code))
    elif form.errors:
        problem = _("Select what happened on the call")
    last = calls.last_outcomes(db(), [invitation.id]).get(invitation.id)
    return render_template("pages/staff/call.html", study=study, invitation=invitation,
                           wave=invitation.wave, form=form, problem=problem,
                           problem_field=problem_field,
                           last=outcome_names().get(last, ""),
                           when=lambda t: _local(study, t)), (400 if problem else 200)


def _call_problem(code: str, example: str) -> str:
    """The interviewer's one line for a call that could not be saved, in their language."""
    if code == "date":
        return _("Enter the date to call back, for example %(example)s", example=example)
    if code == "time":
        return _("Enter the time to call back in the 24-hour clock, for example 14:30")
    if code.startswith("The time to call back must be in the future"):
        return _("The time to call back must be in the future")
    if code.startswith("The time to call back must be before"):
        return _("The time to call back must be before the questionnaire closes")
    if code.startswith("Select"):
        return _("Select what happened on the call")
    return _("Enter the date and time to call back, for example 14:30")


def start_entry(invitation: Invitation):
    """Open the questionnaire for answers entered by telephone, on the client's behalf.

    A draft the client began online is never sent unseen: the interview starts on its
    first page, with a warning, and the check page asks the interviewer to confirm that
    they read the answers to the client (surveys/web/respond.py)."""
    session["invitation_id"] = invitation.id
    session["mode"] = "telephone"
    session["lang"] = invitation.participant.language
    draft = invitation.response
    session["web_draft"] = bool(draft is not None and draft.status != "submitted"
                                and draft.mode == "web")
    return redirect(url_for("respond.resume"))
