"""Database engine and session factory, usable without Flask.

The web app, the scheduler and the command line all get their sessions here,
so one process can share one engine and tests can point everything at one URL.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

DEFAULT_INSTANCE = Path(os.environ.get("SURVEYS_INSTANCE_PATH", Path.cwd() / "instance"))


class Base(DeclarativeBase):
    pass


def database_url() -> str:
    """The URL from SURVEYS_DATABASE_URL, else an embedded SQLite file in the instance folder."""
    url = os.environ.get("SURVEYS_DATABASE_URL")
    if url:
        return url
    DEFAULT_INSTANCE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_INSTANCE / 'surveys.sqlite3'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
