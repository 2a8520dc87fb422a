"""Researchers' pages: studies, cohort upload, schedule, invitations, telephone entry."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import func, select
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from surveys import audit
from surveys.cohort import participant_list as plist
from surveys.cohort import status as cohort_status
from surveys.cohort.importer import ImportRejected, import_cohort
from surveys.cohort.participant_list import BadFilter
from surveys.csv_rows import CsvFileError
from surveys.csv_safety import write_csv
from surveys.invitations import chasing, listing, reschedule_wave, windows
from surveys.list_pages import page_count
from surveys.models import (
    Invitation,
    InvitationStatus,
    Message,
    MessageStatus,
    Participant,
    Study,
    Wave,
)
from surveys.responses.importer import NotYetDue, import_responses
from surveys.studies import measures, wave_by_code
from surveys.studies import waves as wave_names
from surveys.studies.definition import MAX_REMINDERS
from surveys.web import upload_help
from surveys.web.access import may_see, visible_studies
from surveys.web.auth import current_user, roles_required, safe_referrer
from surveys.web.calls import start_entry
from surveys.web.context import db, now
from surveys.web.downloads import download, wave_or_404
from surveys.web.paging import filter_problem, page_number, pagination

bp = Blueprint("staff", __name__, url_prefix="/staff")

STAFF = ("admin", "researcher", "evaluator")
RESEARCH = ("admin", "researcher")


def _study(slug: str) -> Study:
    study = db().scalar(select(Study).where(Study.slug == slug))
    if study is None:
        abort(404)
    return study


@bp.route("/")
@roles_required(*STAFF)
def dashboard():
    studies = db().scalars(visible_studies(select(Study).order_by(Study.id))).all()
    summary = [
        (
            study,
            cohort_status.participant_count(db(), study),
            cohort_status.invitation_counts(db(), study),
            cohort_status.delivery_counts(db(), study),
        )
        for study in studies
    ]
    # Each wave's progress by week, and (for those who may see references) who could not
    # be reached, with what to do about it (issue 14).
    progress = {wave.id: chasing.progress(db(), wave) for study in studies
                for wave in study.waves}
    failures = ({study.id: chasing.delivery_failures(db(), study) for study in studies}
                if current_user().role in RESEARCH else {})
    return render_template("pages/staff/dashboard.html", summary=summary, user=current_user(),
                           progress=progress, failures=failures)


def _try_import(run):
    """(result, []) if the import went in; (None, lines to show) if it was refused,
    after rolling back, so a refused file changes nothing."""
    try:
        return run(), []
    except ImportRejected as exc:
        db().rollback()
        return None, [line for errors in exc.errors for line in errors.lines()]
    except CsvFileError as exc:
        db().rollback()
        return None, [str(exc)]


class CohortForm(FlaskForm):
    participants = FileField(_l("Participants file (participants.csv)"), widget=GovFileInput(),
                             validators=[InputRequired(_l("Select a participants CSV file"))])
    appointments = FileField(_l("Appointments file (appointments.csv), optional"),
                             widget=GovFileInput())
    submit = SubmitField(_l("Upload cohort"), widget=GovSubmitInput())


@bp.route("/studies/<slug>/cohort", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def cohort(slug: str):
    study = _study(slug)
    form = CohortForm()
    problems: list[str] = []
    if form.validate_on_submit():
        p_file = form.participants.data
        a_file = form.appointments.data
        result, problems = _try_import(lambda: import_cohort(
            db(), study, p_file.stream,
            a_file.stream if a_file and a_file.filename else None,
            participants_name=p_file.filename or "participants.csv",
            appointments_name=(a_file.filename if a_file and a_file.filename
                               else "appointments.csv"),
            today=now().date(),
        ))
        if result is not None:
            audit.record(db(), now(), current_user(), "cohort_import", study=study.slug,
                         created=result.created, updated=result.updated)
            db().commit()
            flash(_("Cohort imported: %(created)s new and %(updated)s updated participants, "
                    "%(appointments)s appointments, %(scheduled)s questionnaires scheduled.",
                    created=result.created, updated=result.updated,
                    appointments=result.appointments, scheduled=result.invitations_scheduled))
            return redirect(url_for("staff.cohort", slug=slug))
    arm, arm_counts, arm_problem = _arm_filter(study)
    # A page at a time, as the participants page lists them (by reference).
    listed = plist.Filters(arm=arm or "")
    number = page_number(request.args.get("page", "1"))
    try:
        if number is None:
            raise plist.BadFilter("bad_page",
                                  pages=page_count(plist.count(db(), study, listed)))
        page = plist.page_of(db(), study, listed, number)
    except plist.BadFilter as exc:
        arm_problem = arm_problem or filter_problem(exc)
        page = plist.page_of(db(), study, listed, 1)
    return render_template(
        "pages/staff/cohort.html", study=study, form=form, problems=problems,
        participants=page.rows, total=page.total, page=page,
        format_number=format_decimal,
        pagination=pagination(
            page.page, page.pages,
            lambda n: url_for("staff.cohort", slug=slug, page=n, **({"arm": arm} if arm else {})),
            _("Pages of participants")),
        arm=arm, arm_counts=arm_counts, arm_problem=arm_problem,
        measure_value=measures.format_value,
        measure_label=lambda m: measures.label(m, get_locale().language),
        status_labels={"completed": _("Completed"), "dropped_out": _("Dropped out"),
                       "in_progress": _("In progress")},
        columns=upload_help.cohort_columns(study),
    ), (400 if problems or form.errors or arm_problem else 200)


def _arm_filter(study: Study) -> tuple[str | None, dict[str | None, int], str | None]:
    """(arm to list, participants per arm, message about a bad ?arm=) for the cohort page.

    Counts come from the database grouped by arm, so they cover everyone, not only the
    first 500 listed; participants loaded before the study had arms count under None.
    """
    wanted = request.args.get("arm") or None
    if not study.arms:
        problem = (_("This study has no arms, so there is nothing to filter by.")
                   if wanted is not None else None)
        return None, {}, problem
    counts = {a: 0 for a in study.arms}
    for value, n in db().execute(
            select(Participant.arm, func.count()).where(Participant.study_id == study.id)
            .group_by(Participant.arm)):
        counts[value] = int(n)
    if wanted is not None and wanted not in study.arms:
        return None, counts, _("There is no arm called '%(arm)s' in this study. Its arms "
                               "are: %(arms)s.", arm=wanted, arms=", ".join(study.arms))
    return wanted, counts, None


class ResponsesForm(FlaskForm):
    wave = SelectField(_l("Wave"), widget=GovSelect())
    responses = FileField(_l("Responses file (CSV)"), widget=GovFileInput(),
                          validators=[InputRequired(_l("Select a responses CSV file"))])
    # Shown only after a file had rows for questionnaires not yet due (NotYetDue).
    confirm_not_due = BooleanField(_l("Upload anyway: store the answers for questionnaires "
                                      "not yet due"), widget=GovCheckboxInput())
    submit = SubmitField(_l("Upload responses"), widget=GovSubmitInput())


@bp.route("/studies/<slug>/responses", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def responses(slug: str):
    study = _study(slug)
    form = ResponsesForm()
    form.wave.choices = [SelectChoice(w.code, w.code) for w in study.waves]
    problems: list[str] = []
    not_due: list[str] = []
    if form.validate_on_submit():
        upload = form.responses.data
        try:
            result, problems = _try_import(lambda: import_responses(
                db(), study, wave_by_code(study, form.wave.data), upload.stream,
                filename=upload.filename or "responses.csv", today=now().date(),
                confirm_not_due=bool(form.confirm_not_due.data)))
        except NotYetDue as exc:
            db().rollback()  # nothing is stored until the person confirms
            result, not_due = None, exc.refs
        if result is not None:
            audit.record(db(), now(), current_user(), "response_import", study=study.slug,
                         wave=form.wave.data, stored=result.stored,
                         already_stored=result.already_stored,
                         drafts_replaced=list(result.drafts_replaced))
            db().commit()
            flash(_("%(stored)s responses stored: %(linked)s linked to a participant, "
                    "%(unlinked)s could not be linked.", stored=result.stored,
                    linked=result.linked, unlinked=result.unlinked))
            if result.already_stored:
                flash(ngettext("%(num)s row was already stored and was skipped.",
                               "%(num)s rows were already stored and were skipped.",
                               result.already_stored))
            if result.drafts_replaced:
                flash(_("Unfinished online answers replaced by the imported ones for: "
                        "%(refs)s.", refs=", ".join(result.drafts_replaced)))
            return redirect(url_for("staff.responses", slug=slug))
    return render_template("pages/staff/responses.html", study=study, form=form,
                           problems=problems, not_due=not_due,
                           columns_by_wave={w.code: upload_help.response_columns(db(), w)
                                    for w in study.waves},
                           ), (400 if problems or form.errors else 200)


@bp.route("/studies/<slug>/cohort-template.csv")
@roles_required(*RESEARCH)
def cohort_template(slug: str):
    """participants.csv's header row for this study: the columns its upload accepts."""
    study = _study(slug)
    header = [c.name for c in upload_help.cohort_columns(study)]
    audit.record(db(), now(), current_user(), "export", study=study.slug,
                 report="cohort_template", format="csv")
    db().commit()
    return download(write_csv([header]), "text/csv", f"participants-{study.slug}.csv")


