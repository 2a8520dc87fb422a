"""participants keep their main channel, appointments attended and work ability change
(issue 16)

Two breakdowns of the evaluation report are worked out from appointments: the main
channel (the channel of most of a client's scheduled appointments; a tie goes to the one
used most recently, then by name) and the number of appointments attended. Every report
by either built a temporary table from every appointment and joined it in each of its
statements (5.0 s by channel at 100,000 clients, 2.3 s without a breakdown). Now each
participant carries both, kept by triggers on appointments, so those breakdowns are
columns like site and language (decision 0013):

- participants.main_channel (NULL: no appointment) and participants.appointments_attended
  (0: none attended), filled here from the appointments already stored;
- participants.workability_change, the change from their first to their last work
  ability score (improved, same, deteriorated, single, none): the report's table of it
  sorted every appointment (2.6 s of 16 at 1,000,000 clients); now it counts participants;
- PostgreSQL: one statement-level trigger per event, reading the changed rows (transition
  tables), so a bulk load of appointments updates each participant once per statement;
  SQLite: row triggers.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _main_channel(who: str) -> str:
    return f"""(SELECT a.channel FROM appointments a WHERE a.participant_id = {who}
               GROUP BY a.channel
               ORDER BY count(*) DESC, max(a.appointment_on) DESC, a.channel LIMIT 1)"""


def _attended(who: str) -> str:
    return f"""(SELECT count(*) FROM appointments a
               WHERE a.participant_id = {who} AND a.attendance = 'attended')"""


def _score(who: str, order: str) -> str:
    return f"""(SELECT a.workability FROM appointments a
               WHERE a.participant_id = {who} AND a.workability IS NOT NULL
               ORDER BY {order} LIMIT 1)"""


def _change(who: str) -> str:
    """First and last score in (date, id) order, as reports.queries.workability_changes.
    Simple CASEs, so the count and each end are worked out once (a searched CASE would run
    each subquery again in every branch)."""
    first = _score(who, "a.appointment_on, a.id")
    last = _score(who, "a.appointment_on DESC, a.id DESC")
    return f"""(SELECT CASE count(a.workability) WHEN 0 THEN 'none' WHEN 1 THEN 'single'
                   ELSE CASE sign({last} - {first}) WHEN 1 THEN 'improved'
                        WHEN -1 THEN 'deteriorated' ELSE 'same' END END
                FROM appointments a WHERE a.participant_id = {who})"""


PG_FUNCTION = f"""
CREATE FUNCTION participants_appointment_groups(ids integer[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE participants p
       SET main_channel = s.channel, appointments_attended = s.attended,
           workability_change = s.change
      FROM (SELECT changed.id, {_main_channel('changed.id')} AS channel,
                   {_attended('changed.id')} AS attended, {_change('changed.id')} AS change
              FROM unnest(ids) AS changed(id)) s
     WHERE p.id = s.id
       AND (p.main_channel IS DISTINCT FROM s.channel
            OR p.appointments_attended <> s.attended OR p.workability_change <> s.change)
$$;
CREATE FUNCTION appointments_regroup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM participants_appointment_groups(
            ARRAY(SELECT DISTINCT participant_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM participants_appointment_groups(
            ARRAY(SELECT DISTINCT participant_id FROM old_rows));
    ELSE
        PERFORM participants_appointment_groups(ARRAY(
            SELECT participant_id FROM new_rows UNION SELECT participant_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER appointments_regroup_insert AFTER INSERT ON appointments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION appointments_regroup();
CREATE TRIGGER appointments_regroup_update AFTER UPDATE ON appointments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION appointments_regroup();
CREATE TRIGGER appointments_regroup_delete AFTER DELETE ON appointments
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION appointments_regroup();
"""


def _sqlite_regroup(who: str) -> str:
    return (f"UPDATE participants SET main_channel = {_main_channel(who)}, "
            f"appointments_attended = {_attended(who)}, "
            f"workability_change = {_change(who)} WHERE id = {who};")


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER appointments_regroup_insert AFTER INSERT ON appointments
        BEGIN {_sqlite_regroup('NEW.participant_id')} END""",
    f"""CREATE TRIGGER appointments_regroup_update AFTER UPDATE ON appointments
        BEGIN {_sqlite_regroup('OLD.participant_id')} {_sqlite_regroup('NEW.participant_id')}
        END""",
    f"""CREATE TRIGGER appointments_regroup_delete AFTER DELETE ON appointments
        BEGIN {_sqlite_regroup('OLD.participant_id')} END""",
]
TRIGGERS = ('appointments_regroup_insert', 'appointments_regroup_update',
            'appointments_regroup_delete')


def upgrade() -> None:
    op.add_column('participants', sa.Column('main_channel', sa.String(32), nullable=True))
    op.add_column('participants', sa.Column('appointments_attended', sa.Integer(),
                                            nullable=False, server_default='0'))
    op.add_column('participants', sa.Column('workability_change', sa.String(16),
                                            nullable=False, server_default='none'))
    op.execute(f"""UPDATE participants SET main_channel = {_main_channel('participants.id')},
                   appointments_attended = {_attended('participants.id')},
                   workability_change = {_change('participants.id')}
                   WHERE id IN (SELECT participant_id FROM appointments)""")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON appointments")
        op.execute("DROP FUNCTION appointments_regroup()")
        op.execute("DROP FUNCTION participants_appointment_groups(integer[])")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    # Not a batch (SQLite would copy the table and lose its baseline trigger): SQLite
    # 3.35 and later drop a column in place.
    op.execute("ALTER TABLE participants DROP COLUMN workability_change")
    op.execute("ALTER TABLE participants DROP COLUMN appointments_attended")
    op.execute("ALTER TABLE participants DROP COLUMN main_channel")
