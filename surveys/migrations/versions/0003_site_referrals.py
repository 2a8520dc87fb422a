"""site referrals: management information per delivery site

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('fte', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('eligible_referrals', sa.Integer(), nullable=False),
    sa.Column('successfully_closed', sa.Integer(), nullable=False),
    sa.Column('in_progress', sa.Integer(), nullable=True),
    sa.Column('not_completed_unsuitable', sa.Integer(), nullable=True),
    sa.Column('not_completed_disengaged', sa.Integer(), nullable=True),
    sa.Column('not_completed_claim_closed', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['study_id'], ['studies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'site')
    )
    with op.batch_alter_table('site_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_referrals_study_id'), ['study_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('site_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_referrals_study_id'))

    op.drop_table('site_referrals')
