"""Shared fixtures: a real database (SQLite, or PostgreSQL when asked), a real SMTP
server on loopback, a frozen clock, and the app wired to all three.

Set SURVEYS_TEST_DATABASE_URL to a PostgreSQL URL to run every test there
(`.ci/run` does both); otherwise each test gets its own SQLite file.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from surveys import create_app
from surveys.clock import FrozenClock
from surveys.db import make_engine, make_session_factory
from surveys.invitations.mailer import SmtpMailer
from surveys.migrate import upgrade
from surveys.models import Base
from surveys.settings import Settings

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def _template_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_schema():
    if not PG_URL:
        return None
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture
def database_url(request, tmp_path, _template_sqlite, _pg_schema) -> str:
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    path = tmp_path / "test.sqlite3"
    shutil.copy(_template_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@dataclass
class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        if self.refuse:
            return "554 Transaction failed (refused for the test)"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp():
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def settings(database_url, smtp) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://surveys.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        mail_from="surveys@example.org",
        mail_retry_limit=3,
        mail_retry_base_seconds=60,
    )


@pytest.fixture
def mailer(settings) -> SmtpMailer:
    return SmtpMailer(settings.smtp_host, settings.smtp_port)


@pytest.fixture
def app(settings, engine, clock, mailer):
    app = create_app(
        {
            "SETTINGS": settings,
            "ENGINE": engine,
            "CLOCK": clock,
            "MAILER": mailer,
            "TESTING": True,
        }
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
