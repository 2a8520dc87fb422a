"""messages that reach people at the right time and in the right way (issue 15)

- studies.time_zone: the study's clock for due dates and the sending window
  (default Europe/London).
- studies.send_window: JSON {"from": "09:00", "to": "19:00", "days": ["mon", .. "sat"]};
  NULL means that default.
- studies.messages: JSON of the study's own message texts (who runs it, who to contact),
  per language; NULL: the service's words.
- waves.channels: JSON list of how clients are reached, from "email", "sms"
  (default ["email"]); waves.messages: JSON of the wave's own message texts; NULL: the
  study's.
- participants.opted_out_at: the client asked for no more contact from the study;
  participants.withdrawn_at: researchers withdrew the participant (no contact, not on
  call lists; their answers kept unless erased).
- ix_participants_site, ix_participants_completed: the participants list sorted or
  filtered by site or completion date reads an index, at any size.
- users.active (deactivated accounts cannot sign in), users.invite_hash and
  users.invite_expires_at (a single-use, expiring link to set a password);
  user_studies: which studies a researcher or evaluator may see (admins see all).
- invitations.reminders_sent: how many of the wave's reminders have been queued.
- messages: one row per message sent or tried, per channel (email or SMS), with its
  provider's reference and delivery outcome: the participant's timeline and delivery
  receipts read them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('studies') as batch:
        batch.add_column(sa.Column('time_zone', sa.String(64), nullable=False,
                                   server_default='Europe/London'))
        batch.add_column(sa.Column('send_window', sa.JSON, nullable=True))
        batch.add_column(sa.Column('messages', sa.JSON, nullable=True))
    with op.batch_alter_table('waves') as batch:
        batch.add_column(sa.Column('channels', sa.JSON, nullable=False,
                                   server_default='["email"]'))
        batch.add_column(sa.Column('messages', sa.JSON, nullable=True))
    with op.batch_alter_table('participants') as batch:
        batch.add_column(sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_participants_site', 'participants', ['study_id', 'site', 'ref'])
    op.create_index('ix_participants_completed', 'participants',
                    ['study_id', 'completed_on', 'ref'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('active', sa.Boolean, nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column('invite_hash', sa.String(64), nullable=True))
        batch.add_column(sa.Column('invite_expires_at', sa.DateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        'user_studies',
        sa.Column('user_id', sa.Integer, sa.ForeignKey('users.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('study_id', sa.Integer, sa.ForeignKey('studies.id', ondelete='CASCADE'),
                  primary_key=True),
    )
    op.add_column('invitations', sa.Column('reminders_sent', sa.Integer, nullable=False,
                                           server_default='0'))
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('invitation_id', sa.Integer,
                  sa.ForeignKey('invitations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('participant_id', sa.Integer,
                  sa.ForeignKey('participants.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('sequence', sa.Integer, nullable=False),
        sa.Column('channel', sa.String(8), nullable=False),
        sa.Column('provider', sa.String(16), nullable=False),
        sa.Column('provider_ref', sa.String(100), nullable=True),
        sa.Column('status', sa.String(24), nullable=False),
        sa.Column('error', sa.String(500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('invitation_id', 'kind', 'sequence', 'channel'),
    )
    op.create_index('ix_messages_participant', 'messages', ['participant_id', 'id'])
    op.create_index('ix_messages_status', 'messages', ['status', 'updated_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_messages_status', 'messages')
    op.drop_index('ix_messages_participant', 'messages')
    op.drop_table('messages')
    with op.batch_alter_table('invitations') as batch:
        batch.drop_column('reminders_sent')
    op.drop_table('user_studies')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('invite_expires_at')
        batch.drop_column('invite_hash')
        batch.drop_column('active')
    op.drop_index('ix_participants_completed', 'participants')
    op.drop_index('ix_participants_site', 'participants')
    with op.batch_alter_table('participants') as batch:
        batch.drop_column('withdrawn_at')
        batch.drop_column('opted_out_at')
    with op.batch_alter_table('waves') as batch:
        batch.drop_column('messages')
        batch.drop_column('channels')
    with op.batch_alter_table('studies') as batch:
        batch.drop_column('messages')
        batch.drop_column('send_window')
        batch.drop_column('time_zone')
