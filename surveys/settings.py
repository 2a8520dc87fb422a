"""Settings from the environment, shared by the web app, the scheduler and the CLI.

Everything a deployment changes comes from `SURVEYS_*` variables, so the same
code runs embedded (SQLite, one process) and in production (PostgreSQL, many).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from surveys.db import DEFAULT_INSTANCE, database_url


def _secret(instance: Path) -> str:
    """SURVEYS_SECRET_KEY, else a random key kept in the instance folder.

    Personal links are derived from this secret, so it must survive restarts.
    """
    value = os.environ.get("SURVEYS_SECRET_KEY")
    if value:
        return value
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
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
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        instance = DEFAULT_INSTANCE
        smtp_host = os.environ.get("SURVEYS_SMTP_HOST") or None
        return cls(
            database_url=database_url(),
            secret_key=_secret(instance),
            base_url=os.environ.get("SURVEYS_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            smtp_host=smtp_host,
            smtp_port=int(os.environ.get("SURVEYS_SMTP_PORT", "25")),
            mail_from=os.environ.get("SURVEYS_MAIL_FROM", "surveys@example.org"),
            # Without an SMTP server, messages go to files a person can open.
            outbox=None if smtp_host else instance / "outbox",
            dispatch_interval=int(os.environ.get("SURVEYS_DISPATCH_INTERVAL", "60")),
            contact_cleanup_minutes=int(os.environ.get("SURVEYS_CONTACT_CLEANUP_MINUTES", "60")),
        )