@bp.route("/studies/<slug>/waves/<code>/responses-template.csv")
@roles_required(*RESEARCH)
def responses_template(slug: str, code: str):
    """responses.csv's header row for this wave: the fixed columns and its question ids."""
    study = _study(slug)
    wave = wave_or_404(study, code)
    header = [c.name for c in upload_help.response_columns(db(), wave)]
    audit.record(db(), now(), current_user(), "export", study=study.slug,
                 report="responses_template", wave=code, format="csv")
    db().commit()
    return download(write_csv([header]), "text/csv",
                    f"responses-{study.slug}-{wave.code}.csv")


@bp.route("/studies/<slug>/responses.csv")
@roles_required(*RESEARCH)
def responses_csv(slug: str):
    """A wave's submitted responses, one row each: row-level data, so researchers only."""
    from surveys.responses.export import export_csv

    study = _study(slug)
    code = request.args.get("wave", "")
    wave = wave_or_404(study, code)
    body = export_csv(db(), wave)
    audit.record(db(), now(), current_user(), "export", study=study.slug, report="responses",
                 wave=code, format="csv")
    db().commit()
    # A byte order mark, so that spreadsheet programs read Welsh letters (ŵ, ŷ) as UTF-8.
    return download("\ufeff" + body, "text/csv", f"responses-{study.slug}-{wave.code}.csv")


