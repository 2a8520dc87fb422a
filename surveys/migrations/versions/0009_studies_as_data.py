"""studies as data: measures, kept instruments, numbered measure slots (issue 12)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 23:20:00

- measures: a study's paired measures (scale or binary), each with a slot 1..8.
- instrument_sources: instrument files given with a study, kept by (name, version).
- studies.programme / languages / arms; waves.instrument_version; waves.reminder_days
  becomes a list of days (zero to three reminders).
- participants: workability_end / confidence_end / importance_end become baseline_1..3
  (slots 4..8 added), status (completed | dropped_out | in_progress), arm; completed_on
  may be empty for those who did not complete.
- responses: score_<slot> (the answer as an integer: scale value, or yes = 1 / no = 0)
  and baseline_<slot>, written by triggers only: scores derived from `answers` by the
  wave's study's measures, baselines copied from the participant (as in 0005). The
  generated score_workability/... columns of 0004 go; their values move to slots 1..3.
- studies.reliable_change goes: each measure holds its own threshold.
- Existing studies get the EHD's three 0-10 measures in slots 1..3, so every report
  reads the same numbers as before the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SLOTS = range(1, 9)
OLD = ('workability', 'confidence', 'importance')
PAIRED = [c for k in SLOTS for c in (f'baseline_{k}', f'score_{k}')]
EHD_MEASURES = (
    ('workability', 1, {'en': 'Work ability (0 to 10)', 'cy': 'Gallu i weithio (0 i 10)'}),
    ('confidence', 2, {'en': 'Confidence about getting into work (0 to 10)',
                       'cy': 'Hyder ynghylch cael gwaith (0 i 10)'}),
    ('importance', 3, {'en': 'Importance of getting into work (0 to 10)',
                       'cy': 'Pwysigrwydd cael gwaith (0 i 10)'}),
)


def _pg_score(k: int) -> str:
    return f"""max(CASE WHEN m.slot = {k} THEN
        CASE WHEN m.kind = 'binary' THEN
                  CASE NEW.answers ->> m.key WHEN 'yes' THEN 1 WHEN 'no' THEN 0 END
             WHEN (NEW.answers ->> m.key) ~ '^-?[0-9]{{1,6}}$'
                  THEN (NEW.answers ->> m.key)::integer END END)"""


PG_FUNCTIONS = f"""
CREATE FUNCTION responses_derive_scores() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT {', '.join(_pg_score(k) for k in SLOTS)}
      INTO {', '.join(f'NEW.score_{k}' for k in SLOTS)}
      FROM measures m JOIN waves w ON w.study_id = m.study_id
     WHERE w.id = NEW.wave_id;
    RETURN NEW;
END $$;
CREATE TRIGGER responses_derive_scores BEFORE INSERT OR UPDATE OF answers, wave_id
    ON responses FOR EACH ROW EXECUTE FUNCTION responses_derive_scores();

CREATE FUNCTION responses_copy_baseline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No participant (or none found): the copies become NULL.
    SELECT {', '.join(f'p.baseline_{k}' for k in SLOTS)}
      INTO {', '.join(f'NEW.baseline_{k}' for k in SLOTS)}
      FROM participants p WHERE p.id = NEW.participant_id;
    RETURN NEW;
END $$;
CREATE TRIGGER responses_copy_baseline BEFORE INSERT OR UPDATE OF participant_id
    ON responses FOR EACH ROW EXECUTE FUNCTION responses_copy_baseline();

CREATE FUNCTION participants_push_baseline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE responses SET {', '.join(f'baseline_{k} = NEW.baseline_{k}' for k in SLOTS)}
     WHERE participant_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER participants_push_baseline
    AFTER UPDATE OF {', '.join(f'baseline_{k}' for k in SLOTS)} ON participants
    FOR EACH ROW
    WHEN ({' OR '.join(f'OLD.baseline_{k} IS DISTINCT FROM NEW.baseline_{k}' for k in SLOTS)})
    EXECUTE FUNCTION participants_push_baseline();
