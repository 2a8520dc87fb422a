"""Researchers' and admins' pages for the participants of a study: the list (search,
filters, pages, CSV) and one participant (details, timeline, actions).

Evaluators never see these (references and contact details). Every action is a POST with
its CSRF token, audited in the same transaction, and shows a banner after.
"""

from __future__ import annotations

from functools import partial

from babel import dates as babel_dates
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from surveys import audit, phones
from surveys.cohort import participant_list as plist
from surveys.cohort import participant_record as record
from surveys.csv_safety import write_csv
from surveys.invitations import link_for, windows
from surveys.list_pages import page_count
from surveys.models import Invitation, Participant, Study
from surveys.privacy import erase_outbox_copies, erase_participant, ref_digest
from surveys.studies import measures
from surveys.studies.waves import wave_name
from surveys.web.access import study_or_404
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now, settings
from surveys.web.downloads import download
from surveys.web.paging import filter_problem, page_number, pagination

bp = Blueprint("participants", __name__, url_prefix="/staff/studies/<slug>")

RESEARCH = ("admin", "researcher")

_study = study_or_404  # a study the person may not see answers as one that does not exist


# --- the list ------------------------------------------------------------------------------

def _filters() -> plist.Filters:
    args = request.args
    return plist.Filters(
        ref=args.get("ref", "").strip(), site=args.get("site", "").strip(), arm=args.get("arm", ""),
        wave=args.get("wave", ""), status=args.get("status", ""),
        delivery_problem=args.get("problem") == "1", withdrawn=args.get("withdrawn") == "1",
        opted_out=args.get("opted_out") == "1", sort=args.get("sort") or "reference")


def _page_number() -> int | None:
    return page_number(request.args.get("page", "1"))


@bp.route("/participants")
@roles_required(*RESEARCH)
def index(slug: str):
    study = _study(slug)
    filters = _filters()
    problem = None
    page = None
    try:
        filters = filters.checked(study)
        number = _page_number()
        if number is None:
            raise plist.BadFilter("bad_page",
                                  pages=page_count(plist.count(db(), study, filters)))
        page = plist.page_of(db(), study, filters, number)
    except plist.BadFilter as exc:
        problem = filter_problem(exc)
    return render_template(
        "pages/staff/participants.html", study=study, filters=filters, page=page,
        problem=problem, statuses=_status_names(),
        pagination=_pagination(page, filters) if page else None,
        format_number=lambda n: format_decimal(n),
    ), (400 if problem else 200)


def _status_names() -> dict[str, str]:
    return {"scheduled": _("not yet due"), "issued": _("open"), "completed": _("answered"),
            "closed": _("closed unanswered"),
            "out_of_window": _("not issued: outside the study window"),
            "lapsed": _("not issued: too late to answer")}


def _pagination(page: plist.ParticipantPage, filters: plist.Filters) -> dict | None:
    slug = request.view_args["slug"]
    return pagination(page.page, page.pages,
                      lambda n: url_for("participants.index", slug=slug, page=n,
                                        **filters.query_args()),
                      _("Pages of participants"))


@bp.route("/participants.csv")
@roles_required(*RESEARCH)
def participants_csv(slug: str):
    study = _study(slug)
    try:
        filters = _filters().checked(study)
    except plist.BadFilter:
        return index(slug)  # the list page, saying what is wrong (400)
    rows = list(plist.csv_rows(db(), study, filters))
    audit.record(db(), now(), current_user(), "export", study=study.slug,
                 report="participants", format="csv", rows=len(rows) - 1,
                 filters=filters.query_args())
    db().commit()
    # A byte order mark, so that spreadsheet programs read Welsh letters as UTF-8.
    return download("\ufeff" + write_csv(rows), "text/csv", f"participants-{study.slug}.csv")


# --- one participant -----------------------------------------------------------------------

def _participant(study: Study, ref: str) -> Participant:
    found = plist.by_ref(db(), study, ref)
    if found is None:
        abort(404)
    return found


def _digest(study: Study, participant: Participant) -> str:
    return ref_digest(settings().secret_key, study.slug, participant.ref)


def _valid_email(form, field) -> None:
    value = (field.data or "").strip()
    if value and (value.count("@") != 1 or " " in value or value.startswith("@")
                  or value.endswith("@") or "." not in value.split("@")[1]):
        raise ValidationError(_l("Enter an email address in the correct format, "
                                 "like name@example.com"))


def _valid_phone(form, field) -> None:
    value = (field.data or "").strip()
    if value:
        e164, problem = phones.normalise(value)
        if problem:
            raise ValidationError(_l("Enter a UK phone number, like 07700 900123"))
        field.data = e164