LABELLED_TYPES = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta",
                  "csv": "text/csv"}


def _labels_language(study: Study) -> str:
    wanted = request.args.get("language", "en")
    return wanted if wanted in ("en", "cy") else "en"


@bp.route("/studies/<slug>/responses.<any(sav, dta):fmt>")
@roles_required(*RESEARCH)
def responses_labelled(slug: str, fmt: str):
    """A wave's responses as a labelled SPSS or Stata file: row-level, researchers only."""
    from surveys.responses.labelled import responses_table, write

    study = _study(slug)
    code = request.args.get("wave", "")
    wave = wave_or_404(study, code)
    body = write(responses_table(db(), study, wave, language=_labels_language(study)), fmt)
    audit.record(db(), now(), current_user(), "export", study=study.slug, report="responses",
                 wave=code, format=fmt)
    db().commit()
    return download(body, LABELLED_TYPES[fmt], f"responses-{study.slug}-{wave.code}.{fmt}")


@bp.route("/studies/<slug>/pairs.<any(sav, dta, csv):fmt>")
@roles_required(*RESEARCH)
def pairs_labelled(slug: str, fmt: str):
    """Baseline, follow-up and change per measure of a wave's linked responses."""
    from surveys.responses.labelled import ExportError, pairs_table, write

    study = _study(slug)
    code = request.args.get("follow_up", "")
    wave = wave_or_404(study, code)
    try:
        table = pairs_table(db(), study, wave, language=_labels_language(study))
    except ExportError:
        abort(404)
    body = write(table, fmt)
    audit.record(db(), now(), current_user(), "export", study=study.slug, report="pairs",
                 follow_up=code, format=fmt, rows=len(table.rows))
    db().commit()
    return download(body, LABELLED_TYPES[fmt], f"pairs-{study.slug}-{wave.code}.{fmt}")