"""


def _sqlite_score(k: int) -> str:
    path = "'$.' || m.key"
    value = f"json_extract(NEW.answers, {path})"
    kind = f"json_type(NEW.answers, {path})"
    return f"""score_{k} = (SELECT CASE
        WHEN m.kind = 'binary' THEN CASE {value} WHEN 'yes' THEN 1 WHEN 'no' THEN 0 END
        WHEN {kind} = 'integer' THEN {value}
        WHEN {kind} = 'text' AND {value} != '' AND {value} NOT GLOB '*[^0-9]*'
             AND length({value}) <= 6 THEN CAST({value} AS INTEGER) END
      FROM measures m JOIN waves w ON w.study_id = m.study_id
     WHERE w.id = NEW.wave_id AND m.slot = {k})"""


_SQLITE_SCORES = ", ".join(_sqlite_score(k) for k in SLOTS)
_SQLITE_COPY = ", ".join(
    f"baseline_{k} = (SELECT baseline_{k} FROM participants WHERE id = NEW.participant_id)"
    for k in SLOTS
)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER responses_derive_scores_insert AFTER INSERT ON responses
        BEGIN UPDATE responses SET {_SQLITE_SCORES} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER responses_derive_scores_update AFTER UPDATE OF answers, wave_id
        ON responses BEGIN UPDATE responses SET {_SQLITE_SCORES} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER responses_copy_baseline_insert AFTER INSERT ON responses
        WHEN NEW.participant_id IS NOT NULL
        BEGIN UPDATE responses SET {_SQLITE_COPY} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER responses_copy_baseline_link AFTER UPDATE OF participant_id ON responses
        BEGIN UPDATE responses SET {_SQLITE_COPY} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER participants_push_baseline
        AFTER UPDATE OF {', '.join(f'baseline_{k}' for k in SLOTS)} ON participants
        WHEN {' OR '.join(f'OLD.baseline_{k} IS NOT NEW.baseline_{k}' for k in SLOTS)}
        BEGIN UPDATE responses SET {', '.join(f'baseline_{k} = NEW.baseline_{k}' for k in SLOTS)}
              WHERE participant_id = NEW.id; END""",
]


