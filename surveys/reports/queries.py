"""Counting in the database: every figure of the evaluation report as a GROUP BY.

Each function returns plain dicts of counts keyed by (group, category). The group is
the value of the breakdown dimension (see `dimension`), or None without a breakdown.
Only grouped counts leave the database, never one row per client, so the report's
cost grows with the number of distinct answers, not the number of clients. Inside a
report on PostgreSQL, a function with a kept figure answers from the counts kept at
write time instead (`surveys.reports.kept`, migration 0018): same dicts, no rows read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select, Subquery

from surveys.models import (
    Appointment,
    CallAttempt,
    Invitation,
    Measure,
    Participant,
    Response,
    SiteReferral,
    Study,
    Wave,
)
from surveys.reports.kept import (
    DIRECTION,
    NO_BREAKDOWN,
    KeptCounts,
    kept_for,
    store_answer_sets,
)

SUBMITTED = "submitted"
# How calling ended for a telephone wave's unanswered questionnaire (invitation_statuses).
CALL_STATUSES = ("refused", "wrong_number", "not_reached")
ATTENDED = "attended"
DIMENSIONS = ("site", "channel", "language", "appointments", "arm")


# Breakdown dimensions -------------------------------------------------------------------


def attended_counts(study: Study) -> Subquery:
    """participant_id, attended: appointments attended per participant of the study, from
    the appointments. Participants keep this in `appointments_attended` (the triggers of
    migration 0017); the tests check one against the other."""
    return (
        select(
            Appointment.participant_id.label("participant_id"),
            func.count(case((Appointment.attendance == ATTENDED, 1))).label("attended"),
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(Participant.study_id == study.id)
        .group_by(Appointment.participant_id)
        .subquery("attended_counts")
    )


def main_channels(study: Study) -> Subquery:
    """participant_id, channel: the channel of most of a client's scheduled appointments,
    from the appointments (participants keep it in `main_channel`, as `attended_counts`).

    A tie goes to the channel used most recently among the tied ones (then by name), so
    every client with an appointment has exactly one main channel.
    """
    per_channel = (
        select(
            Appointment.participant_id.label("participant_id"),
            Appointment.channel.label("channel"),
            func.count().label("n"),
            func.max(Appointment.appointment_on).label("latest"),
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(Participant.study_id == study.id)
        .group_by(Appointment.participant_id, Appointment.channel)
        .subquery("per_channel")
    )
    ranked = select(
        per_channel.c.participant_id,
        per_channel.c.channel,
        func.row_number()
        .over(
            partition_by=per_channel.c.participant_id,
            order_by=(per_channel.c.n.desc(), per_channel.c.latest.desc(),
                      per_channel.c.channel),
        )
        .label("rank"),
    ).subquery("ranked_channels")
    return (
        select(ranked.c.participant_id, ranked.c.channel)
        .where(ranked.c.rank == 1)
        .subquery("main_channels")
    )


class Dimension:
    """A breakdown: a column (or expression) of participants, so a statement that reads
    participants anyway groups by it with no join, and the others join participants by
    key. Channel and appointments attended are kept on participants by triggers (migration
    0017): before, a breakdown by them built a temporary table from every appointment and
    joined it in each statement (decision 0013)."""

    def __init__(self, study: Study, key: str, column) -> None:
        self.study = study
        self.key = key
        self.column = column


def dimension(study: Study, key: str | None) -> Dimension | None:
    """Each participant's group for a breakdown (None: no breakdown)."""
    if key is None:
        return None
    if key not in DIMENSIONS:
        raise ValueError(f"unknown breakdown {key!r}; choose from {', '.join(DIMENSIONS)}")
    if key == "arm" and not study.arms:
        from surveys.studies import StudyNotFound

        raise StudyNotFound(f"Study '{study.slug}' has no arms to break down by.")
    column = {"site": Participant.site, "language": Participant.language,
              "arm": Participant.arm, "channel": Participant.main_channel,
              "appointments": cast(Participant.appointments_attended, String)}[key]
    return Dimension(study, key, column)


def _kept(session: Session, study_id: int, dim: Dimension | None = None):
    """The kept counts of the study being read (reports.kept), and the breakdown's name
    in them; None when counting from rows."""
    kept = kept_for(session, study_id)
    return (kept, dim.key if dim is not None else NO_BREAKDOWN) if kept else (None, None)


