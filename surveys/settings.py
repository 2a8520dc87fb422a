"""Settings from the environment, shared by the web app, the scheduler and the CLI.

Everything a deployment changes comes from `SURVEYS_*` variables, so the same
code runs embedded (SQLite, one process) and in production (PostgreSQL, many).
A setting that cannot work stops start-up with one line naming the variable and
what it expects (`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import click

from surveys import tokens
from surveys.instance import database_url, instance_dir

# SQLAlchemy, the database driver and email_validator are imported only where needed:
# `check_env` runs before every command, `surveys --help` included, and must stay cheap.

KEY_MISMATCH = (
    "The secret key does not match this database's issued links; set SURVEYS_SECRET_KEY "
    "or SURVEYS_INSTANCE_DIR to the instance that issued them."
)
NOTIFY_URL = "https://api.notifications.service.gov.uk"
URL_EXAMPLE = "postgresql://user:password@host:5432/surveys or sqlite:////path/to/surveys.sqlite3"


class SettingsError(click.ClickException):
    """A setting that cannot work. A ClickException, so every command shows one line."""


def _integer(name: str, default: int, low: int, high: int | None, expected: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise SettingsError(f"{name} must be {expected}, not '{raw[:40]}'.")
    return value


def _base_url() -> str:
    raw = os.environ.get("SURVEYS_BASE_URL", "").strip() or "http://127.0.0.1:5000"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise SettingsError("SURVEYS_BASE_URL must be an http:// or https:// address, "
                            "e.g. https://surveys.example.gov.uk.")
    return raw.rstrip("/")


def _mail_from() -> str:
    value = os.environ.get("SURVEYS_MAIL_FROM", "").strip()
    if not value:
        return "surveys@example.org"
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)  # syntax only, as for staff
    except EmailNotValidError:
        raise SettingsError("SURVEYS_MAIL_FROM must be one email address, "
                            "e.g. surveys@example.gov.uk.") from None
    return value


NOTIFY_KEY_PATTERN = re.compile(
    r"^[A-Za-z0-9_ -]+-(?P<service>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _notify() -> dict:
    """GOV.UK Notify: the key (`{key name}-{service id}-{secret}`, as Notify shows it), its
    address and the two templates; SURVEYS_EMAIL_PROVIDER says who sends email."""
    key = os.environ.get("SURVEYS_NOTIFY_API_KEY", "").strip() or None
    if key is not None and not NOTIFY_KEY_PATTERN.match(key):
        raise SettingsError("SURVEYS_NOTIFY_API_KEY must be the key as GOV.UK Notify shows it: "
                            "its name, then the service id and the secret (two ids).")
    url = os.environ.get("SURVEYS_NOTIFY_BASE_URL", "").strip().rstrip("/") or NOTIFY_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise SettingsError("SURVEYS_NOTIFY_BASE_URL must be an http:// or https:// address, "
                            f"e.g. {NOTIFY_URL}.")
    templates = {}
    for channel in ("email", "sms"):
        name = f"SURVEYS_NOTIFY_{channel.upper()}_TEMPLATE_ID"
        value = os.environ.get(name, "").strip().lower() or None
        if value is not None and not UUID_PATTERN.match(value):
            raise SettingsError(f"{name} must be a GOV.UK Notify template id "
                                f"(e.g. 0f1e2d3c-...-...), not '{value[:40]}'.")
        if value is not None and key is None:
            raise SettingsError(f"{name} is set but SURVEYS_NOTIFY_API_KEY is not: "
                                "set both, or neither.")
        templates[channel] = value
    provider = os.environ.get("SURVEYS_EMAIL_PROVIDER", "").strip().lower() or "smtp"
    if provider not in ("smtp", "notify"):
        raise SettingsError("SURVEYS_EMAIL_PROVIDER must be smtp or notify, "
                            f"not '{provider[:20]}'.")
    if provider == "notify" and (key is None or templates["email"] is None):
        raise SettingsError("SURVEYS_EMAIL_PROVIDER=notify needs SURVEYS_NOTIFY_API_KEY and "
                            "SURVEYS_NOTIFY_EMAIL_TEMPLATE_ID.")
    if key is not None and templates["sms"] is None and provider != "notify":
        raise SettingsError("SURVEYS_NOTIFY_API_KEY is set but no template is: set "
                            "SURVEYS_NOTIFY_SMS_TEMPLATE_ID (text messages) or "
                            "SURVEYS_EMAIL_PROVIDER=notify with SURVEYS_NOTIFY_EMAIL_TEMPLATE_ID.")
    return dict(notify_api_key=key, notify_base_url=url,
                notify_email_template_id=templates["email"],
                notify_sms_template_id=templates["sms"], email_provider=provider)


def _url_syntax() -> None:
    """What SQLAlchemy's make_url refuses (no `name://` at the start), without SQLAlchemy."""
    url = os.environ.get("SURVEYS_DATABASE_URL")
    if url and not re.match(r"[\w+]+://", url):
        raise SettingsError(f"SURVEYS_DATABASE_URL is not a database URL: expected e.g. "
                            f"{URL_EXAMPLE}.")


