"""paired report without a join: each linked response carries its client's stored end scores

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:00:00

- responses.baseline_<measure>: the participant's score stored at the end of the
  intervention, copied by the database (triggers below), never written by the app.
  The paired report then counts (baseline, follow-up) pairs from one covering index
  of responses alone: at 1,000,000 linked clients the join of two million-row index
  scans took 1.4-2.0 s on the benchmark machine, the single index-only scan 0.5 s.
- Triggers keep the copies true whatever writes the rows (forms, importers, SQL):
  a response gets its participant's scores when inserted or (re)linked, and loses
  them when unlinked (erasure); a participant's changed scores (cohort re-import)
  are pushed to their responses.
- ix_responses_paired (partial, linked responses only) covers the report's counts;
  ix_responses_wave (wave, status, participant) serves every other count, e.g. the
  unlinked responses.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MEASURES = ('workability', 'confidence', 'importance')
BASELINES = [f'baseline_{m}' for m in MEASURES]
SCORED = [c for m in MEASURES for c in (f'baseline_{m}', f'score_{m}')]

PG_FUNCTIONS = """
CREATE FUNCTION responses_copy_baseline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No participant (or none found): the copies become NULL.
    SELECT p.workability_end, p.confidence_end, p.importance_end
      INTO NEW.baseline_workability, NEW.baseline_confidence, NEW.baseline_importance
      FROM participants p WHERE p.id = NEW.participant_id;
    RETURN NEW;
END $$;
CREATE TRIGGER responses_copy_baseline BEFORE INSERT OR UPDATE OF participant_id
    ON responses FOR EACH ROW EXECUTE FUNCTION responses_copy_baseline();

CREATE FUNCTION participants_push_baseline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE responses SET baseline_workability = NEW.workability_end,
                         baseline_confidence = NEW.confidence_end,
                         baseline_importance = NEW.importance_end
     WHERE participant_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER participants_push_baseline
    AFTER UPDATE OF workability_end, confidence_end, importance_end ON participants
    FOR EACH ROW
    WHEN (OLD.workability_end IS DISTINCT FROM NEW.workability_end
          OR OLD.confidence_end IS DISTINCT FROM NEW.confidence_end
          OR OLD.importance_end IS DISTINCT FROM NEW.importance_end)
    EXECUTE FUNCTION participants_push_baseline();
"""

_SQLITE_COPY = ", ".join(
    f"baseline_{m} = (SELECT {m}_end FROM participants WHERE id = NEW.participant_id)"
    for m in MEASURES
)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER responses_copy_baseline_insert AFTER INSERT ON responses
        WHEN NEW.participant_id IS NOT NULL
        BEGIN UPDATE responses SET {_SQLITE_COPY} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER responses_copy_baseline_link AFTER UPDATE OF participant_id ON responses
        BEGIN UPDATE responses SET {_SQLITE_COPY} WHERE id = NEW.id; END""",
    """CREATE TRIGGER participants_push_baseline
        AFTER UPDATE OF workability_end, confidence_end, importance_end ON participants
        WHEN OLD.workability_end IS NOT NEW.workability_end
          OR OLD.confidence_end IS NOT NEW.confidence_end
          OR OLD.importance_end IS NOT NEW.importance_end
        BEGIN UPDATE responses SET baseline_workability = NEW.workability_end,
                                   baseline_confidence = NEW.confidence_end,
                                   baseline_importance = NEW.importance_end
              WHERE participant_id = NEW.id; END""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for column in BASELINES:
        op.execute(f"ALTER TABLE responses ADD COLUMN {column} INTEGER")
    op.execute(
        "UPDATE responses SET " + ", ".join(
            f"baseline_{m} = (SELECT p.{m}_end FROM participants p "
            f"WHERE p.id = responses.participant_id)" for m in MEASURES
        ) + " WHERE participant_id IS NOT NULL"
    )
    if dialect == 'postgresql':
        op.execute(PG_FUNCTIONS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

    op.drop_index('ix_responses_paired', table_name='responses')
    op.create_index('ix_responses_wave', 'responses', ['wave_id', 'status', 'participant_id'])
    op.create_index('ix_responses_paired', 'responses', ['wave_id', 'status', *SCORED],
                    postgresql_where=sa.text('participant_id IS NOT NULL'),
                    sqlite_where=sa.text('participant_id IS NOT NULL'))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index('ix_responses_paired', table_name='responses')
    op.drop_index('ix_responses_wave', table_name='responses')
    op.create_index('ix_responses_paired', 'responses',
                    ['wave_id', 'status', 'participant_id',
                     *[f'score_{m}' for m in MEASURES]])
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER participants_push_baseline ON participants")
        op.execute("DROP FUNCTION participants_push_baseline()")
        op.execute("DROP TRIGGER responses_copy_baseline ON responses")
        op.execute("DROP FUNCTION responses_copy_baseline()")
    else:
        for name in ('participants_push_baseline', 'responses_copy_baseline_link',
                     'responses_copy_baseline_insert'):
            op.execute(f"DROP TRIGGER {name}")
    for column in BASELINES:
        op.execute(f"ALTER TABLE responses DROP COLUMN {column}")
