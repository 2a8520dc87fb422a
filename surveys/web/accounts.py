"""Staff accounts in the web app: admins invite, change roles and study access, deactivate
and unlock; the invited person sets a password through a single-use, 72-hour link.

Every change is audited in the same transaction. The last active admin can be neither
demoted nor deactivated, so the service always has someone who can manage accounts.
"""

from __future__ import annotations

import smtplib

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import func, select
from wtforms import PasswordField, RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from surveys import accounts, audit
from surveys.models import Study, User
from surveys.models.user import user_studies
from surveys.staff_email import build_staff_invite
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now, settings

bp = Blueprint("accounts", __name__, url_prefix="/staff")

PER_PAGE = 50
ROLE_NAMES = {"admin": _l("Admin"), "researcher": _l("Researcher"), "evaluator": _l("Evaluator"),
              "interviewer": _l("Interviewer")}


class _Lenient:
    """Choices are filled in by the view; unknown ones are ignored, not an error page."""

    def pre_validate(self, form) -> None:
        pass


class StudiesField(_Lenient, SelectMultipleField):
    pass


def _role_field() -> RadioField:
    return RadioField(_l("Role"), widget=GovRadioInput(),
                      choices=[SelectChoice(role, ROLE_NAMES[role]) for role in accounts.ROLES],
                      description=_l("Admins manage staff accounts and see everything; "
                                     "researchers work with participants and their data; "
                                     "evaluators read reports (aggregates only)."),
                      validators=[InputRequired(_l("Select a role"))])


def _studies_field() -> StudiesField:
    return StudiesField(
        _l("Studies they may see (researchers and evaluators)"), widget=GovCheckboxesInput(),
        description=_l("Tick none for every study. Admins always see every study."))


class InviteForm(FlaskForm):
    email = StringField(_l("Email address"), widget=GovTextInput(),
                        validators=[InputRequired(_l("Enter their email address")),
                                    Length(max=320, message=_l("Enter at most 320 characters"))])
    role = _role_field()
    studies = _studies_field()
    submit = SubmitField(_l("Send invitation"), widget=GovSubmitInput())


class AccessForm(FlaskForm):
    role = _role_field()
    studies = _studies_field()
    submit = SubmitField(_l("Save role and studies"), widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), widget=GovPasswordInput(),
        description=_l("At least 12 characters. Three or four random words work well."),
        validators=[InputRequired(_l("Enter a password"))])
    confirm = PasswordField(_l("Confirm the password"), widget=GovPasswordInput(),
                            validators=[InputRequired(_l("Enter the password again"))])
    submit = SubmitField(_l("Set password"), widget=GovSubmitInput())


def _study_choices(form) -> list[Study]:
    studies = db().scalars(select(Study).order_by(Study.name, Study.id)).all()
    form.studies.choices = [SelectChoice(str(s.id), s.name) for s in studies]
    return studies


def _chosen_study_ids(form, studies: list[Study]) -> list[int]:
    known = {str(s.id): s.id for s in studies}
    return [known[value] for value in (form.studies.data or []) if value in known]


def _page_number(raw: str | None, last: int) -> int:
    if not raw or not raw.isdigit() or len(raw) > 9:
        return 1
    return min(max(int(raw), 1), last)


def _status(user: User) -> str:
    if not user.active:
        return _("Deactivated")
    if user.invite_hash is not None:
        if user.invite_expires_at is not None and user.invite_expires_at > now():
            return _("Invited: no password set yet")
        return _("Invitation expired")
    return _("Active")


