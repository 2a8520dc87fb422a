"""the questionnaires page reads its pages in index order (issue 14)

- ix_invitations_wave_due (wave, due_on, id): a wave's questionnaires, latest due first.
- ix_invitations_wave_status gains due_on and id after (wave, status): a wave's
  questionnaires of one status in the same order. Every query that used the two columns
  it had still finds them first.
The page of 50 is merged from each wave's first rows in that order, not sorted from every
questionnaire of the study.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 08:00:00
"""

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_invitations_wave_due', 'invitations', ['wave_id', 'due_on', 'id'])
    op.drop_index('ix_invitations_wave_status', table_name='invitations')
    op.create_index('ix_invitations_wave_status', 'invitations',
                    ['wave_id', 'status', 'due_on', 'id'])


def downgrade() -> None:
    op.drop_index('ix_invitations_wave_status', table_name='invitations')
    op.create_index('ix_invitations_wave_status', 'invitations', ['wave_id', 'status'])
    op.drop_index('ix_invitations_wave_due', table_name='invitations')
