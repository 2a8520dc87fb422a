"""randomised arms: whether a study's participants were allocated to its arms at random (issue 13)

- studies.randomised: boolean, not null, default false. Only meaningful for a study with
  arms; every existing study (with arms or not) was not declared randomised, so false.
- studies.notes: free text for the study's researchers and evaluators (set-up, assumptions),
  empty for existing studies.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('studies', sa.Column('randomised', sa.Boolean, nullable=False,
                                       server_default=sa.false()))
    op.add_column('studies', sa.Column('notes', sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('studies') as batch:
        batch.drop_column('notes')
        batch.drop_column('randomised')
