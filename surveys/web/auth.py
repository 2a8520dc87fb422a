"""Staff sign-in and sign-out, and the role check every staff route uses."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from surveys import accounts, audit, throttle
from surveys.models import User
from surveys.web.context import db, now, settings

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
    """The signed-in staff member; a session from before their last sign-out counts for nothing."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = db().get(User, user_id) if isinstance(user_id, int) else None
        if user is not None and (session.get("epoch") != user.session_epoch
                                 or not user.active):
            user = None
        g.user = user
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
    """Only a path on this site: browsers read '/\\host' and '//host' as another site."""
    if (
        target
        and target.startswith("/")
        and "\\" not in target
        and not target.startswith("//")
        and not any(ord(c) < 32 for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("staff.dashboard")


def safe_referrer() -> str:
    """The page the request came from, as a path, when it is on this site; else the
    dashboard. (A Referer naming another site must never become a redirect.)"""
    referrer = urlsplit(request.referrer or "")
    here = urlsplit(request.host_url)
    if referrer.netloc and (referrer.scheme, referrer.netloc) != (here.scheme, here.netloc):
        return url_for("staff.dashboard")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return _safe_next(path)


def _too_many(count: throttle.Count):
    page = render_template("pages/errors/too_many.html", code=429)
    return page, 429, {"Retry-After": str(count.retry_after(now()))}


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in, slowing the guesser and not the owner (docs/decisions/0006).

    The attempt is counted and committed first, before the slow password check, so
    parallel guesses each see their own count and no lock is held while argon2 runs.
    An unknown email, a wrong password and an attempt refused unchecked then get the
    same page after the same work."""
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        attempt = accounts.begin_sign_in(db(), settings().secret_key, form.email.data,
                                         request.remote_addr, now())
        db().commit()
        if attempt.throttled is not None:
            audit.record(db(), now(), None, "sign_in_failed", actor="anonymous",
                         email=attempt.email, reason="throttled",
                         limit=attempt.throttled.limit.bucket)
            db().commit()
            return _too_many(attempt.throttled)
        user, reason = accounts.finish_sign_in(db(), attempt, form.password.data)
        if user is not None:
            language = session.get("lang")  # the toggle's choice outlives the old session
            session.clear()
            if language:
                session["lang"] = language
            session["user_id"] = user.id
            session["epoch"] = user.session_epoch
            session.permanent = True
            audit.record(db(), now(), user, "sign_in")
            db().commit()
            if user.role == "interviewer" and not request.args.get("next"):
                return redirect(url_for("calls.index"))  # all an interviewer works on
            return redirect(_safe_next(request.args.get("next")))
        audit.record(db(), now(), None, "sign_in_failed", actor="anonymous",
                     email=attempt.email, reason=reason)
        db().commit()
        failed = True
    return render_template("pages/staff/sign_in.html", form=form, failed=failed)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End this session and every other one of the same account (the epoch moves on)."""
    user = current_user()
    if user is not None:
        user.session_epoch += 1
        audit.record(db(), now(), user, "sign_out")
        db().commit()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("auth.sign_in"))
