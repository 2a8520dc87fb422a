"""Staff sign-in and sign-out, and the role check every staff route uses."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from surveys import accounts, audit
from surveys.models import User
from surveys.web.context import db, now

bp = Blueprint("auth", __name__, url_prefix="/staff")


class SignInForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        widget=GovTextInput(),
        validators=[InputRequired(_l("Enter your email address")), Length(max=320)],
    )
    password = PasswordField(
        _l("Password"),
        widget=GovPasswordInput(),
        validators=[InputRequired(_l("Enter your password")), Length(max=200)],
    )
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("user_id")
        g.user = db().get(User, user_id) if user_id else None
    return g.user


def roles_required(*roles: str):
    """Signed-in staff with one of `roles`; others go to sign-in or get a 403 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("auth.sign_in", next=request.full_path))
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("staff.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        user = accounts.authenticate(db(), form.email.data, form.password.data, now())
        if user is not None:
            session.clear()
            session["user_id"] = user.id
            session.permanent = True
            audit.record(db(), now(), user, "sign_in")
            db().commit()
            return redirect(_safe_next(request.args.get("next")))
        db().commit()  # keep the failure count
        failed = True
    return render_template("pages/staff/sign_in.html", form=form, failed=failed)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    session.clear()
    return redirect(url_for("auth.sign_in"))
