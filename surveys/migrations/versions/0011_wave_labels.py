"""wave labels: each wave's name in reports, per language (issue 16)

- waves.label: JSON {language: text}, nullable. Existing waves have none (NULL): reports
  then name a wave from its code ("wave2" -> "Wave 2"), as surveys.studies.waves says.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('waves', sa.Column('label', sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('waves') as batch:
        batch.drop_column('label')