def _study_names(user_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for user_id, name in db().execute(
        select(user_studies.c.user_id, Study.name)
        .join(Study, Study.id == user_studies.c.study_id)
        .where(user_studies.c.user_id.in_(user_ids))
        .order_by(Study.name)
    ):
        names.setdefault(user_id, []).append(name)
    return names


@bp.route("/accounts")
@roles_required("admin")
def staff_list():
    """Every staff account, 50 to a page, by email."""
    total = db().scalar(select(func.count()).select_from(User)) or 0
    last = max(1, -(-total // PER_PAGE))
    page = _page_number(request.args.get("page"), last)
    users = db().scalars(select(User).order_by(User.email, User.id)
                         .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    names = _study_names([u.id for u in users])
    rows = [(user, ROLE_NAMES.get(user.role, user.role), _status(user), names.get(user.id, []))
            for user in users]
    return render_template(
        "pages/admin/staff.html", rows=rows, total=total, page=page, last=last,
        previous_url=url_for("accounts.staff_list", page=page - 1) if page > 1 else None,
        next_url=url_for("accounts.staff_list", page=page + 1) if page < last else None)


def _send_invite(user: User, token: str) -> None:
    link = f"{settings().base_url.rstrip('/')}{url_for('accounts.set_password', invite=token)}"
    message = build_staff_invite(
        to=user.email, sender=settings().mail_from, inviter=current_user().email,
        role=str(ROLE_NAMES.get(user.role, user.role)), link=link,
        expires_at=user.invite_expires_at, language=str(get_locale()))
    current_app.extensions["surveys.mailer"].send(message)


def _mail_problem() -> str:
    return _("The invitation email could not be sent, so no account was made. Check the "
             "mail settings (SMTP host and port) and try again.")


@bp.route("/accounts/invite", methods=["GET", "POST"])
@roles_required("admin")
def invite():
    form = InviteForm()
    studies = _study_choices(form)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            user, token = accounts.invite_user(db(), form.email.data, form.role.data, now())
        except accounts.AccountExists:
            problems = [_("An account for %(email)s already exists.",
                          email=form.email.data.strip().lower())]
        except accounts.AccountError:
            problems = [_("Enter a valid email address, like name@example.org")]
        else:
            chosen = _chosen_study_ids(form, studies) if user.role != "admin" else []
            accounts.set_studies(db(), user, chosen)
            audit.record(db(), now(), current_user(), "staff_invited", email=user.email,
                         role=user.role, studies=sorted(s.slug for s in studies
                                                        if s.id in chosen))
            try:
                _send_invite(user, token)
            except (OSError, smtplib.SMTPException):
                db().rollback()
                problems = [_mail_problem()]
            else:
                db().commit()
                flash(_("Invitation sent to %(email)s. The link works for 72 hours.",
                        email=user.email))
                return redirect(url_for("accounts.staff_list"))
    return render_template("pages/admin/invite.html", form=form, problems=problems)


def _account(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _account_page(user: User, form: AccessForm, problems: list[str], status: int = 200):
    names = _study_names([user.id]).get(user.id, [])
    return render_template("pages/admin/account.html", account=user, form=form,
                           problems=problems, status_text=_status(user), study_names=names,
                           role_name=ROLE_NAMES.get(user.role, user.role)), status


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def account(user_id: int):
    """One account: its role and studies (the form), and the buttons that change it."""
    user = _account(user_id)
    form = AccessForm()
    studies = _study_choices(form)
    if request.method == "GET":
        form.role.data = user.role
        form.studies.data = [str(sid) for sid in db().scalars(
            select(user_studies.c.study_id).where(user_studies.c.user_id == user.id))]
    elif form.validate_on_submit():
        before_role = user.role
        before = set(db().scalars(select(user_studies.c.study_id)
                                  .where(user_studies.c.user_id == user.id)))
        chosen = set(_chosen_study_ids(form, studies)) if form.role.data != "admin" else set()
        try:
            if form.role.data != before_role:
                accounts.change_role(db(), user, form.role.data)
        except accounts.LastAdmin:
            db().rollback()
            return _account_page(user, form, [_last_admin(user)], 400)
        slugs = {s.id: s.slug for s in studies}
        if user.role != before_role:
            audit.record(db(), now(), current_user(), "staff_role_changed", email=user.email,
                         previous=before_role, role=user.role)
        if chosen != before:
            accounts.set_studies(db(), user, sorted(chosen))
            audit.record(db(), now(), current_user(), "staff_studies_changed",
                         email=user.email, studies=sorted(slugs[i] for i in chosen))
        db().commit()
        flash(_("Saved the role and studies of %(email)s.", email=user.email))
        return redirect(url_for("accounts.account", user_id=user.id))
    return _account_page(user, form, [], 400 if form.errors else 200)


def _last_admin(user: User) -> str:
    return _("%(email)s is the last active admin: make another admin first.", email=user.email)


@bp.route("/accounts/<int:user_id>/<any(deactivate, reactivate):change>", methods=["POST"])
@roles_required("admin")
def set_active(user_id: int, change: str):
    user = _account(user_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_active(db(), user, change == "reactivate")
    except accounts.LastAdmin:
        db().rollback()
        access = AccessForm(formdata=None, role=user.role)
        _study_choices(access)
        return _account_page(user, access, [_last_admin(user)], 400)
    audit.record(db(), now(), current_user(), f"staff_{change}d", email=user.email)
    db().commit()
    flash(_("%(email)s can no longer sign in.", email=user.email) if change == "deactivate"
          else _("%(email)s can sign in again.", email=user.email))
    return redirect(url_for("accounts.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin")
def unlock(user_id: int):
    user = _account(user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    accounts.unlock(db(), settings().secret_key, user, now())
    audit.record(db(), now(), current_user(), "staff_unlocked", email=user.email)
    db().commit()
    flash(_("%(email)s can try to sign in again now.", email=user.email))
    return redirect(url_for("accounts.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/reinvite", methods=["POST"])
@roles_required("admin")
def reinvite(user_id: int):
    user = _account(user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        token = accounts.reissue_invite(user, now())
    except accounts.AccountError:
        return redirect(url_for("accounts.account", user_id=user.id))
    audit.record(db(), now(), current_user(), "staff_invitation_resent", email=user.email)
    try:
        _send_invite(user, token)
    except (OSError, smtplib.SMTPException):
        db().rollback()
        access = AccessForm(formdata=None, role=user.role)
        _study_choices(access)
        return _account_page(user, access, [_("The invitation email could not be sent. Check "
                                              "the mail settings and try again.")], 503)
    db().commit()
    flash(_("A new invitation was sent to %(email)s. The link works for 72 hours.",
            email=user.email))
    return redirect(url_for("accounts.account", user_id=user.id))


@bp.route("/set-password/<invite>", methods=["GET", "POST"])
def set_password(invite: str):
    """The invited person's own page: no sign-in needed, the link is the key (once)."""
    try:
        user = accounts.invited_user(db(), invite, now())
    except accounts.InviteUnusable:
        return render_template("pages/staff/invite_unusable.html"), 404
    form = SetPasswordForm()
    problems: list[str] = []
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            problems = [_("Enter the same password twice")]
        else:
            try:
                accounts.set_invited_password(db(), invite, form.password.data, now())
            except accounts.AccountError as exc:
                problems = [str(exc)]
            else:
                audit.record(db(), now(), user, "staff_password_set")
                db().commit()
                flash(_("Your password is set. Sign in with your email address and new "
                        "password."))
                return redirect(url_for("auth.sign_in"))
    page = render_template("pages/staff/set_password.html", form=form, email=user.email,
                           problems=problems)
    return page, 400 if problems or form.errors else 200