class ContactForm(FlaskForm):
    email = StringField(_l("Email address"), widget=GovTextInput(),
                        validators=[Length(max=320), _valid_email])
    phone = StringField(_l("Phone number"), widget=GovTextInput(),
                        validators=[Length(max=40), _valid_phone])
    reason = StringField(_l("Reason for the change"), widget=GovTextInput(),
                         validators=[InputRequired(_l("Enter the reason for the change")),
                                     Length(max=200, message=_l(
                                         "Reason must be 200 characters or fewer"))])
    submit = SubmitField(_l("Save contact details"), widget=GovSubmitInput())


class InvitationForm(FlaskForm):
    invitation_id = HiddenField(validators=[InputRequired(_l("Select a questionnaire"))])


class WithdrawForm(FlaskForm):
    answers = RadioField(_l("Their answers"), widget=GovRadioInput(),
                         choices=[SelectChoice("keep", _l("Keep the answers they have given")),
                                  SelectChoice("erase",
                                               _l("Erase the participant and their answers"))],
                         validators=[InputRequired(_l("Select whether to keep their answers"))])
    submit = SubmitField(_l("Withdraw participant"), widget=GovSubmitInput())


class EraseForm(FlaskForm):
    confirm_ref = StringField(_l("Type the reference to confirm"), widget=GovTextInput(),
                              validators=[InputRequired(_l("Type the reference to confirm"))])
    responses = RadioField(_l("Their submitted answers"), widget=GovRadioInput(),
                           choices=[SelectChoice("keep", _l("Keep them without any link to "
                                                            "the participant")),
                                    SelectChoice("delete", _l("Delete them too"))],
                           validators=[InputRequired(_l("Select whether to keep their "
                                                        "submitted answers"))])
    submit = SubmitField(_l("Erase participant"), widget=GovSubmitInput())


def _show(study: Study, participant: Participant, *, status: int = 200, contact=None,
          withdraw_form=None, erase_form=None, problem: str | None = None,
          personal_link: tuple[str, str] | None = None):
    language = get_locale().language if get_locale() else "en"
    today = now().date()
    invitations = record.invitations_of(db(), participant)
    events = record.timeline(db(), study, participant, _digest(study, participant), today)
    return render_template(
        "pages/staff/participant.html", study=study, participant=participant,
        baselines=[(measures.label(m, language),
                    measures.format_value(m, getattr(participant, f"baseline_{m.slot}")))
                   for m in study.measures if m.baseline],
        invitations=invitations,
        resendable={inv.id for inv in invitations
                    if record.can_resend(db(), inv, participant, today)},
        responses=record.responses_of(db(), participant),
        events=[(e, _event_when(e, study), _event_text(e, _wave_names(study)))
                for e in events],
        contact=contact or ContactForm(formdata=None, obj=participant),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        erase_form=erase_form or EraseForm(formdata=None),
        problem=problem, personal_link=personal_link, statuses=_status_names(),
        role=current_user().role,
    ), status


def _event_when(event: record.Event, study: Study) -> str:
    """When, as a UK reader writes it ("16 July 2024, 09:00"), on the study's clock."""
    locale = "en_GB" if str(get_locale()) == "en" else str(get_locale())
    if event.on_day:
        return babel_dates.format_date(event.at.date(), "d MMMM yyyy", locale=locale)
    return babel_dates.format_datetime(event.at, "d MMMM yyyy, HH:mm", locale=locale,
                                       tzinfo=windows.zone(study.time_zone))


def _wave_names(study: Study) -> dict[str, str]:
    """Wave code -> its name in the page's language (staff pages name waves, not codes)."""
    language = str(get_locale())[:2]
    return {w.code: wave_name(w.code, w.label, language) for w in study.waves}


MESSAGE_STATUS = {"sending": _l("sending"), "delivered": _l("delivered"),
                  "temporary-failure": _l("not delivered yet (will try again)"),
                  "permanent-failure": _l("not delivered: wrong address or number"),
                  "technical-failure": _l("not delivered (technical problem)"),
                  "sent": _l("sent")}


