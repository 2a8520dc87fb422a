"""Database engine and session factory, usable without Flask.

The web app, the scheduler and the command line all get their sessions here,
so one process can share one engine and tests can point everything at one URL.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

CHECKOUT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """The instance folder (secret key, embedded database, outbox), never the working directory.

    SURVEYS_INSTANCE_DIR (SURVEYS_INSTANCE_PATH is its older name), else `instance/` of the
    source checkout the package runs from, else a per-user data folder. A fixed place,
    because personal links are derived from the secret kept there: a command run from
    another folder must find the same one.
    """
    chosen = os.environ.get("SURVEYS_INSTANCE_DIR") or os.environ.get("SURVEYS_INSTANCE_PATH")
    if chosen:
        return Path(chosen).expanduser().absolute()
    if (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT / "instance"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser().absolute() / "surveys"


class Base(DeclarativeBase):
    pass


def database_url() -> str:
    """The URL from SURVEYS_DATABASE_URL, else an embedded SQLite file in the instance folder."""
    url = os.environ.get("SURVEYS_DATABASE_URL")
    if url:
        return url
    instance = instance_dir()
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'surveys.sqlite3'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    from surveys.reports.cache import watch_engine

    watch_engine(engine)  # cached reports see every write, from any process
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