def _kept_by_group(kept: KeptCounts, figure: str, dim_key: str, key=lambda row: row[1]):
    out: dict = defaultdict(int)
    for row in kept.rows(figure, dim_key):
        out[(row[0], key(row))] += row[-1]
    return dict(out)


def _group(dim: Dimension | None):
    return null() if dim is None else dim.column


def _join_dim(query: Select, dim: Dimension, participant_id, *, outer: bool = False):
    """`query` joined to participants by `participant_id` for the breakdown's column (outer:
    rows without a participant stay, in no group). `participant_id` is Participant.id when
    the query reads participants itself: then there is nothing to join."""
    if participant_id is Participant.id:
        return query
    on = Participant.id == participant_id
    return query.outerjoin(Participant, on) if outer else query.join(Participant, on)


def _grouped(query: Select, dim: Dimension | None, participant_id, *keys, outer: bool = False):
    """`query` (selecting _group(dim), the keys and a count) grouped by the breakdown's
    value, when there is a breakdown, and by `keys`."""
    if dim is None:
        return query.group_by(*keys)
    return _join_dim(query, dim, participant_id, outer=outer).group_by(_group(dim), *keys)


def group_people(session: Session, dim: Dimension) -> dict[Any, int]:
    """Participants of the study per breakdown group."""
    kept, key = _kept(session, dim.study.id, dim)
    if kept:
        return {g: n for (g, _), n in _kept_by_group(kept, "people", key).items()}
    query = (select(dim.column, func.count()).where(Participant.study_id == dim.study.id)
             .group_by(dim.column))
    return {value: int(n) for value, n in session.execute(query)}


def _by_group(rows) -> dict[tuple[Any, Any], int]:
    out: dict[tuple[Any, Any], int] = defaultdict(int)
    for group, category, n in rows:
        out[(group, category)] += int(n)
    return dict(out)


# Referrals ------------------------------------------------------------------------------


def site_referrals(session: Session, study: Study) -> list[SiteReferral]:
    return list(session.scalars(
        select(SiteReferral).where(SiteReferral.study_id == study.id).order_by(SiteReferral.site)
    ))


def completers_per_site(session: Session, study: Study) -> dict[str, int]:
    kept, _ = _kept(session, study.id)
    if kept:
        return {g: n for (g, _), n in _kept_by_group(kept, "people", "site").items()}
    rows = session.execute(
        select(Participant.site, func.count())
        .where(Participant.study_id == study.id)
        .group_by(Participant.site)
    )
    return {site: int(n) for site, n in rows}


# The intervention -----------------------------------------------------------------------


def has_appointments(session: Session, study: Study) -> bool:
    """Whether any appointment is recorded for the study's participants (a study that
    loaded no appointments file has none: its report leaves the intervention section out)."""
    kept, _ = _kept(session, study.id)
    if kept:
        return kept.total("with_appts") > 0
    found = session.scalar(
        select(Appointment.id).join(Participant, Participant.id == Appointment.participant_id)
        .where(Participant.study_id == study.id).limit(1)
    )
    return found is not None


def appointments_per_completer(
    session: Session, study: Study, dim: Dimension | None
) -> dict[tuple[Any, int], int]:
    kept, key = _kept(session, study.id, dim)
    if kept:
        return _kept_by_group(kept, "attended", key, lambda row: int(row[1]))
    attended = Participant.appointments_attended  # kept by the triggers of migration 0017
    query = (
        select(_group(dim), attended, func.count())
        .select_from(Participant)
        .where(Participant.study_id == study.id)
    )
    return _by_group(session.execute(_grouped(query, dim, Participant.id, attended)))


def appointment_counts(
    session: Session, study: Study, dim: Dimension | None
) -> tuple[dict[tuple[Any, str], int], dict[tuple[Any, str], int]]:
    """Scheduled appointments of the study's completers by attendance, and by channel: one
    pass over the appointments (grouped by both, a few dozen groups) for the two tables."""
    kept, key = _kept(session, study.id, dim)
    if kept:
        return (_kept_by_group(kept, "appt", key),
                _kept_by_group(kept, "appt", key, lambda row: row[2]))
    query = (
        select(_group(dim), Appointment.attendance, Appointment.channel, func.count())
        .select_from(Appointment)
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(Participant.study_id == study.id)
    )
    query = _grouped(query, dim, Participant.id, Appointment.attendance, Appointment.channel)
    attendance: dict[tuple[Any, str], int] = defaultdict(int)
    channel: dict[tuple[Any, str], int] = defaultdict(int)
    for group, attended, used, n in session.execute(query):
        attendance[(group, attended)] += int(n)
        channel[(group, used)] += int(n)
    return dict(attendance), dict(channel)