def _event_text(e: record.Event, names: dict[str, str]) -> str:
    v = e.values
    wave = names.get(v.get("wave", ""), v.get("wave", ""))
    if e.kind == "message":
        channel = _("text message") if v["channel"] == "sms" else _("email")
        status = MESSAGE_STATUS.get(v["status"], v["status"])
        if v["kind"] == "resend" and v.get("asked_by"):
            text = _("%(wave)s link sent again by %(channel)s, as %(actor)s asked: %(status)s",
                     wave=wave, channel=channel, actor=v["asked_by"], status=status)
        elif v["kind"] == "resend":
            text = _("%(wave)s link sent again by %(channel)s: %(status)s", wave=wave,
                     channel=channel, status=status)
        else:
            what = (_("Reminder %(num)s", num=v["sequence"]) if v["kind"] == "reminder"
                    else _("Invitation"))
            text = _("%(what)s for %(wave)s by %(channel)s: %(status)s", what=what, wave=wave,
                     channel=channel, status=status)
        return text + (f" ({v['error']})" if v.get("error") else "")
    texts = {
        "due": _("%(wave)s questionnaire due to be issued", wave=wave),
        "out_of_window": _("%(wave)s questionnaire not issued: outside the study window",
                           wave=wave),
        "lapsed": _("%(wave)s questionnaire not issued: too late to answer", wave=wave),
        "issued": _("%(wave)s questionnaire issued", wave=wave),
        "reminder": _("%(wave)s reminder %(num)s queued", wave=wave, num=v.get("count", 1)),
        "delivery_failed": _("%(wave)s email could not be delivered after every retry",
                             wave=wave),
        "closed": _("%(wave)s questionnaire closed unanswered", wave=wave),
        "opened": _("%(wave)s questionnaire opened", wave=wave),
        "saved": _("%(wave)s answers saved, not yet submitted", wave=wave),
        "answered": (_("%(wave)s answers imported", wave=wave) if v.get("source") == "import"
                     else _("%(wave)s answered online", wave=wave)),
        "telephone": _("%(wave)s answered by telephone", wave=wave),
        "opted_out": _("Asked for no more messages from the study"),
        "withdrawn": _("Withdrawn from the study"),
        "contact_erased": _("Contact details erased: no questionnaire can be sent any more"),
        "audit:contact_details_changed": _("%(actor)s changed %(fields)s: %(reason)s",
                                           actor=v.get("actor", ""),
                                           fields=", ".join(v.get("fields", [])),
                                           reason=v.get("reason", "")),
        "audit:participant_resend": _("%(actor)s asked for the %(wave)s link to be sent "
                                      "again", actor=v.get("actor", ""), wave=wave),
        "audit:personal_link_shown": _("%(actor)s was shown the %(wave)s personal link",
                                       actor=v.get("actor", ""), wave=wave),
        "audit:participant_withdrawn": _("%(actor)s withdrew the participant",
                                         actor=v.get("actor", "")),
        "audit:participant_opted_out": _("Opted out of messages"),
        "audit:participant_erased": _("%(actor)s erased the participant",
                                      actor=v.get("actor", "")),
    }
    return texts.get(e.kind, e.kind)


@bp.route("/participants/<ref>")
@roles_required(*RESEARCH)
def show(slug: str, ref: str):
    study = _study(slug)
    return _show(study, _participant(study, ref))


@bp.route("/participants/<ref>/contact", methods=["POST"])
@roles_required(*RESEARCH)
def contact(slug: str, ref: str):
    study = _study(slug)
    participant = _participant(study, ref)
    form = ContactForm()
    if not form.validate():
        return _show(study, participant, status=400, contact=form)
    new = {"email": (form.email.data or "").strip() or None,
           "phone": (form.phone.data or "").strip() or None}
    changed = [name for name, value in new.items() if getattr(participant, name) != value]
    if not changed:
        return _show(study, participant, status=400, contact=form,
                     problem=_("The contact details are the same as before: nothing changed"))
    for name in changed:
        setattr(participant, name, new[name])
    # Which details changed and why; the addresses themselves stay out of the audit log.
    audit.record(db(), now(), current_user(), "contact_details_changed", study=study.slug,
                 participant_id=participant.id, ref_digest=_digest(study, participant),
                 fields=changed, reason=form.reason.data.strip())
    db().commit()
    flash(_("Contact details saved."))
    return redirect(url_for("participants.show", slug=slug, ref=participant.ref))


def _invitation(participant: Participant, form: InvitationForm) -> Invitation | None:
    raw = form.invitation_id.data or ""
    if not form.validate() or not raw.isdigit() or len(raw) > 12:
        return None
    inv = db().get(Invitation, int(raw))
    return inv if inv is not None and inv.participant_id == participant.id else None


