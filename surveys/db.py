"""Database engine and session factory, usable without Flask.

The web app, the scheduler and the command line all get their sessions here,
so one process can share one engine and tests can point everything at one URL.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

# Re-exported: they live apart so settings can be read without SQLAlchemy.
from surveys.instance import CHECKOUT, database_url, instance_dir  # noqa: F401


class Base(DeclarativeBase):
    pass


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
