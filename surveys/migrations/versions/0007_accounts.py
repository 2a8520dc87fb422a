"""sign-in failures counted atomically (issue 11)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 19:50:00

- sign_in_counters (key, attempts, window_start): one row per address, per account
  and per (account, address), bumped by a single upsert so that parallel sign-ins
  each get a distinct count (surveys/throttle.py, docs/decisions/0006).
- users.failed_logins and users.locked_until go: an account-wide lock let anyone
  lock any account out and answered faster than a password check. Dropped in place
  (SQLite 3.35+ drops a column natively): batch mode would copy and drop `users`,
  which audit_events and responses reference, and SQLite refuses that drop.
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_counters',
        sa.Column('key', sa.String(64), primary_key=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_sign_in_counters_window_start', 'sign_in_counters', ['window_start'])
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')


def downgrade() -> None:
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), nullable=False,
                                     server_default='0'))
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_index('ix_sign_in_counters_window_start', table_name='sign_in_counters')
    op.drop_table('sign_in_counters')
