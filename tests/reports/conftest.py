"""The demo loaded once per test module (it takes seconds), and helpers to read reports."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from surveys import create_app
from surveys.clock import FrozenClock
from surveys.db import make_engine, make_session_factory
from surveys.demo.load import load_demo
from surveys.invitations.mailer import OutboxMailer
from surveys.models import Base, Study
from surveys.settings import Settings

PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")
DEMO_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEMO_PASSWORD = "demo-password-2024"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, _template_sqlite, _pg_schema) -> str:
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        url = PG_URL
    else:
        path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
        shutil.copy(_template_sqlite, path)
        url = f"sqlite:///{path}"
    settings = Settings(database_url=url, secret_key="report-tests-" + "x" * 32,
                        base_url="http://surveys.test")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    outbox = tmp_path_factory.mktemp("outbox")
    with factory() as session:
        load_demo(session, DEMO_NOW, settings, OutboxMailer(outbox))
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def demo_engine(demo_url):
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo_sessions(demo_engine):
    return make_session_factory(demo_engine)


@pytest.fixture
def demo_session(demo_sessions):
    with demo_sessions() as session:
        yield session


def demo_study(session, slug: str = "ehd-2024") -> Study:
    return session.scalar(select(Study).where(Study.slug == slug))


@pytest.fixture(scope="module")
def demo_app(demo_url, demo_engine, tmp_path_factory):
    settings = Settings(database_url=demo_url, secret_key="report-tests-" + "x" * 32,
                        base_url="http://surveys.test")
    return create_app({
        "SETTINGS": settings, "ENGINE": demo_engine, "CLOCK": FrozenClock(DEMO_NOW),
        "MAILER": OutboxMailer(tmp_path_factory.mktemp("app-outbox")), "TESTING": True,
    })


def find_table(report: dict, table_id: str) -> dict:
    for section in report["sections"]:
        for table in section["tables"]:
            if table["id"] == table_id:
                return table
    raise KeyError(table_id)


def cell(report: dict, table_id: str, row: str, column: str = "count"):
    table = find_table(report, table_id)
    for r in table["rows"]:
        if r["key"] == row:
            return r["cells"][column]
    raise KeyError((table_id, row))


def section(report: dict, section_id: str) -> dict:
    return next(s for s in report["sections"] if s["id"] == section_id)