@bp.route("/studies/<slug>/codebook.<any(html, csv, xlsx):fmt>")
@roles_required(*RESEARCH)
def codebook(slug: str, fmt: str):
    """Every variable of the study's exports."""
    from surveys.responses.codebook import codebook_rows, render

    study = _study(slug)
    language = str(get_locale() or "en").split("_")[0]
    language = language if language in ("en", "cy") else "en"
    body = render(codebook_rows(db(), study, language), study, fmt, language)
    types = {"html": "text/html", "csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    if fmt == "html":
        return body, 200, {"Content-Type": "text/html; charset=utf-8"}
    return download(body, types[fmt], f"codebook-{study.slug}.{fmt}")


def few_digits(form, field) -> None:
    """Stop absurdly long numbers before NumberRange, which converts them to float."""
    if field.data is not None and abs(field.data) > 10**6:
        raise StopValidation(_l("Enter a number of days"))


class DayListField(StringField):
    """Days after issue, e.g. "3, 10": up to three different whole numbers from 1 to 365
    (Wave.reminder_days is a list); blank for none."""

    def process_formdata(self, valuelist: list) -> None:
        self.raw_data = valuelist
        raw = valuelist[0].strip() if valuelist else ""
        parts = [part.strip() for part in raw.split(",")] if raw else []
        if not all(part.isascii() and part.isdigit() and len(part) <= 6 for part in parts):
            self.data = None
            raise ValueError(_l("Enter days as whole numbers separated by commas, like 3, 10"))
        days = [int(part) for part in parts]
        if any(not 1 <= day <= 365 for day in days):
            self.data = None
            raise ValueError(_l("Enter each reminder as a number of days from 1 to 365"))
        if len(days) > MAX_REMINDERS or len(set(days)) != len(days):
            self.data = None
            raise ValueError(_l("Enter up to 3 different reminder days"))
        self.data = sorted(days)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(str(day) for day in self.data or [])


class WaveForm(FlaskForm):
    offset_days = IntegerField(_l("Days after completing the intervention"),
                               widget=GovTextInput(),
                               validators=[InputRequired(_l("Enter a number of days")), few_digits,
                                           NumberRange(0, 3650, _l("Enter a number of days from "
                                                                   "0 to 3650"))])
    reminder_days = DayListField(_l("Reminders, days after issue (up to 3, separated by "
                                    "commas; blank for none)"), widget=GovTextInput())
    close_days = IntegerField(_l("Closes, days after issue"), widget=GovTextInput(),
                              validators=[InputRequired(_l("Enter a number of days")), few_digits,
                                          NumberRange(1, 365, _l("Enter a number of days from "
                                                                 "1 to 365"))])
    submit = SubmitField(_l("Save schedule"), widget=GovSubmitInput())

    wave_label: str = ""  # the wave's name, set by the view, for errors that name the wave

    def validate_reminder_days(self, field) -> None:
        close = self.close_days.data
        late = [day for day in field.data or [] if isinstance(close, int) and day >= close]
        if late:
            raise ValidationError(_("%(wave)s: the reminder on day %(day)s must come before "
                                    "the questionnaire closes on day %(close)s",
                                    wave=self.wave_label,
                                    day=late[0], close=close))


class StudyWindowForm(FlaskForm):
    end_date = DateField(_l("Last day a questionnaire may be issued"), widget=GovDateInput(),
                         validators=[Optional()], format=["%Y-%m-%d", "%d %m %Y"])
    submit = SubmitField(_l("Save study end date"), widget=GovSubmitInput())
    today: date | None = None  # the study's local date, set by the view

    def validate_end_date(self, field) -> None:
        if field.data is not None and self.today is not None and field.data < self.today:
            raise ValidationError(_("The study end date must be today or later"))


@bp.route("/studies/<slug>/schedule", methods=["GET"])
@roles_required(*RESEARCH)
def schedule(slug: str):
    study = _study(slug)
    forms = {w.code: WaveForm(prefix=w.code, obj=w) for w in study.waves}
    return render_template("pages/staff/schedule.html", study=study, forms=forms,
                           window=StudyWindowForm(obj=study))


@bp.route("/studies/<slug>/schedule/<code>", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def update_wave(slug: str, code: str):
    if request.method == "GET":  # the language toggle on this page after an error
        return redirect(url_for("staff.schedule", slug=slug))
    study = _study(slug)
    wave: Wave = next((w for w in study.waves if w.code == code), None) or abort(404)
    form = WaveForm(prefix=code)
    form.wave_label = wave_names.wave_name(wave.code, wave.label, str(get_locale())[:2])
    if not form.validate():
        forms = {w.code: WaveForm(formdata=None, prefix=w.code, obj=w) for w in study.waves}
        forms[code] = form
        return render_template("pages/staff/schedule.html", study=study, forms=forms,
                               window=StudyWindowForm(formdata=None, obj=study)), 400
    before = {"offset_days": wave.offset_days, "reminder_days": wave.reminder_days,
              "close_days": wave.close_days}
    form.populate_obj(wave)
    moved = reschedule_wave(db(), study, wave)
    audit.record(db(), now(), current_user(), "schedule_change", study=study.slug, wave=code,
                 before=before, after={k: getattr(wave, k) for k in before}, moved=moved)
    db().commit()
    flash(_("Schedule for %(wave)s saved; %(moved)s questionnaires not yet issued were moved.",
            wave=code, moved=moved))
    return redirect(url_for("staff.schedule", slug=slug))


@bp.route("/studies/<slug>/window", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def update_window(slug: str):
    if request.method == "GET":  # the language toggle on this page after an error
        return redirect(url_for("staff.schedule", slug=slug))
    study = _study(slug)
    form = StudyWindowForm()
    form.today = windows.local_today(study.time_zone, now())
    if not form.validate():
        forms = {w.code: WaveForm(formdata=None, prefix=w.code, obj=w) for w in study.waves}
        return render_template("pages/staff/schedule.html", study=study, forms=forms,
                               window=form), 400
    before = study.end_date.isoformat() if study.end_date else None
    study.end_date = form.end_date.data
    moved = sum(reschedule_wave(db(), study, wave) for wave in study.waves)
    audit.record(db(), now(), current_user(), "schedule_change", study=study.slug,
                 end_date_before=before,
                 end_date_after=study.end_date.isoformat() if study.end_date else None)
    db().commit()
    flash(_("Study end date saved; %(moved)s questionnaires were re-checked.", moved=moved))
    return redirect(url_for("staff.schedule", slug=slug))


FAILED_MESSAGES = (MessageStatus.PERMANENT_FAILURE, MessageStatus.TEMPORARY_FAILURE,
                   MessageStatus.TECHNICAL_FAILURE)


@bp.route("/studies/<slug>/invitations")
@roles_required(*RESEARCH)
def invitations(slug: str):
    """Every questionnaire of the study, latest due first, a page at a time."""
    study = _study(slug)
    args = request.args
    filters = listing.Filters(ref=args.get("ref", "").strip(), wave=args.get("wave", ""),
                              status=args.get("status", ""))
    page, problem = None, None
    try:
        filters = filters.checked(study)
        number = page_number(args.get("page", "1"))
        if number is None:
            raise BadFilter("bad_page", pages=page_count(listing.count(db(), study, filters)))
        page = listing.page_of(db(), study, filters, number)
    except BadFilter as exc:
        problem = filter_problem(exc)
    rows = page.rows if page else []
    # Messages that did not arrive, with the address or number to fix (issue 15).
    failed: dict[int, list[Message]] = {}
    for message in db().scalars(
            select(Message).where(Message.invitation_id.in_([inv.id for inv in rows]),
                                  Message.status.in_(FAILED_MESSAGES))
            .order_by(Message.id)):
        failed.setdefault(message.invitation_id, []).append(message)
    return render_template(
        "pages/staff/invitations.html", study=study, page=page, rows=rows, filters=filters,
        problem=problem, statuses=list(InvitationStatus), failed_messages=failed,
        format_number=format_decimal,
        pagination=pagination(
            page.page, page.pages,
            lambda n: url_for("staff.invitations", slug=slug, page=n, **filters.query_args()),
            _("Pages of questionnaires")) if page else None,
    ), (400 if problem else 200)


@bp.route("/invitations/<int:invitation_id>/telephone", methods=["POST"])
@roles_required(*RESEARCH, "interviewer")
def telephone(invitation_id: int):
    """Answer an issued questionnaire on a client's behalf, over the telephone."""
    invitation = db().get(Invitation, invitation_id) or abort(404)
    if not may_see(invitation.wave.study):
        abort(404)  # a study this person is not given: as if it did not exist
    if invitation.status != InvitationStatus.ISSUED:
        flash(_("That questionnaire is not open for answers."))
        return redirect(safe_referrer())
    return start_entry(invitation)
