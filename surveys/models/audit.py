"""An append-only record of who did what and when."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from surveys.db import Base
from surveys.models.types import UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(320))  # email, or 'cli'/'scheduler'
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class detail_text(FunctionElement):  # noqa: N801 - used like a SQL function
    """`detail ->> 'key'` (PostgreSQL) or `json_extract(detail, '$.key')` (SQLite), with the
    key written into the SQL, never bound: a planner matches an expression index only
    when the query spells it exactly as the index does, and a bound parameter (as
    `detail["key"].as_string()` gives) never matches on SQLite, nor on PostgreSQL once a
    statement is prepared with a generic plan."""

    type = String()
    inherit_cache = True
    name = "detail_text"

    def __init__(self, column, key: str) -> None:
        if not re.fullmatch(r"[a-z_]{1,40}", key):
            raise ValueError(f"not a detail key: {key!r}")
        super().__init__(column, literal_column(key))


def _parts(element, compiler, **kw) -> tuple[str, str]:
    column, key = element.clauses
    return compiler.process(column, **kw), key.name


@compiles(detail_text)
def _detail_text_sqlite(element, compiler, **kw) -> str:
    column, key = _parts(element, compiler, **kw)
    return f"json_extract({column}, '$.{key}')"


@compiles(detail_text, "postgresql")
def _detail_text_postgresql(element, compiler, **kw) -> str:
    column, key = _parts(element, compiler, **kw)
    return f"({column} ->> '{key}')"


def detail_key(key: str) -> detail_text:
    """One key of an event's detail as text, for filters the indexes below serve."""
    return detail_text(AuditEvent.__table__.c.detail, key)


_table = AuditEvent.__table__
# The audit page's filters (migration 0014): each equality leads an index that then reads
# newest first (at, id), so both its count and its page are index ranges at any size.
# Dates alone use ix_audit_events_at (SQLite keeps the row id in every index).
Index("ix_audit_events_actor", func.lower(_table.c.actor), _table.c.at, _table.c.id)
Index("ix_audit_events_action", _table.c.action, _table.c.at, _table.c.id)
Index("ix_audit_events_study", detail_key("study"), _table.c.at, _table.c.id)
# A participant's timeline finds the events that name them by their digest.
Index("ix_audit_events_ref_digest", detail_key("ref_digest"), _table.c.id)