@bp.route("/participants/<ref>/resend", methods=["POST"])
@roles_required(*RESEARCH)
def resend(slug: str, ref: str):
    study = _study(slug)
    participant = _participant(study, ref)
    inv = _invitation(participant, InvitationForm())
    if inv is None or not record.can_resend(db(), inv, participant, now().date()):
        return _show(study, participant, status=400, problem=_(
            "That questionnaire cannot be sent again: it is not open and unanswered, or "
            "the participant cannot be contacted"))
    number = record.resend(db(), inv, now())
    audit.record(db(), now(), current_user(), "participant_resend", study=study.slug,
                 participant_id=participant.id, ref_digest=_digest(study, participant),
                 invitation=inv.id, wave=inv.wave.code, resend=number)
    db().commit()
    flash(_("The link for the %(wave)s questionnaire will be sent again in the study's next "
            "sending hours.",
            wave=_wave_names(study).get(inv.wave.code, inv.wave.code)))
    return redirect(url_for("participants.show", slug=slug, ref=participant.ref))


@bp.route("/participants/<ref>/link", methods=["POST"])
@roles_required("researcher")
def personal_link(slug: str, ref: str):
    """The client's personal link, to read out on the telephone: researchers only, and
    shown on this page only (never stored in the session or a redirect)."""
    study = _study(slug)
    participant = _participant(study, ref)
    inv = _invitation(participant, InvitationForm())
    if inv is None or inv.status != "issued" or not inv.nonce:
        return _show(study, participant, status=400,
                     problem=_("That questionnaire has no open personal link"))
    audit.record(db(), now(), current_user(), "personal_link_shown", study=study.slug,
                 participant_id=participant.id, ref_digest=_digest(study, participant),
                 invitation=inv.id, wave=inv.wave.code)
    db().commit()
    link = link_for(settings().base_url, settings().secret_key, inv)
    return _show(study, participant, personal_link=(
        _wave_names(study).get(inv.wave.code, inv.wave.code), link))


@bp.route("/participants/<ref>/withdraw", methods=["POST"])
@roles_required(*RESEARCH)
def withdraw(slug: str, ref: str):
    study = _study(slug)
    participant = _participant(study, ref)
    form = WithdrawForm()
    if not form.validate():
        return _show(study, participant, status=400, withdraw_form=form)
    if participant.withdrawn_at is not None and form.answers.data == "keep":
        return _show(study, participant, status=400,
                     problem=_("This participant has already been withdrawn"))
    if form.answers.data == "erase":
        return _erase(study, participant, delete_responses=True, withdrawn=True)
    cancelled = record.withdraw(db(), participant, now())
    audit.record(db(), now(), current_user(), "participant_withdrawn", study=study.slug,
                 participant_id=participant.id, ref_digest=_digest(study, participant),
                 answers="kept", cancelled=cancelled)
    db().commit()
    flash(_("%(ref)s has been withdrawn: no more messages will be sent. Their answers "
            "are kept.", ref=participant.ref))
    return redirect(url_for("participants.show", slug=slug, ref=participant.ref))


@bp.route("/participants/<ref>/erase", methods=["POST"])
@roles_required(*RESEARCH)
def erase(slug: str, ref: str):
    study = _study(slug)
    participant = _participant(study, ref)
    form = EraseForm()
    if not form.validate():
        return _show(study, participant, status=400, erase_form=form)
    if form.confirm_ref.data.strip().lower() != participant.ref.lower():
        form.confirm_ref.errors = [_("Type the reference %(ref)s to confirm",
                                     ref=participant.ref)]
        return _show(study, participant, status=400, erase_form=form)
    return _erase(study, participant, delete_responses=form.responses.data == "delete",
                  withdrawn=False)


def _erase(study: Study, participant: Participant, *, delete_responses: bool,
           withdrawn: bool):
    """The erasure `surveys erase-participant` does, outbox copies included."""
    from scheduler.jobs import message_id_for
    from surveys.invitations.mailer import OutboxMailer

    ref = participant.ref
    digest = _digest(study, participant)
    report = erase_participant(db(), study, ref, delete_responses=delete_responses)
    mailer = current_app.extensions.get("surveys.mailer")
    if isinstance(mailer, OutboxMailer):
        erase_outbox_copies(mailer, report, partial(message_id_for, settings().secret_key))
    audit.record(db(), now(), current_user(), "participant_erased", study=study.slug,
                 ref_digest=digest, withdrawn=withdrawn, **report.counts())
    db().commit()
    flash(_("%(ref)s has been erased: %(kept)s answers kept without any link to them, "
            "%(deleted)s deleted.", ref=ref, kept=report.responses_unlinked,
            deleted=report.responses_deleted))
    return redirect(url_for("participants.index", slug=study.slug))
