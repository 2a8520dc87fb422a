"""links sent again as their own messages; the audit page's filters read indexes (issue 14)

- invitations.resends: how many times staff asked for the link to be sent again; each
  goes as a "resend" message numbered 1, 2... (messages.kind), so
  unique (invitation, kind, sequence, channel) holds without renumbering.
- Data: before this revision, "send the link again" moved the invitation's earlier
  message rows to negative sequences (-1 the first invitation, -2 the first copy sent
  again, and so on, with the newest copy at 0). Those rows become the invitation
  (sequence 0) and resends 1, 2..., in the order they were sent; an invitation
  waiting to go again is waiting for its last resend. Nothing is deleted.
- ix_audit_events_actor (lower(actor), at, id), ix_audit_events_action (action, at, id),
  ix_audit_events_study (the detail's study, at, id): each filter of the audit page is
  an index range that reads newest first, for its count and its page.
  ix_audit_events_ref_digest (the detail's ref_digest, id): a participant's timeline.
  The detail keys are written as the models' `detail_text` writes them, per database.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 08:00:00
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

messages = sa.table('messages', sa.column('id', sa.Integer), sa.column('invitation_id', sa.Integer),
                    sa.column('kind', sa.String), sa.column('sequence', sa.Integer))
invitations = sa.table('invitations', sa.column('id', sa.Integer),
                       sa.column('delivery_kind', sa.String), sa.column('resends', sa.Integer))


def _detail(key: str) -> sa.TextClause:
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text(f"(detail ->> '{key}')")
    return sa.text(f"json_extract(detail, '$.{key}')")


def upgrade() -> None:
    with op.batch_alter_table('invitations') as batch:
        batch.add_column(sa.Column('resends', sa.Integer, nullable=False, server_default='0'))
    _renumber_resends()
    op.create_index('ix_audit_events_actor', 'audit_events', [sa.text('lower(actor)'), 'at', 'id'])
    op.create_index('ix_audit_events_action', 'audit_events', ['action', 'at', 'id'])
    op.create_index('ix_audit_events_study', 'audit_events', [_detail('study'), 'at', 'id'])
    op.create_index('ix_audit_events_ref_digest', 'audit_events', [_detail('ref_digest'), 'id'])


def _renumber_resends() -> None:
    conn = op.get_bind()
    resent = sa.select(messages.c.invitation_id).where(
        messages.c.kind == 'invitation', messages.c.sequence < 0).distinct()
    rows = conn.execute(sa.select(messages.c.id, messages.c.invitation_id, messages.c.sequence)
                        .where(messages.c.kind == 'invitation',
                               messages.c.invitation_id.in_(resent))).all()
    by_invitation: dict[int, list] = defaultdict(list)
    for row in rows:
        by_invitation[row.invitation_id].append(row)
    for invitation_id, found in by_invitation.items():
        # Sent in the order -1, -2, ..., -k, then 0: -1 the invitation, -j resend j-1,
        # and 0 (the newest, if it went) resend k.
        k = -min(row.sequence for row in found)
        order = {-1: ('invitation', 0), 0: ('resend', k)}
        order.update({-j: ('resend', j - 1) for j in range(2, k + 1)})
        # The new resend rows first: then sequence 0 is free for the invitation's own.
        for row in sorted(found, key=lambda r: order[r.sequence][0] == 'invitation'):
            kind, sequence = order[row.sequence]
            conn.execute(sa.update(messages).where(messages.c.id == row.id)
                         .values(kind=kind, sequence=sequence))
        conn.execute(sa.update(invitations).where(invitations.c.id == invitation_id)
                     .values(resends=k))
        conn.execute(sa.update(invitations).where(invitations.c.id == invitation_id,
                                                  invitations.c.delivery_kind == 'invitation')
                     .values(delivery_kind='resend'))


def _number_back() -> None:
    """The reverse: resend n of k back to -(n + 1), the last (k) to 0, the invitation to -1."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(messages.c.id, messages.c.invitation_id, messages.c.kind,
                                  messages.c.sequence, invitations.c.resends)
                        .join(invitations, invitations.c.id == messages.c.invitation_id)
                        .where(invitations.c.resends > 0,
                               messages.c.kind.in_(['invitation', 'resend']))).all()
    for row in sorted(rows, key=lambda r: r.kind == 'resend'):  # the invitation's first
        if row.kind == 'invitation':
            sequence = -1
        else:
            sequence = 0 if row.sequence == row.resends else -(row.sequence + 1)
        conn.execute(sa.update(messages).where(messages.c.id == row.id)
                     .values(kind='invitation', sequence=sequence))
    conn.execute(sa.update(invitations).where(invitations.c.delivery_kind == 'resend')
                 .values(delivery_kind='invitation'))


def downgrade() -> None:
    op.drop_index('ix_audit_events_ref_digest', 'audit_events')
    op.drop_index('ix_audit_events_study', 'audit_events')
    op.drop_index('ix_audit_events_action', 'audit_events')
    op.drop_index('ix_audit_events_actor', 'audit_events')
    _number_back()
    with op.batch_alter_table('invitations') as batch:
        batch.drop_column('resends')