def clients_with_appointments(
    session: Session, study: Study, dim: Dimension | None
) -> dict[Any, int]:
    """Clients with a scheduled appointment, by breakdown group (None: no breakdown).

    Appointment tables count appointments; the evaluator rule needs the people behind them.
    Participants with any appointment (a semi-join on the appointments index), not distinct
    participant ids of every appointment (a sort of them all).
    """
    kept, key = _kept(session, study.id, dim)
    if kept:
        found = {g: n for (g, _), n in _kept_by_group(kept, "with_appts", key).items()}
        return found if dim is not None else {None: found.get(None, 0)}
    scheduled = select(Appointment.id).where(
        Appointment.participant_id == Participant.id).exists()
    query = (
        select(_group(dim), literal(""), func.count())
        .select_from(Participant)
        .where(Participant.study_id == study.id, scheduled)
    )
    if dim is not None:
        query = _grouped(query, dim, Participant.id)
    return {group: n for (group, _), n in _by_group(session.execute(query)).items()}


def workability_changes(study: Study) -> Subquery:
    """participant_id, category: each client's change in work ability from their first to
    their last recorded score, from the appointments: improved, same, deteriorated, single
    (one score) or none. Participants keep it in `workability_change` (the triggers of
    migration 0017); the tests check one against the other."""
    # One window (one sort of the appointments) gives both ends: the first and the last
    # score in (date, id) order over the whole partition.
    order = (Appointment.appointment_on, Appointment.id)
    scored = (
        select(
            Appointment.participant_id.label("participant_id"),
            func.first_value(Appointment.workability).over(
                partition_by=Appointment.participant_id, order_by=order, rows=(None, None),
            ).label("first"),
            func.last_value(Appointment.workability).over(
                partition_by=Appointment.participant_id, order_by=order, rows=(None, None),
            ).label("last"),
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(Participant.study_id == study.id, Appointment.workability.is_not(None))
        .subquery("scored")
    )
    per_client = (
        select(
            scored.c.participant_id,
            func.max(scored.c.first).label("first"),
            func.max(scored.c.last).label("last"),
            func.count().label("scores"),
        )
        .group_by(scored.c.participant_id)
        .subquery("per_client")
    )
    category = case(
        (per_client.c.scores.is_(None), literal("none")),
        (per_client.c.scores == 1, literal("single")),
        (per_client.c.last > per_client.c.first, literal("improved")),
        (per_client.c.last < per_client.c.first, literal("deteriorated")),
        else_=literal("same"),
    )
    return (
        select(Participant.id.label("participant_id"), category.label("category"))
        .outerjoin(per_client, per_client.c.participant_id == Participant.id)
        .where(Participant.study_id == study.id)
        .subquery("workability_changes")
    )


def workability_first_to_last(
    session: Session, study: Study, dim: Dimension | None
) -> dict[tuple[Any, str], int]:
    """Clients by change in work ability from their first to their last recorded score
    (`workability_changes`, kept on participants: one pass over participants, not a sort
    of every appointment)."""
    kept, key = _kept(session, study.id, dim)
    if kept:
        return _kept_by_group(kept, "workability", key)
    category = Participant.workability_change
    query = (
        select(_group(dim), category, func.count())
        .select_from(Participant)
        .where(Participant.study_id == study.id)
    )
    return _by_group(session.execute(_grouped(query, dim, Participant.id, category)))


# Questionnaire answers ------------------------------------------------------------------


def _answer(question_id: str):
    """The stored answer as JSON text ('"agree"', '7', '["a", "b"]'), NULL or 'null' if none."""
    return cast(Response.answers[question_id], String)


def parse_stored(text: str | None) -> Any:
    if text is None:
        return None
    value = json.loads(text)
    return None if value in ("", []) else value


def stored_parser() -> Callable[[str | None], Any]:
    """`parse_stored` for one report's reading: the same few answer texts repeat across
    every group of a breakdown (97 sites), so each is parsed once (lists copied)."""
    parsed: dict[str | None, Any] = {}

    def parse(text: str | None) -> Any:
        try:
            value = parsed[text]
        except KeyError:
            value = parsed[text] = parse_stored(text)
        return list(value) if isinstance(value, list) else value

    return parse


def answer_groups(
    session: Session,
    wave: Wave,
    question_ids: Sequence[str],
    dim: Dimension | None,
) -> list[tuple[Any, str, dict[str, Any], int]]:
    """Submitted responses grouped by (group, instrument version, answers to question_ids).

    Returns (group, version, {question id: answer}, count) per distinct combination; the
    caller decides routing and categories from these few groups.
    """
    answers = [_answer(q) for q in question_ids]
    group = _group(dim)
    query = (
        select(group, Response.instrument_version, *answers, func.count())
        .select_from(Response)
        .where(Response.wave_id == wave.id, Response.status == SUBMITTED)
    )
    # Outer join: unlinked responses count too (in no group of the breakdown).
    query = _grouped(query, dim, Response.participant_id, Response.instrument_version,
                     *answers, outer=True)
    out = []
    for row in session.execute(query):
        group_value, version, *values, n = row
        out.append((
            group_value,
            version,
            {q: parse_stored(v) for q, v in zip(question_ids, values, strict=True)},
            int(n),
        ))
    return out


def answer_groups_many(
    session: Session,
    wave: Wave,
    question_sets: Sequence[Sequence[str]],
    dim: Dimension | None,
) -> list[list[tuple[Any, str, dict[str, Any], int]]]:
    """`answer_groups` for each set of question ids, reading the wave's answers twice at most.

    A question asked of everyone (a set of one) needs only how often each answer was given:
    one pass of json_each over every response counts (question, answer) pairs for all of
    them at once, each document parsed once; those who did not answer are the responses of
    the group and version less those who did. Routed questions (a set with the questions
    routing to them) need their answers together: those few are extracted per response into
    a materialised CTE and each set grouped from it (issue 16)."""
    if not question_sets:
        return []
    submitted = (Response.wave_id == wave.id, Response.status == SUBMITTED)
    out: list[list[tuple[Any, str, dict[str, Any], int]]] = [[] for _ in question_sets]
    singles = list(dict.fromkeys(qs[0] for qs in question_sets if len(qs) == 1))
    if singles:
        kept, key = _kept(session, wave.study_id, dim)
        found = (_kept_single_answers(kept, wave, singles, key) if kept
                 else _single_answers(session, singles, submitted, dim))
        for k, rows in found.items():
            for i, qs in enumerate(question_sets):
                if len(qs) == 1 and qs[0] == k:
                    out[i] = rows
    joint = [(i, qs) for i, qs in enumerate(question_sets) if len(qs) > 1]
    clusters = answer_set_clusters([qs for _, qs in joint])
    kept, key = _kept(session, wave.study_id, dim)
    if kept and kept.answer_sets.get(wave.id, []) == clusters:
        return _kept_joint(kept, wave, joint, clusters, key, out)
    if joint:
        _joint_from_rows(session, wave, joint, clusters, dim, out)
    if kept:  # from now on, kept for this questionnaire's sets
        store_answer_sets(session, wave.id, clusters)
    return out


def answer_set_clusters(joint: list[Sequence[str]]) -> list[list[str]]:
    """Sets that share a question, merged: counted together, grouped once by all their
    questions (a handful of columns, few combinations), each set added up from those."""
    clusters: list[list[str]] = []
    for qs in joint:
        touching = [c for c in clusters if set(c) & set(qs)]
        merged = list(dict.fromkeys([*(q for c in touching for q in c), *qs]))
        clusters = [c for c in clusters if c not in touching] + [merged]
    return clusters


def _add_up(joint, clusters, rows, out) -> list:
    """rows: (cluster index, group, version, stored answer texts, n): each routed set's
    (group, version, {question: answer}, n) added into `out`."""
    sums: list[dict[tuple, int]] = [defaultdict(int) for _ in out]
    parse = stored_parser()
    for k, group_value, version, texts, n in rows:
        stored = dict(zip(clusters[k], texts, strict=True))
        for i, qs in joint:
            if qs[0] in stored:
                sums[i][(group_value, version, *(stored[q] for q in qs))] += n
    for i, qs in joint:
        for (group_value, version, *values), n in sums[i].items():
            out[i].append((group_value, version,
                           {q: parse(v) for q, v in zip(qs, values, strict=True)}, n))
    return out


def _kept_joint(kept: KeptCounts, wave: Wave, joint, clusters, dim_key: str, out) -> list:
    wave_key = str(wave.id)
    rows = []
    for group_value, w, version, k, combo, n in kept.rows("joint", dim_key):
        if w == wave_key:
            texts = [None if v is None else json.dumps(v) for v in json.loads(combo)]
            rows.append((int(k), group_value, version, texts, n))
    return _add_up(joint, clusters, rows, out)


def _joint_from_rows(session: Session, wave: Wave, joint, clusters, dim, out) -> list:
    submitted = (Response.wave_id == wave.id, Response.status == SUBMITTED)
    ids = list(dict.fromkeys(q for _, qs in joint for q in qs))
    base = (
        select(_group(dim).label("g"), Response.instrument_version.label("v"),
               *(_answer(q).label(f"a{i}") for i, q in enumerate(ids)))
        .select_from(Response)
        .where(*submitted)
    )
    if dim is not None:  # outer: unlinked responses count too (in no group)
        base = _join_dim(base, dim, Response.participant_id, outer=True)
    answered = base.cte("answered").prefix_with("MATERIALIZED")
    width = max(len(c) for c in clusters)
    parts = []
    for k, keys in enumerate(clusters):
        own = [answered.c[f"a{ids.index(q)}"] for q in keys]
        pad = [cast(null(), String) for _ in range(width - len(keys))]
        parts.append(
            select(literal(k).label("k"), answered.c.g, answered.c.v,
                   *(c.label(f"c{j}") for j, c in enumerate([*own, *pad])), func.count())
            .group_by(answered.c.g, answered.c.v, *own)
        )
    rows = [(k, group_value, version, rest[:len(clusters[k])], int(rest[-1]))
            for k, group_value, version, *rest in session.execute(union_all(*parts))]
    return _add_up(joint, clusters, rows, out)


def _single_answers(
    session: Session, question_ids: list[str], submitted, dim: Dimension | None
) -> dict[str, list[tuple[Any, str, dict[str, Any], int]]]:
    """Per question id: (group, version, {id: answer}, n), as `answer_groups` gives them, from
    one pass counting (question, answer) pairs and one count of responses per group."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    each = func.jsonb_each if postgresql else func.json_each
    pairs = each(Response.answers).table_valued("key", "value").alias("pair")
    # jsonb's text ('"agree"', '7', '["a", "b"]'), or as _answer's JSON_QUOTE(JSON_EXTRACT())
    value = cast(pairs.c.value, String) if postgresql else func.json_quote(pairs.c.value)
    value = value.label("answer")  # not "value": jsonb_each's own column has that name
    counted = (
        select(_group(dim), Response.instrument_version, pairs.c.key.label("question"),
               value, func.count())
        .select_from(Response)
    )
    totals = select(_group(dim), Response.instrument_version, func.count()).select_from(Response)
    if dim is not None:  # outer: unlinked responses count too (in no group)
        counted = _join_dim(counted, dim, Response.participant_id, outer=True)
        totals = _join_dim(totals, dim, Response.participant_id, outer=True)
    counted = counted.join(pairs, true()).where(*submitted, pairs.c.key.in_(question_ids))
    totals = totals.where(*submitted)
    group_keys = [_group(dim)] if dim is not None else []
    out: dict[str, list] = {q: [] for q in question_ids}
    answered: dict[tuple[str, Any, str], int] = defaultdict(int)
    for g, version, key, text_value, n in session.execute(
            counted.group_by(*group_keys, Response.instrument_version, pairs.c.key, value)):
        answer = parse_stored(text_value)
        out[key].append((g, version, {key: answer}, int(n)))
        answered[(key, g, version)] += int(n)
    for g, version, n in session.execute(
            totals.group_by(*group_keys, Response.instrument_version)):
        for q in question_ids:
            missing = int(n) - answered.get((q, g, version), 0)
            if missing:
                out[q].append((g, version, {q: None}, missing))
    return out


def _kept_single_answers(
    kept: KeptCounts, wave: Wave, question_ids: list[str], dim_key: str
) -> dict[str, list[tuple[Any, str, dict[str, Any], int]]]:
    """`_single_answers` from the kept counts: each (question, answer) as stored, and the
    submitted responses per group and version ("answer", "responses")."""
    wave_key, wanted = str(wave.id), set(question_ids)
    out: dict[str, list] = {q: [] for q in question_ids}
    answered: dict[tuple[str, Any, str], int] = defaultdict(int)
    parse = stored_parser()
    for g, w, version, q, text_value, n in kept.rows("answer", dim_key):
        if w == wave_key and q in wanted:
            out[q].append((g, version, {q: parse(text_value)}, n))
            answered[(q, g, version)] += n
    for g, w, version, _, _, n in kept.rows("responses", dim_key):
        if w == wave_key:
            for q in question_ids:
                missing = n - answered.get((q, g, version), 0)
                if missing:
                    out[q].append((g, version, {q: None}, missing))
    return out


# Who is missing -------------------------------------------------------------------------


def invitation_statuses(
    session: Session, study: Study, dim: Dimension | None
) -> dict[tuple[Any, tuple[str, str]], int]:
    """Invitations per (group, (wave code, status)). An issued questionnaire a client did
    not answer (open or closed) after asking not to be contacted has its own status,
    "opted_out"; one they answered counts as answered. A telephone wave's unanswered
    questionnaire that calling gave up on has the reason: "refused", "wrong_number" or
    "not_reached" (the wave's most calls made), from its last call (issue 14)."""
    kept, key = _kept(session, study.id, dim)
    if kept:
        codes = {str(w.id): w.code for w in study.waves}
        return _kept_by_group(kept, "status", key, lambda row: (codes[row[1]], row[2]))
    last_call = (select(CallAttempt.outcome)
                 .where(CallAttempt.invitation_id == Invitation.id)
                 .order_by(CallAttempt.id.desc()).limit(1).scalar_subquery())
    unanswered = Invitation.status.in_(("issued", "closed"))
    status = case((and_(Participant.opted_out_at.is_not(None), unanswered),
                   literal("opted_out")),
                  (and_(Wave.mode == "telephone", unanswered, Invitation.calls > 0,
                        Invitation.next_call_at.is_(None)),
                   case((last_call == "refused", literal("refused")),
                        (last_call == "wrong_number", literal("wrong_number")),
                        (Invitation.calls >= Wave.max_calls, literal("not_reached")),
                        else_=Invitation.status)),
                  else_=Invitation.status)
    query = (
        select(_group(dim), Wave.code, status, func.count())
        .select_from(Invitation)
        .join(Wave, Wave.id == Invitation.wave_id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(Wave.study_id == study.id)
    )
    query = _grouped(query, dim, Participant.id, Wave.code, status)  # joined above
    out: dict[tuple[Any, tuple[str, str]], int] = defaultdict(int)
    for group, code, status, n in session.execute(query):
        out[(group, (code, status))] += int(n)
    return dict(out)


def linkage(session: Session, study: Study) -> dict[tuple[str, str], int]:
    """Submitted responses per (wave code, reason): linked, blank, not_in_cohort, erased.

    erased: the reference was removed when the participant was erased on request.
    """
    kept, _ = _kept(session, study.id)
    if kept:
        codes = {str(w.id): w.code for w in study.waves}
        return {key: n for (_, key), n in _kept_by_group(
            kept, "linkage", NO_BREAKDOWN, lambda row: (codes[row[1]], row[2])).items()}
    reason = case(
        (Response.participant_id.is_not(None), literal("linked")),
        (Response.participant_ref.is_(None), literal("erased")),
        (func.trim(Response.participant_ref) == "", literal("blank")),
        else_=literal("not_in_cohort"),
    )
    rows = session.execute(
        select(Wave.code, reason, func.count())
        .select_from(Response)
        .join(Wave, Wave.id == Response.wave_id)
        .where(Wave.study_id == study.id, Response.status == SUBMITTED)
        .group_by(Wave.code, reason)
    )
    return {(code, why): int(n) for code, why, n in rows}


ISSUED_STATUSES = ("issued", "completed", "closed", "opted_out", *CALL_STATUSES)


def end_scores_by_response(
    session: Session, study: Study, wave: Wave, score_columns: Sequence
) -> list[dict[tuple[bool, int | None], int]]:
    """Clients issued `wave`, by (answered it, stored end score), for each of
    `score_columns`: for the attrition check.

    Who answered is a joined table, not `IN (subquery)`: past PostgreSQL's work_mem (about
    a million responses) an IN list in the SELECT is no longer hashed and is scanned again
    for every invitation (issue 16: 13 minutes and counting at 1,000,000 clients). The
    join is made once for every measure (a materialised CTE, grouped per measure), not once
    per measure (3 of 16 s at a million clients)."""
    if not score_columns:
        return []
    kept, _ = _kept(session, study.id)
    if kept:
        # Kept: each slot's values, and slot 0's every invitation (its no-value count is
        # slot 0's less its values).
        slots = [column.key.removeprefix("baseline_") for column in score_columns]
        found: list[dict[tuple[bool, int | None], int]] = [{} for _ in score_columns]
        issued: dict[bool, int] = {}
        for _, wave_id, responded, slot, score, n in kept.rows("attrition"):
            if wave_id != str(wave.id):
                continue
            if slot == "0":
                issued[responded == "1"] = n
            elif slot in slots:
                found[slots.index(slot)][(responded == "1", _int(score))] = n
        for counts in found:
            for responded, n in issued.items():
                missing = n - sum(c for (r, _), c in counts.items() if r == responded)
                if missing:
                    counts[(responded, None)] = missing
        return found
    answered = (
        select(Response.participant_id)
        .where(Response.wave_id == wave.id, Response.status == SUBMITTED,
               Response.participant_id.is_not(None))
        .group_by(Response.participant_id)
        .subquery("answered")
    )
    responded = case((answered.c.participant_id.is_not(None), 1), else_=0)
    issued = (
        select(responded.label("r"), *(c.label(f"s{i}") for i, c in enumerate(score_columns)))
        .select_from(Invitation)
        .join(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(answered, answered.c.participant_id == Invitation.participant_id)
        .where(Invitation.wave_id == wave.id,
               or_(Invitation.status.in_(ISSUED_STATUSES),
                   answered.c.participant_id.is_not(None)))
        .cte("issued")
        .prefix_with("MATERIALIZED")
    )
    parts = [select(literal(i).label("k"), issued.c.r, issued.c[f"s{i}"], func.count())
             .group_by(issued.c.r, issued.c[f"s{i}"]) for i in range(len(score_columns))]
    out: list[dict[tuple[bool, int | None], int]] = [{} for _ in score_columns]
    for k, r, score, n in session.execute(union_all(*parts)):
        out[k][(bool(r), score)] = int(n)
    return out


def paired_directions(
    session: Session, wave: Wave, measure: Measure, dim: Dimension | None
) -> dict[tuple[Any, str], int]:
    """Linked responses with both values, by (group, improved | same | deteriorated).

    Improved is towards the measure's better value (higher_is_better); both values are the
    response's slot columns (surveys.studies.measures.response_pair)."""
    from surveys.studies.measures import higher_is_better, response_pair

    baseline, follow = response_pair(measure)
    kept, key = _kept(session, wave.study_id, dim)
    if kept:
        better = 1 if higher_is_better(measure) else -1
        names = {better: "improved", -better: "deteriorated", 0: "same"}
        out: dict[tuple[Any, str], int] = defaultdict(int)
        wave_key, slot_key = str(wave.id), str(measure.slot)
        for group, w, slot, sign, _, n in kept.rows(DIRECTION, key):
            if w == wave_key and slot == slot_key:
                out[(group, names[int(sign)])] += n
        return dict(out)
    up, down = (follow > baseline, follow < baseline)
    if not higher_is_better(measure):
        up, down = down, up
    direction = case(
        (up, literal("improved")),
        (down, literal("deteriorated")),
        else_=literal("same"),
    )
    query = (
        select(_group(dim), direction, func.count())
        .select_from(Response)
        .join(Participant, Participant.id == Response.participant_id)
        .where(Response.wave_id == wave.id, Response.status == SUBMITTED,
               baseline.is_not(None), follow.is_not(None))
    )
    return _by_group(session.execute(_grouped(query, dim, Participant.id, direction)))


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def kept_pairs(kept: KeptCounts, wave_id: int, slot: int):
    """(group, (wave, slot, stored value, follow-up value), n) of a wave's linked responses
    with either value in a measure's slot, from the kept counts ("pair"), with no
    breakdown: broken down, pairs are read only as directions (kept.DIRECTION)."""
    wave, slot_key = str(wave_id), str(slot)
    for group, w, s, b, f, n in kept.rows("pair"):
        if w == wave and s == slot_key:
            yield group, (w, s, _int(b), _int(f)), n