def _drop_old_triggers(dialect: str) -> None:
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER participants_push_baseline ON participants")
        op.execute("DROP FUNCTION participants_push_baseline()")
        op.execute("DROP TRIGGER responses_copy_baseline ON responses")
        op.execute("DROP FUNCTION responses_copy_baseline()")
    else:
        for name in ('participants_push_baseline', 'responses_copy_baseline_link',
                     'responses_copy_baseline_insert'):
            op.execute(f"DROP TRIGGER {name}")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.create_table(
        'measures',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('study_id', sa.Integer, sa.ForeignKey('studies.id'), nullable=False),
        sa.Column('key', sa.String(64), nullable=False),
        sa.Column('position', sa.Integer, nullable=False),
        sa.Column('slot', sa.Integer, nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('better', sa.String(8), nullable=False),
        sa.Column('min_value', sa.Integer),
        sa.Column('max_value', sa.Integer),
        sa.Column('reliable_change', sa.Double),
        sa.Column('baseline', sa.Boolean, nullable=False),
        sa.Column('label', sa.JSON, nullable=False),
        sa.UniqueConstraint('study_id', 'key'),
        sa.UniqueConstraint('study_id', 'slot'),
    )
    op.create_table(
        'instrument_sources',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('version', sa.String(32), nullable=False),
        sa.Column('source', sa.Text, nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('name', 'version'),
    )
    op.add_column('studies', sa.Column('programme', sa.JSON))
    op.add_column('studies', sa.Column('languages', sa.JSON))
    op.add_column('studies', sa.Column('arms', sa.JSON))
    op.add_column('waves', sa.Column('instrument_version', sa.String(32)))
    op.add_column('waves', sa.Column('reminders', sa.JSON))

    studies = sa.table('studies', sa.column('id', sa.Integer),
                       sa.column('reliable_change', sa.JSON),
                       sa.column('programme', sa.JSON), sa.column('languages', sa.JSON),
                       sa.column('arms', sa.JSON))
    measures = sa.table('measures', *[sa.column(c) for c in (
        'study_id', 'key', 'position', 'slot', 'kind', 'better', 'min_value', 'max_value',
        'reliable_change', 'baseline')], sa.column('label', sa.JSON))
    for study_id, reliable in bind.execute(sa.select(studies.c.id, studies.c.reliable_change)):
        reliable = reliable or {'workability': 2}
        bind.execute(studies.update().where(studies.c.id == study_id).values(
            programme={'en': 'Employment and Health Discussion',
                       'cy': 'Trafodaeth Cyflogaeth ac Iechyd'},
            languages=['en', 'cy'], arms=[]))
        for key, slot, label in EHD_MEASURES:
            bind.execute(measures.insert().values(
                study_id=study_id, key=key, position=slot, slot=slot, kind='scale',
                better='higher', min_value=0, max_value=10,
                reliable_change=reliable.get(key), baseline=True, label=label))
    op.execute("UPDATE waves SET reminders = '[' || reminder_days || ']'"
               if dialect == 'sqlite' else
               "UPDATE waves SET reminders = json_build_array(reminder_days)")
    op.drop_column('waves', 'reminder_days')
    # Every row has its values now: the new settings are required from here on.
    with op.batch_alter_table('waves') as batch:
        batch.alter_column('reminders', new_column_name='reminder_days',
                           existing_type=sa.JSON, nullable=False)
    with op.batch_alter_table('studies') as batch:
        for column in ('programme', 'languages', 'arms'):
            batch.alter_column(column, existing_type=sa.JSON, nullable=False)
        # Each measure now holds its own threshold (copied above): one home for it.
        batch.drop_column('reliable_change')

    # Responses: follow-up scores and baselines move to numbered slots.
    _drop_old_triggers(dialect)
    op.drop_index('ix_responses_paired', table_name='responses')
    for k in SLOTS:
        op.add_column('responses', sa.Column(f'score_{k}', sa.Integer))
    for k in SLOTS[3:]:
        op.add_column('responses', sa.Column(f'baseline_{k}', sa.Integer))
    op.execute("UPDATE responses SET " + ", ".join(
        f"score_{k} = score_{m}" for k, m in enumerate(OLD, start=1)))
    for k, m in enumerate(OLD, start=1):
        op.execute(f"ALTER TABLE responses DROP COLUMN score_{m}")
        op.execute(f"ALTER TABLE responses RENAME COLUMN baseline_{m} TO baseline_{k}")

    # Participants: baselines in slots, status and arm, completed_on optional.
    op.drop_index('ix_participants_scores', table_name='participants')
    op.drop_index('ix_participants_ref_lower', table_name='participants')
    op.drop_index('ix_participants_contactable', table_name='participants')
    with op.batch_alter_table('participants', recreate='auto') as batch:
        for k, m in enumerate(OLD, start=1):
            batch.alter_column(f'{m}_end', new_column_name=f'baseline_{k}',
                               existing_type=sa.Integer)
        batch.alter_column('completed_on', existing_type=sa.Date, nullable=True)
    for k in SLOTS[3:]:
        op.add_column('participants', sa.Column(f'baseline_{k}', sa.Integer))
    op.add_column('participants', sa.Column('status', sa.String(16), nullable=False,
                                            server_default='completed'))
    op.add_column('participants', sa.Column('arm', sa.String(64)))
    # Covering: breakdowns read baselines, and the yes/no shares of all participants
    # count baselines by status, from this index alone.
    op.create_index('ix_participants_scores', 'participants',
                    ['study_id', 'id', *[f'baseline_{k}' for k in SLOTS], 'status'])
    op.create_index('ix_participants_ref_lower', 'participants',
                    ['study_id', sa.text('lower(ref)')])
    op.create_index('ix_participants_contactable', 'participants', ['id'],
                    postgresql_where=sa.text('email IS NOT NULL OR phone IS NOT NULL'),
                    sqlite_where=sa.text('email IS NOT NULL OR phone IS NOT NULL'))

    if dialect == 'postgresql':
        op.execute(PG_FUNCTIONS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_index('ix_responses_paired', 'responses', ['wave_id', 'status', *PAIRED],
                    postgresql_where=sa.text('participant_id IS NOT NULL'),
                    sqlite_where=sa.text('participant_id IS NOT NULL'))


def downgrade() -> None:
    raise RuntimeError(
        "0009 (studies as data) cannot be undone: a study may now hold measures the "
        "earlier schema cannot store. Restore the database backup taken before upgrading."
    )