def _checked_database_url() -> str:
    """The database URL, refused at once if it cannot name a database we can open."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = database_url()
    except OSError as exc:
        raise SettingsError(f"The instance folder {instance_dir()} cannot be created "
                            f"({exc.strerror}): set SURVEYS_INSTANCE_DIR to a writable folder."
                            ) from None
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(f"SURVEYS_DATABASE_URL is not a database URL: expected e.g. "
                            f"{URL_EXAMPLE}.") from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise SettingsError(
            f"SURVEYS_DATABASE_URL names an unknown database driver '{parsed.drivername}': "
            "expected postgresql:// or sqlite://."
        ) from None
    return url


def _issued_links(url: str) -> list[tuple[str, str]]:
    """(nonce, token hash) of a few issued invitations: what the secret key must reproduce.

    Read through the unique index on the token hash, so this stays instant on any size.
    Also proves the database can be reached before anything starts.
    """
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from surveys.db import make_engine

    try:
        engine = make_engine(url)
    except ImportError as exc:
        raise SettingsError(f"SURVEYS_DATABASE_URL needs a database driver that is not "
                            f"installed ({exc.name}): expected postgresql:// or sqlite://."
                            ) from None
    except (ArgumentError, SQLAlchemyError, ValueError, TypeError) as exc:
        raise SettingsError(f"SURVEYS_DATABASE_URL cannot be used: {_first_line(exc)}.") from None
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("invitations"):
                return []  # no schema yet: nothing issued
            rows = conn.execute(text(
                "SELECT nonce, token_hash FROM invitations WHERE token_hash IS NOT NULL "
                "ORDER BY token_hash LIMIT 5"
            )).all()
    except SQLAlchemyError as exc:
        raise SettingsError(f"Cannot use the database in SURVEYS_DATABASE_URL: "
                            f"{_first_line(exc)}.") from None
    finally:
        engine.dispose()
    return [(nonce, token_hash) for nonce, token_hash in rows if nonce]


def _first_line(exc: Exception) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return (text_.splitlines() or [type(exc).__name__])[0].rstrip(".")


def _create_key(path: Path) -> str:
    """Write a new random key; two processes starting at once end up with the same one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        draft.write_text(value)
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic, and fails if another process made one first
        except FileExistsError:
            value = path.read_text().strip()
        finally:
            draft.unlink(missing_ok=True)
    except OSError as exc:
        raise SettingsError(f"Cannot write the secret key {path} ({exc.strerror}): set "
                            f"SURVEYS_INSTANCE_DIR to a writable folder or set "
                            f"SURVEYS_SECRET_KEY.") from None
    return value


def _secret(instance: Path, issued: list[tuple[str, str]]) -> str:
    """SURVEYS_SECRET_KEY, else the key kept in the instance folder, else a new one.

    Personal links are derived from this secret, so a key that does not rebuild the
    links already issued is refused, and no new key is made while issued links exist.
    """
    value = os.environ.get("SURVEYS_SECRET_KEY")
    if not value:
        path = instance / "secret_key"
        try:
            value = path.read_text().strip() if path.exists() else None
        except OSError as exc:
            raise SettingsError(f"Cannot read the secret key {path} ({exc.strerror}).") from None
        if value is None:
            if issued:
                raise SettingsError(
                    f"There is no secret key in {instance} but this database has issued "
                    "links; set SURVEYS_SECRET_KEY or SURVEYS_INSTANCE_DIR to the instance "
                    "that issued them."
                )
            value = _create_key(path)
        elif not value:
            raise SettingsError(f"The secret key file {path} is empty: set SURVEYS_SECRET_KEY "
                                "or restore the file.")
    if issued and not any(
        tokens.matches(tokens.derive_token(value, nonce), token_hash)
        for nonce, token_hash in issued
    ):
        raise SettingsError(KEY_MISMATCH)
    return value


