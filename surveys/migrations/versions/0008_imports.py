"""import safety (issue 11)

- ix_participants_ref_lower (study_id, lower(ref)): the cohort import refuses a reference
  that differs only in case from one already in the study (`sec-i51` and `SEC-I51` are
  one person), and finds such clashes through this index rather than by a scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_participants_ref_lower', 'participants',
                    ['study_id', sa.text('lower(ref)')])


def downgrade() -> None:
    op.drop_index('ix_participants_ref_lower', table_name='participants')
