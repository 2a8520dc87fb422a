"""the evaluation report's counts kept at write time on PostgreSQL (issue 16, decision 0013
part two)

`report_counts` holds signed counts (study, breakdown, group, figure, keys, n): every
INSERT, UPDATE or DELETE of participants, appointments, invitations, responses, call
attempts or waves appends, in its own transaction, what it added to and took from each
figure, for every breakdown at once. A report sums them (one statement) instead of reading
every row. Appending, never updating a shared counter, means no writer waits for another
and none can deadlock; `report_counts_fold` (the scheduler, each pass) adds the fresh rows
of a study into one folded row per key, which only folding updates. Summed under one snapshot, the counts always agree with the rows
that snapshot sees, since each change and its counts commit together.

How a change is counted: each table's rows contribute to figures through their
participant's groups (site, language, arm, main channel, appointments attended), so
- a change to appointments, invitations or responses takes away what its old rows gave
  and adds what its new rows give, joined to their (unchanged) participants;
- a change to a participant that moves their groups or the values their rows count by
  (opted out, stored baselines) moves everything of theirs: their own figures and their
  rows', from the old participant row to the new; it fires before the baseline push below
  (trigger names run in order), so each step sees the counts the previous one left;
- deleting a participant takes away everything of theirs first (BEFORE DELETE, while
  their rows are still there); the cascades then find no participant and count nothing,
  except responses, which become unlinked and are counted as such;
- two facts of an invitation come from other tables and are kept on it so its figures
  read one row: `answered` (a submitted response of that participant to that wave, kept by
  the responses trigger) and `last_outcome` (its last call, kept by the call attempts
  trigger); their updates are invitation changes like any other;
- a wave's telephone settings decide statuses: changing them recounts its invitations.
The per-participant appointment groups of migration 0017 update participants from their
statement trigger, named after this one, so appointments are counted in the old groups
first and then moved with their participant.

SQLite (the embedded demo) keeps counting from rows; its report_counts stays empty.
`report_counts_recount(study)` counts a study from its rows (this migration's backfill, the
tests' check and `surveys report recount`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SLOTS = range(1, 9)
# What moves a participant's counts when it changes.
PARTICIPANT_KEYS = ("study_id", "site", "language", "arm", "main_channel",
                    "appointments_attended", "workability_change", "opted_out_at",
                    *(f"baseline_{k}" for k in SLOTS))
INVITATION_KEYS = ("participant_id", "wave_id", "status", "calls", "next_call_at",
                   "last_outcome", "answered")
GROUPS = ("p.site", "p.language", "p.arm", "p.main_channel AS channel",
          "p.appointments_attended::text AS attended")


def _people(people: str, sign: int) -> str:
    """A participant's own figures: counted, appointments attended, change in work
    ability, has an appointment (a main channel: there is one exactly when there is one)."""
    return f"""
    SELECT p.study_id, {', '.join(GROUPS)}, true AS dims, f.figure, f.k1,
           NULL::text AS k2, NULL::text AS k3, NULL::text AS k4, {sign} AS w
      FROM {people} p
     CROSS JOIN LATERAL (VALUES ('people', NULL::text),
                                ('attended', p.appointments_attended::text),
                                ('workability', p.workability_change::text),
                                ('with_appts', CASE WHEN p.main_channel IS NOT NULL
                                                    THEN '' END)) AS f(figure, k1)
     WHERE f.figure <> 'with_appts' OR f.k1 IS NOT NULL"""


def _appointments(rows: str, people: str, sign: int) -> str:
    return f"""
    SELECT p.study_id, {', '.join(GROUPS)}, true, 'appt', a.attendance, a.channel,
           NULL, NULL, {sign}
      FROM {rows} a JOIN {people} p ON p.id = a.participant_id"""


# As reports.queries.invitation_statuses, from the invitation's own row.
STATUS = """CASE
    WHEN p.opted_out_at IS NOT NULL AND i.status IN ('issued', 'closed') THEN 'opted_out'
    WHEN w.mode = 'telephone' AND i.status IN ('issued', 'closed') AND i.calls > 0
         AND i.next_call_at IS NULL THEN
        CASE WHEN i.last_outcome = 'refused' THEN 'refused'
             WHEN i.last_outcome = 'wrong_number' THEN 'wrong_number'
             WHEN i.calls >= w.max_calls THEN 'not_reached'
             ELSE i.status END
    ELSE i.status END"""


def _invitations(rows: str, people: str, waves: str, sign: int) -> str:
    """Its status per wave (every breakdown) and, for the attrition check (no breakdown):
    whether it was answered, with the participant's stored value in each slot that has one
    and in slot 0, the invitations however many slots hold a value (so the slot's count of
    no value is slot 0's less its values)."""
    slots = ", ".join(
        f"(false, 'attrition', i.answered::int::text, '{k}', "
        f"{f'p.baseline_{k}::text' if k else 'NULL::text'})" for k in (0, *SLOTS))
    return f"""
    SELECT p.study_id, {', '.join(GROUPS)}, f.dims, f.figure, i.wave_id::text, f.k2, f.k3,
           f.k4, {sign}
      FROM {rows} i JOIN {people} p ON p.id = i.participant_id
      JOIN {waves} w ON w.id = i.wave_id
     CROSS JOIN LATERAL (VALUES (true, 'status', {STATUS}, NULL::text, NULL::text),
                                {slots}) AS f(dims, figure, k2, k3, k4)
     WHERE f.figure = 'status'
        OR (f.k4 IS NOT NULL OR f.k3 = '0')
           AND (i.status IN ('issued', 'completed', 'closed') OR i.answered)"""


# As reports.queries.linkage.
LINKAGE = """CASE WHEN r.participant_id IS NOT NULL THEN 'linked'
                  WHEN r.participant_ref IS NULL THEN 'erased'
                  WHEN trim(r.participant_ref) = '' THEN 'blank'
                  ELSE 'not_in_cohort' END"""


def _responses(rows: str, people: str, sign: int) -> str:
    """A submitted response: counted per wave and version, each answer as stored (every
    breakdown; unlinked ones in no group), its linkage (no breakdown) and, linked, its
    stored and follow-up value in each slot that has either."""
    pairs = ", ".join(f"({k}, r.baseline_{k}, r.score_{k})" for k in SLOTS)
    return f"""
    SELECT w.study_id, {', '.join(GROUPS)}, f.dims, f.figure, r.wave_id::text, f.k2, f.k3,
           f.k4, {sign}
      FROM {rows} r JOIN waves w ON w.id = r.wave_id
      LEFT JOIN {people} p ON p.id = r.participant_id
     CROSS JOIN LATERAL (
        SELECT true, 'responses', r.instrument_version, NULL::text, NULL::text
        UNION ALL
        SELECT true, 'answer', r.instrument_version, e.key, e.value::text
          FROM jsonb_each(r.answers) e
        UNION ALL
        SELECT false, 'linkage', {LINKAGE}, NULL, NULL
        UNION ALL
        SELECT true, 'pair', s.slot::text, s.b::text, s.f::text
          FROM (VALUES {pairs}) AS s(slot, b, f)
         WHERE r.participant_id IS NOT NULL AND (s.b IS NOT NULL OR s.f IS NOT NULL)
     ) AS f(dims, figure, k2, k3, k4)
     WHERE r.status = 'submitted' AND (r.participant_id IS NULL OR p.id IS NOT NULL)"""


def _joint(rows: str, people: str, sign: int) -> str:
    """A submitted response's answers to each set of questions counted together for its
    wave (report_answer_sets: a routed question with those that route to it), as one JSON
    array per set (null for no answer)."""
    return f"""
    SELECT w.study_id, {', '.join(GROUPS)}, true, 'joint', r.wave_id::text,
           r.instrument_version, s.position::text,
           (SELECT jsonb_agg(r.answers -> u.k ORDER BY u.o)
              FROM jsonb_array_elements_text(s.keys) WITH ORDINALITY AS u(k, o))::text, {sign}
      FROM {rows} r JOIN waves w ON w.id = r.wave_id
      JOIN report_answer_sets s ON s.wave_id = r.wave_id
      LEFT JOIN {people} p ON p.id = r.participant_id
     WHERE r.status = 'submitted' AND (r.participant_id IS NULL OR p.id IS NOT NULL)"""


def _add(*parts: str, prefix: str = "", folded: str = "false") -> str:
    """Append the signed sums of `parts` per figure and key, with no breakdown and in each
    breakdown's groups (GROUPING SETS), figures with dims = false only without. Summed per
    combination of groups first: a bulk load's millions of rows become a few thousand
    before they are sorted once for each breakdown."""
    keys = "study_id, dims, figure, k1, k2, k3, k4"
    sets = ", ".join(f"({keys}{', ' + g if g else ''})"
                     for g in ("", "site", "language", "arm", "channel", "attended"))
    which = ("CASE WHEN GROUPING(site) = 0 THEN 'site' WHEN GROUPING(language) = 0 "
             "THEN 'language' WHEN GROUPING(arm) = 0 THEN 'arm' WHEN GROUPING(channel) = 0 "
             "THEN 'channel' WHEN GROUPING(attended) = 0 THEN 'appointments' ELSE '' END")
    group = ("CASE WHEN GROUPING(site) = 0 THEN site WHEN GROUPING(language) = 0 THEN language "
             "WHEN GROUPING(arm) = 0 THEN arm WHEN GROUPING(channel) = 0 THEN channel "
             "WHEN GROUPING(attended) = 0 THEN attended END")
    union = "\n    UNION ALL".join(parts)
    return f"""{prefix}
    INSERT INTO report_counts (study_id, dim, grp, figure, k1, k2, k3, k4, n, folded)
    SELECT study_id, {which}, {group}, figure, k1, k2, k3, k4, sum(w), {folded}
      FROM (SELECT study_id, site, language, arm, channel, attended, dims, figure,
                   k1, k2, k3, k4, sum(w) AS w
              FROM ({union}) AS s(study_id, site, language, arm, channel, attended, dims,
                                  figure, k1, k2, k3, k4, w)
             GROUP BY study_id, site, language, arm, channel, attended, dims, figure,
                      k1, k2, k3, k4) AS s
     GROUP BY GROUPING SETS ({sets})
    HAVING sum(w) <> 0 AND (dims OR GROUPING(site, language, arm, channel, attended) = 31);"""


def _of(table: str, people: str) -> str:
    return (f"(SELECT x.* FROM {table} x "
            f"WHERE x.participant_id IN (SELECT q.id FROM {people} AS q))")


def _everything_of(people: str, sign: int) -> list[str]:
    return [_people(people, sign),
            _appointments(_of("appointments", people), people, sign),
            _invitations(_of("invitations", people), people, "waves", sign),
            _responses(_of("responses", people), people, sign),
            _joint(_of("responses", people), people, sign)]


def _changed(old: str, new: str, keys: tuple[str, ...], side: str) -> str:
    differs = " OR ".join(f"o.{k} IS DISTINCT FROM n.{k}" for k in keys)
    return f"SELECT {side}.* FROM {old} o JOIN {new} n ON n.id = o.id WHERE {differs}"


def _both(emit) -> str:
    """The plpgsql body of a statement trigger on `table` whose rows count through
    `emit(rows, sign)`: old rows taken away, new ones added."""
    return f"""
    IF TG_OP = 'INSERT' THEN {_add(emit('new_rows', 1))}
    ELSIF TG_OP = 'DELETE' THEN {_add(emit('old_rows', -1))}
    ELSE {_add(emit('old_rows', -1), emit('new_rows', 1))}
    END IF;"""


_MOVED = (f"WITH moved_old AS MATERIALIZED ({_changed('old_rows', 'new_rows', PARTICIPANT_KEYS, 'o')}),"
          f" moved_new AS MATERIALIZED ({_changed('old_rows', 'new_rows', PARTICIPANT_KEYS, 'n')})")

_INVITATIONS_CHANGED = (
    f"WITH old_changed AS MATERIALIZED ({_changed('old_rows', 'new_rows', INVITATION_KEYS, 'o')}),"
    f" new_changed AS MATERIALIZED ({_changed('old_rows', 'new_rows', INVITATION_KEYS, 'n')})")

WAVE_KEYS = ("study_id", "mode", "max_calls")
_WAVES_CHANGED = (
    f"WITH old_changed AS MATERIALIZED ({_changed('old_rows', 'new_rows', WAVE_KEYS, 'o')}),"
    f" new_changed AS MATERIALIZED ({_changed('old_rows', 'new_rows', WAVE_KEYS, 'n')})")

# A statement trigger fires even when its statement changed no row; the updates these
# triggers make would then fire each other without end.
_NOTHING_CHANGED = """IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM old_rows) THEN RETURN NULL; END IF;
    ELSIF NOT EXISTS (SELECT FROM new_rows) THEN RETURN NULL; END IF;"""

# Responses are looked up by participant only (`+ 0` keeps the wave off any index): planned
# inside a bulk load, before statistics catch up, an index on (wave, status) looked as
# good and was scanned whole for every invitation.
_ANSWERED = """
    UPDATE invitations i SET answered = NOT i.answered
      FROM (SELECT participant_id, wave_id FROM {rows} WHERE participant_id IS NOT NULL
            GROUP BY participant_id, wave_id) t
     WHERE i.participant_id = t.participant_id AND i.wave_id = t.wave_id
       AND i.answered <> EXISTS (SELECT 1 FROM responses r
                                  WHERE r.participant_id = i.participant_id
                                    AND r.wave_id + 0 = i.wave_id
                                    AND r.status = 'submitted');"""

_LAST_OUTCOME = """
    UPDATE invitations i SET last_outcome = t.outcome
      FROM (SELECT c.invitation_id,
                   (SELECT l.outcome FROM call_attempts l WHERE l.invitation_id = c.invitation_id
                     ORDER BY l.id DESC LIMIT 1) AS outcome
              FROM (SELECT invitation_id FROM {rows} GROUP BY invitation_id) c) t
     WHERE i.id = t.invitation_id AND i.last_outcome IS DISTINCT FROM t.outcome;"""

def _on_both(update: str) -> str:
    """`update` (a statement over `{rows}`) for the new rows and for the old ones."""
    return (f"IF TG_OP <> 'DELETE' THEN {update.format(rows='new_rows')} END IF;\n"
            f"    IF TG_OP <> 'INSERT' THEN {update.format(rows='old_rows')} END IF;")


_UNLINKED = ("(SELECT r.* FROM responses r JOIN waves w ON w.id = r.wave_id "
             "WHERE w.study_id = study AND r.participant_id IS NULL)")
_WAVE = "(SELECT * FROM responses WHERE wave_id = wave)"
_UNION = "\n    UNION ALL"

PG_FUNCTIONS = f"""
CREATE FUNCTION report_counts_participants() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    IF TG_OP = 'INSERT' THEN {_add(_people('new_rows', 1))}
    ELSE {_add(*_everything_of('moved_old', -1), *_everything_of('moved_new', 1),
               prefix=_MOVED)}
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_participant_gone() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_add(*_everything_of('(SELECT * FROM participants WHERE id = OLD.id)', -1))}
    RETURN OLD;
END $$;
CREATE FUNCTION report_counts_appointments() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    {_both(lambda rows, sign: _appointments(rows, 'participants', sign))}
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_invitations() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    IF TG_OP = 'INSERT' THEN {_add(_invitations('new_rows', 'participants', 'waves', 1))}
        -- A response may come first (an import): this update counts it as answered.
        {_ANSWERED.format(rows='new_rows')}
    ELSIF TG_OP = 'DELETE' THEN {_add(_invitations('old_rows', 'participants', 'waves', -1))}
    ELSE {_add(_invitations('old_changed', 'participants', 'waves', -1),
               _invitations('new_changed', 'participants', 'waves', 1),
               prefix=_INVITATIONS_CHANGED)}
        {_ANSWERED.format(rows='new_rows')}
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_responses() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    {_both(lambda rows, sign: _responses(rows, 'participants', sign) + _UNION
           + _joint(rows, 'participants', sign))}
    {_on_both(_ANSWERED)}
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_call_attempts() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    {_on_both(_LAST_OUTCOME)}
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_waves() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    {_add(_invitations("(SELECT i.* FROM invitations i JOIN old_changed o ON o.id = i.wave_id)",
                       'participants', 'old_changed', -1),
          _invitations("(SELECT i.* FROM invitations i JOIN new_changed n ON n.id = i.wave_id)",
                       'participants', 'new_changed', 1),
          prefix=_WAVES_CHANGED)}
    RETURN NULL;
END $$;
CREATE FUNCTION report_counts_recount(study integer) RETURNS void LANGUAGE plpgsql
-- A whole study at once (the backfill, check-counts): room to hash it, not sort it.
SET jit = off SET work_mem = '256MB' AS $$
BEGIN
    DELETE FROM report_counts WHERE study_id = study;
    {_add(*_everything_of('(SELECT * FROM participants WHERE study_id = study)', 1),
          _responses(_UNLINKED, 'participants', 1), _joint(_UNLINKED, 'participants', 1),
          folded='true')}
END $$;
CREATE FUNCTION report_counts_joint(wave integer, sets jsonb) RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_add(_joint(_WAVE, 'participants', -1))}
    DELETE FROM report_answer_sets WHERE wave_id = wave;
    INSERT INTO report_answer_sets (wave_id, position, keys)
    SELECT wave, s.o - 1, s.keys FROM jsonb_array_elements(sets) WITH ORDINALITY AS s(keys, o);
    {_add(_joint(_WAVE, 'participants', 1))}
END $$;
CREATE FUNCTION report_counts_fold(study integer) RETURNS void LANGUAGE sql SET jit = off SET work_mem = '64MB' AS $$
    WITH fresh AS (DELETE FROM report_counts WHERE study_id = study AND NOT folded
                   RETURNING dim, grp, figure, k1, k2, k3, k4, n)
    INSERT INTO report_counts (study_id, dim, grp, figure, k1, k2, k3, k4, n, folded)
    SELECT study, dim, grp, figure, k1, k2, k3, k4, sum(n), true FROM fresh
     GROUP BY dim, grp, figure, k1, k2, k3, k4
        ON CONFLICT (study_id, dim, grp, figure, k1, k2, k3, k4) WHERE folded
        DO UPDATE SET n = report_counts.n + excluded.n;
    DELETE FROM report_counts WHERE study_id = study AND folded AND n = 0;
$$;
"""


def _statement_triggers(table: str, function: str,
                        events: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE")) -> str:
    """INSERT, UPDATE and DELETE statement triggers with transition tables. Named
    `<table>_count_*` so they run before `<table>_regroup_*` and `*_push_baseline`."""
    return "\n".join(
        f"CREATE TRIGGER {table}_count_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for event, refs in (("INSERT", "NEW TABLE AS new_rows"),
                            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                            ("DELETE", "OLD TABLE AS old_rows"))
        if event in events)


PUSH_BASELINE = f"""
DROP TRIGGER participants_push_baseline ON participants;
DROP FUNCTION participants_push_baseline();
CREATE FUNCTION participants_push_baseline() RETURNS trigger LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    {_NOTHING_CHANGED}
    UPDATE responses r SET {', '.join(f'baseline_{k} = n.baseline_{k}' for k in SLOTS)}
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE r.participant_id = n.id
       AND ({' OR '.join(f'o.baseline_{k} IS DISTINCT FROM n.baseline_{k}' for k in SLOTS)});
    RETURN NULL;
END $$;
CREATE TRIGGER participants_push_baseline AFTER UPDATE ON participants
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION participants_push_baseline();
"""

# Migration 0009's, for the downgrade.
ROW_PUSH_BASELINE = f"""
DROP TRIGGER participants_push_baseline ON participants;
DROP FUNCTION participants_push_baseline();
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

PG_TRIGGERS = f"""
-- Trigger statements are planned for each call, a few rows or a bulk load alike; at a
-- bulk load's estimated cost PostgreSQL compiles them (JIT) for longer than they run.
ALTER FUNCTION participants_appointment_groups(integer[]) SET jit = off;
{_statement_triggers('participants', 'report_counts_participants', ('INSERT', 'UPDATE'))}
CREATE TRIGGER participants_count_delete BEFORE DELETE ON participants
    FOR EACH ROW EXECUTE FUNCTION report_counts_participant_gone();
{_statement_triggers('appointments', 'report_counts_appointments')}
{_statement_triggers('invitations', 'report_counts_invitations')}
{_statement_triggers('responses', 'report_counts_responses')}
{_statement_triggers('call_attempts', 'report_counts_call_attempts')}
CREATE TRIGGER waves_count_update AFTER UPDATE ON waves
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_counts_waves();
"""


def upgrade() -> None:
    op.create_table(
        'report_counts',
        sa.Column('study_id', sa.Integer(), sa.ForeignKey('studies.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('dim', sa.String(16), nullable=False),
        sa.Column('grp', sa.Text(), nullable=True),
        sa.Column('figure', sa.String(16), nullable=False),
        sa.Column('k1', sa.Text(), nullable=True),
        sa.Column('k2', sa.Text(), nullable=True),
        sa.Column('k3', sa.Text(), nullable=True),
        sa.Column('k4', sa.Text(), nullable=True),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('folded', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index('ix_report_counts', 'report_counts', ['study_id', 'dim'])
    op.create_index('ix_report_counts_folded', 'report_counts',
                    ['study_id', 'dim', 'grp', 'figure', 'k1', 'k2', 'k3', 'k4'], unique=True,
                    postgresql_where=sa.text('folded'), sqlite_where=sa.text('folded'),
                    postgresql_nulls_not_distinct=True)
    op.create_index('ix_report_counts_fresh', 'report_counts', ['study_id'],
                    postgresql_where=sa.text('NOT folded'), sqlite_where=sa.text('NOT folded'))
    op.create_table(
        'report_answer_sets',
        sa.Column('wave_id', sa.Integer(), sa.ForeignKey('waves.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('position', sa.Integer(), primary_key=True),
        sa.Column('keys', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
    )
    op.add_column('invitations', sa.Column('answered', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column('invitations', sa.Column('last_outcome', sa.String(16), nullable=True))
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""UPDATE invitations i SET answered = true WHERE EXISTS (
                    SELECT 1 FROM responses r WHERE r.participant_id = i.participant_id
                       AND r.wave_id = i.wave_id AND r.status = 'submitted')""")
    op.execute(_LAST_OUTCOME.format(rows='call_attempts'))
    op.execute(PG_FUNCTIONS)
    op.execute(PUSH_BASELINE)
    op.execute(PG_TRIGGERS)
    op.execute("SELECT report_counts_recount(id) FROM studies")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in ('appointments', 'invitations', 'responses', 'call_attempts'):
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER {table}_count_{event} ON {table}")
        for name in ('participants_count_insert', 'participants_count_update',
                     'participants_count_delete'):
            op.execute(f"DROP TRIGGER {name} ON participants")
        op.execute("DROP TRIGGER waves_count_update ON waves")
        for function in ('participants', 'participant_gone', 'appointments', 'invitations',
                         'responses', 'call_attempts', 'waves'):
            op.execute(f"DROP FUNCTION report_counts_{function}()")
        op.execute("DROP FUNCTION report_counts_recount(integer)")
        op.execute("DROP FUNCTION report_counts_fold(integer)")
        op.execute("DROP FUNCTION report_counts_joint(integer, jsonb)")
        op.execute(ROW_PUSH_BASELINE)
        op.execute("ALTER FUNCTION participants_appointment_groups(integer[]) RESET jit")
    op.drop_column('invitations', 'last_outcome')
    op.drop_column('invitations', 'answered')
    op.drop_index('ix_report_counts_fresh', 'report_counts')
    op.drop_index('ix_report_counts_folded', 'report_counts')
    op.drop_index('ix_report_counts', 'report_counts')
    op.drop_table('report_counts')
    op.drop_table('report_answer_sets')
