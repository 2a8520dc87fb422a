"""The schema history stays one straight line, and it builds exactly what the models say
(including the append-only audit triggers the security tests rely on)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

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
