"""The schema history stays one straight line, and it builds exactly what the models say
(including the append-only audit triggers the security tests rely on)."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column
from sqlalchemy.schema import CreateIndex

from surveys.migrate import alembic_config
from surveys.models import Base


def test_there_is_exactly_one_migration_head():
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = scripts.get_heads()
    assert len(heads) == 1, f"several heads, chain the newest migration after the other: {heads}"
    # And every revision before it is on the one line down to the first.
    revisions = list(scripts.walk_revisions())
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]


def test_migrations_build_what_the_models_describe(engine, database_url):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_expression_indexes_on_sqlite_are_the_models(engine):
    """Alembic cannot compare expression indexes on SQLite (it skips them with a warning):
    compare the SQL SQLite keeps with the models' CREATE INDEX instead."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's are compared by the test above")

    def plain(sql: str) -> str:
        return re.sub(r"[\s\"]", "", sql).lower()

    with engine.connect() as conn:
        kept = dict(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).all())
    checked = []
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            if all(isinstance(e, Column) for e in index.expressions):
                continue
            wanted = str(CreateIndex(index).compile(dialect=engine.dialect))
            assert plain(kept.get(index.name, "")) == plain(wanted), index.name
            checked.append(index.name)
    assert "ix_audit_events_study" in checked and "ix_participants_ref_lower" in checked
