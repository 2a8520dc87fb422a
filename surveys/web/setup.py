"""Wiring for the web app: settings, database sessions, Babel, CSRF, assets, blueprints."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, request, send_from_directory, session
from flask_babel import Babel, force_locale, format_date, format_decimal, get_locale
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from surveys import phones
from surveys.clock import system_clock
from surveys.db import make_engine, make_session_factory
from surveys.i18n import LANGUAGES, TRANSLATIONS
from surveys.invitations.mailer import OutboxMailer, SmtpMailer
from surveys.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
GOVUK_DIST = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"

csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The language toggle wins, then the client's own language, then English. A client
    page offers only its study's languages (g.client_languages, set by web/respond.py)."""
    offered = g.get("client_languages") or LANGUAGES
    chosen = request.args.get("lang")
    if chosen in offered:
        session["lang"] = chosen
    current = session.get("lang")
    return current if current in offered else offered[0]


def format_page_date(value=None, format: str = "medium") -> str:
    """A date in the page's language; English as written in the UK ("2 March 2026")."""
    if str(get_locale()) != "en":
        return format_date(value, format)
    with force_locale("en_GB"):
        return format_date(value, format)


def format_half_up(number, format=None, **options):  # noqa: A002 - Babel's parameter name
    """Babel's format_decimal, rounding once, half-up, to the pattern's decimals (Babel
    itself rounds half-even): pages show full-precision report numbers this way."""
    from babel.numbers import parse_pattern

    from analysis.rounding import half_up

    if format is not None and isinstance(number, int | float) and not isinstance(number, bool):
        rounded = half_up(number, parse_pattern(format).frac_prec[1])
        number = number if rounded is None else rounded
    return format_decimal(number, format, **options)


def _method_text(text: str | None) -> str:
    """A method named by analysis (English) in the page's language (imported when a report
    page needs it: analysis brings SciPy)."""
    from surveys.reports.methods import method_text

    return method_text(text, str(get_locale()))


def _method_name(key: str) -> str:
    from surveys.reports.methods import method_name

    return method_name(key, str(get_locale()))


def configure(app: Flask, overrides: dict) -> None:
    from analysis.rounding import p_text

    settings: Settings = overrides.pop("SETTINGS", None) or Settings.from_env()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        # A staff session lasts a working day, not Flask's default month.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        GOVUK_ASSETS=str(GOVUK_DIST),
    )
    app.config.update(overrides)
    # Behind N reverse proxies, trust N X-Forwarded-* hops: the client's own address
    # then drives the guessing limits (surveys/throttle.py) and HTTPS is recognised.
    hops = int(app.config.get("PROXY_HOPS") or settings.proxy_hops)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.extensions["surveys.settings"] = settings
    engine = overrides.get("ENGINE") or make_engine(settings.database_url)
    app.extensions["surveys.engine"] = engine
    app.extensions["surveys.session_factory"] = make_session_factory(engine)
    app.extensions["surveys.clock"] = overrides.get("CLOCK") or system_clock
    app.extensions["surveys.mailer"] = overrides.get("MAILER") or (
        SmtpMailer(settings.smtp_host, settings.smtp_port)
        if settings.smtp_host
        else OutboxMailer(settings.outbox)
    )

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("surveys", "templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # Babel asks for the locale lazily (when a template first needs it); take the
    # toggle's ?lang= before the view runs, so forms built in the view and pages
    # that only redirect switch language too.
    @app.before_request
    def take_language_choice() -> None:
        select_locale()

    WTFormsHelpers(app)
    app.jinja_env.globals.update(
        get_locale=get_locale, format_date=format_page_date, format_decimal=format_half_up,
        format_p=p_text,  # p-values: "<0.001" below 0.001 (analysis.rounding.p_text)
        method_text=_method_text, method_name=_method_name, wave_name=_wave_name,
        for_dialling=phones.for_dialling,  # call lists: 07700 900123, not +447700900123
    )

    @app.teardown_appcontext
    def close_session(_exc):
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.route("/assets/<path:filename>")
    def govuk_assets(filename: str):
        return send_from_directory(GOVUK_DIST / "assets", filename, max_age=86400)

    @app.route("/govuk/<path:filename>")
    def govuk_static(filename: str):
        return send_from_directory(GOVUK_DIST, filename, max_age=86400)

    from surveys import cli
    from surveys.web import (
        access,
        accounts,
        admin,
        auth,
        calls,
        chasing,
        errors,
        help_pages,
        optout,
        participants,
        reports,
        respond,
        security,
        staff,
        studies,
    )

    cli.register(app)

    errors.register(app)
    security.register(app)
    access.register(app)  # per-study access, for every route with a <slug>
    app.register_blueprint(respond.bp)
    app.register_blueprint(help_pages.bp)
    app.register_blueprint(optout.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(participants.bp)
    app.register_blueprint(chasing.bp)
    app.register_blueprint(studies.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(calls.bp)
    logging.getLogger("surveys").setLevel(logging.INFO)


def _wave_name(wave) -> str:
    """A wave's name for staff pages, in the page's language ("Six weeks on", "Wave 2"),
    not its code (surveys.studies.waves)."""
    from surveys.studies.waves import wave_name

    return wave_name(wave.code, wave.label, str(get_locale())[:2])
