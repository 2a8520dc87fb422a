"""telephone waves, call attempts and paused waves (issue 14)

- waves.mode: "web" (messages with a personal link, the default) or "telephone" (no
  message: the wave's questionnaires appear on interviewers' call lists when due);
  waves.max_calls: how many call attempts before a telephone questionnaire is given up
  (default 5); waves.paused_at: issuing is paused for the wave (its questionnaires wait,
  and issue on resume or lapse as their window says).
- invitations.calls: call attempts made; invitations.next_call_at: when the next call is
  due (a call back at a time, or after no answer); ix_invitations_calls serves call
  lists.
- call_attempts: one row per call (interviewer, time, outcome, the call-back time asked).
- responses.calls: how many calls it took (telephone responses).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('waves') as batch:
        batch.add_column(sa.Column('mode', sa.String(16), nullable=False, server_default='web'))
        batch.add_column(sa.Column('max_calls', sa.Integer, nullable=False, server_default='5'))
        batch.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('invitations') as batch:
        batch.add_column(sa.Column('calls', sa.Integer, nullable=False, server_default='0'))
        batch.add_column(sa.Column('next_call_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_invitations_calls', 'invitations',
                    ['wave_id', 'status', 'next_call_at', 'id'])
    op.add_column('responses', sa.Column('calls', sa.Integer, nullable=True))
    op.create_table(
        'call_attempts',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('invitation_id', sa.Integer,
                  sa.ForeignKey('invitations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('participant_id', sa.Integer,
                  sa.ForeignKey('participants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('interviewer_id', sa.Integer, sa.ForeignKey('users.id'), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(16), nullable=False),
        sa.Column('call_back_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_call_attempts_invitation', 'call_attempts', ['invitation_id', 'id'])
    op.create_index('ix_call_attempts_participant', 'call_attempts', ['participant_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_call_attempts_participant', 'call_attempts')
    op.drop_index('ix_call_attempts_invitation', 'call_attempts')
    op.drop_table('call_attempts')
    with op.batch_alter_table('responses') as batch:
        batch.drop_column('calls')
    op.drop_index('ix_invitations_calls', 'invitations')
    with op.batch_alter_table('invitations') as batch:
        batch.drop_column('next_call_at')
        batch.drop_column('calls')
    with op.batch_alter_table('waves') as batch:
        batch.drop_column('paused_at')
        batch.drop_column('max_calls')
        batch.drop_column('mode')
