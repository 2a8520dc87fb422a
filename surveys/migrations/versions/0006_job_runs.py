"""job runs: the contact clean-up runs at most once per interval, not every pass

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:30:00

- job_runs (name, last_run_at): when a chore whose cost grows with the whole
  database last ran (surveys/chores.py).
- ix_participants_contactable: a partial index of participants who still have an
  email or phone, so the clean-up reads only those, not everyone ever imported.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_runs',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    )
    where = sa.text('email IS NOT NULL OR phone IS NOT NULL')
    op.create_index('ix_participants_contactable', 'participants', ['id'],
                    postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index('ix_participants_contactable', table_name='participants')
    op.drop_table('job_runs')
