"""scale: follow-up scores as generated columns, covering and ordered indexes for every job

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:00:00

- responses.score_<measure>: the 0-10 answer to each stored-score question, generated
  by the database from `answers` (STORED on PostgreSQL, VIRTUAL on SQLite), so the
  paired report reads integers from an index instead of parsing JSON per row.
- ix_responses_paired (wave, status, participant, scores) and ix_participants_scores
  (study, id, baseline scores): the paired report becomes a merge join of two
  index-only scans in participant order.
- invitation indexes whose column order matches each dispatcher query, including its
  ORDER BY, so that claiming a batch reads only that batch.
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MEASURES = ('workability', 'confidence', 'importance')


def _score_sql(dialect: str, measure: str) -> str:
    """A whole number 0-99 when the answer is one, else NULL (never an error)."""
    if dialect == 'postgresql':
        value = f"(answers ->> '{measure}')"
        return f"CASE WHEN {value} ~ '^[0-9]{{1,2}}$' THEN {value}::integer END"
    path = f"'$.{measure}'"
    kind = f"json_type(answers, {path})"
    value = f"json_extract(answers, {path})"
    return (
        f"CASE WHEN {kind} = 'integer' AND {value} BETWEEN 0 AND 99 THEN {value} "
        f"WHEN {kind} = 'text' AND ({value} GLOB '[0-9]' OR {value} GLOB '[0-9][0-9]') "
        f"THEN CAST({value} AS INTEGER) END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    kind = 'STORED' if dialect == 'postgresql' else 'VIRTUAL'
    for measure in MEASURES:
        op.execute(
            f"ALTER TABLE responses ADD COLUMN score_{measure} INTEGER "
            f"GENERATED ALWAYS AS ({_score_sql(dialect, measure)}) {kind}"
        )

    op.drop_index('ix_responses_wave', table_name='responses')
    op.create_index('ix_responses_paired', 'responses',
                    ['wave_id', 'status', 'participant_id',
                     *[f'score_{m}' for m in MEASURES]])

    op.drop_index('ix_participants_study_id', table_name='participants')
    op.create_index('ix_participants_scores', 'participants',
                    ['study_id', 'id', 'workability_end', 'confidence_end', 'importance_end'])

    op.drop_index('ix_invitations_due', table_name='invitations')
    op.create_index('ix_invitations_due', 'invitations', ['status', 'due_on', 'id'])
    op.drop_index('ix_invitations_delivery', table_name='invitations')
    op.create_index('ix_invitations_delivery', 'invitations',
                    ['delivery_status', 'next_attempt_at', 'id'])
    op.create_index('ix_invitations_closing', 'invitations', ['status', 'closes_on'])
    op.create_index('ix_invitations_reminder', 'invitations', ['status', 'reminder_due_on'])
    op.drop_index('ix_invitations_wave_id', table_name='invitations')
    op.create_index('ix_invitations_wave_status', 'invitations', ['wave_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_invitations_wave_status', table_name='invitations')
    op.create_index('ix_invitations_wave_id', 'invitations', ['wave_id'])
    op.drop_index('ix_invitations_reminder', table_name='invitations')
    op.drop_index('ix_invitations_closing', table_name='invitations')
    op.drop_index('ix_invitations_delivery', table_name='invitations')
    op.create_index('ix_invitations_delivery', 'invitations', ['delivery_status', 'next_attempt_at'])
    op.drop_index('ix_invitations_due', table_name='invitations')
    op.create_index('ix_invitations_due', 'invitations', ['status', 'due_on'])

    op.drop_index('ix_participants_scores', table_name='participants')
    op.create_index('ix_participants_study_id', 'participants', ['study_id'])

    op.drop_index('ix_responses_paired', table_name='responses')
    op.create_index('ix_responses_wave', 'responses', ['wave_id', 'status'])
    for measure in MEASURES:
        op.execute(f"ALTER TABLE responses DROP COLUMN score_{measure}")