@dataclass
class Settings:
    database_url: str
    secret_key: str
    base_url: str = "http://127.0.0.1:5000"
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "surveys@example.org"
    outbox: Path | None = None
    # Seconds between dispatcher runs; the dispatcher is idempotent so any value is safe.
    dispatch_interval: int = 60
    # Minutes between contact clean-ups (surveys/privacy.py): it reads every participant
    # who still has contact details, so it runs now and then, not on every pass.
    contact_cleanup_minutes: int = 60
    mail_retry_limit: int = 5
    mail_retry_base_seconds: int = 60
    # The instance folder (surveys/db.py `instance_dir`); None: Flask's default.
    instance: Path | None = None
    # Reverse proxies in front whose X-Forwarded-* headers are trusted.
    proxy_hops: int = 0
    # Reports built at once on this machine (every web process together); the rest get a
    # 503 "try again" at once, so report work never holds every web worker (9 of issue 11).
    report_concurrency: int = max(1, (os.cpu_count() or 2) // 2)
    # GOV.UK Notify (surveys/invitations/notify.py): text messages always go through it,
    # email only when email_provider is "notify"; None: not configured.
    notify_api_key: str | None = None
    notify_base_url: str = NOTIFY_URL
    notify_email_template_id: str | None = None
    notify_sms_template_id: str | None = None
    email_provider: str = "smtp"  # smtp (SMTP, or the outbox without a host) | notify
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read and check every setting; SettingsError (one line) for any that cannot work."""
        # Cheap checks first, so a typo is reported before the database is touched.
        cheap = _cheap_settings()
        instance = cheap.pop("instance")
        url = _checked_database_url()
        return cls(
            database_url=url,
            secret_key=_secret(instance, _issued_links(url)),
            # Without an SMTP server, messages go to files a person can open.
            outbox=None if cheap["smtp_host"] else instance / "outbox",
            instance=instance,
            **cheap,
        )


def check_env() -> None:
    """Every check that needs neither the database nor a heavy import (the syntax of each
    variable): run before any command and `surveys --help`, so a typo is one line at once.
    The rest (driver, connection, secret key) is checked when a command builds Settings."""
    _cheap_settings()


def _cheap_settings() -> dict:
    """The settings read from variables alone, each checked; no database, no heavy import."""
    smtp_host = os.environ.get("SURVEYS_SMTP_HOST", "").strip() or None
    smtp_port = _integer("SURVEYS_SMTP_PORT", 25, 1, 65535, "a port number from 1 to 65535")
    dispatch_interval = _integer("SURVEYS_DISPATCH_INTERVAL", 60, 1, None,
                                 "a whole number of seconds, 1 or more")
    cleanup = _integer("SURVEYS_CONTACT_CLEANUP_MINUTES", 60, 1, None,
                       "a whole number of minutes, 1 or more")
    proxy_hops = _integer("SURVEYS_PROXY_HOPS", 0, 0, None, "a whole number, 0 or more")
    report_concurrency = _integer("SURVEYS_REPORT_CONCURRENCY",
                                  max(1, (os.cpu_count() or 2) // 2), 1, None,
                                  "a whole number, 1 or more")
    base_url = _base_url()
    mail_from = _mail_from()
    instance = instance_dir()
    if instance.exists() and not instance.is_dir():
        raise SettingsError(f"SURVEYS_INSTANCE_DIR must be a folder; {instance} is a file.")
    _url_syntax()
    return dict(base_url=base_url, smtp_host=smtp_host, smtp_port=smtp_port,
                mail_from=mail_from, dispatch_interval=dispatch_interval,
                contact_cleanup_minutes=cleanup, instance=instance, proxy_hops=proxy_hops,
                report_concurrency=report_concurrency, **_notify())
