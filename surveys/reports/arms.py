"""Comparison arms (issue 13, contracts section 6): the paired report within each arm, and the
first arm against the second.

Only studies with arms come here (paired_change.paired_report calls arms_sections when
study.arms is set), so the join of responses to participants that puts each response in its
arm never slows the report of a study without arms. Counts come back grouped, a few rows per
measure and arm; the statistics are analysis/arms.py's.

Also here: the disclosure rule (publication) and the evaluator rule within arms and on the
comparison, and the comparison as CSV (one row per measure).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from analysis.disclosure import SUPPRESSED
from surveys.i18n import N_
from surveys.models import Invitation, Measure, Participant, Response, Study, Wave
from surveys.studies.measures import better_value, participant_baseline, response_pair

ISSUED_STATUSES = ("issued", "completed", "closed")  # as surveys.reports.queries counts them
# Which statistics a comparison entry carries, by kind (the CSV's column groups).
INTERVAL_KEYS = ("estimate", "ci_low", "ci_high", "method", "confidence")


# Gathering -------------------------------------------------------------------------------


def _submitted_linked(wave_id: int) -> tuple:
    return (Response.wave_id == wave_id, Response.status == "submitted",
            Response.participant_id.is_not(None))


def arm_score_counts(
    session: Session, wave_id: int, measures: list[Measure], arms: list[str]
) -> dict[str, dict[str, list[tuple]]]:
    """{arm: {measure key: [(baseline, follow-up, linked responses)]}}: paired_score_counts
    within each arm (responses joined to their participant for the arm)."""
    out: dict[str, dict[str, list[tuple]]] = {arm: {m.key: [] for m in measures} for arm in arms}
    for m in measures:
        baseline, follow = response_pair(m)
        rows = session.execute(
            select(Participant.arm, baseline, follow, func.count())
            .join(Participant, Participant.id == Response.participant_id)
            .where(*_submitted_linked(wave_id), Participant.arm.in_(arms))
            .group_by(Participant.arm, baseline, follow)
        ).all()
        for arm, b, f, n in rows:
            out[arm][m.key].append((b, f, int(n)))
    return out


def arm_linked(session: Session, wave_id: int, arms: list[str]) -> dict[str, int]:
    """Linked submitted responses per arm (for a study without measures)."""
    rows = session.execute(
        select(Participant.arm, func.count())
        .join(Participant, Participant.id == Response.participant_id)
        .where(*_submitted_linked(wave_id), Participant.arm.in_(arms))
        .group_by(Participant.arm)
    ).all()
    found = {arm: int(n) for arm, n in rows}
    return {arm: found.get(arm, 0) for arm in arms}


def arm_baseline_yes_counts(
    session: Session, study: Study, measures: list[Measure], arms: list[str]
) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    """{arm: paired_change.baseline_yes_counts within the arm}."""
    binary = [m for m in measures if m.kind == "binary" and m.baseline]
    out: dict = {arm: {m.key: {} for m in binary} for arm in arms}
    if not binary:
        return out
    columns = []
    for m in binary:
        column = participant_baseline(m)
        columns += [func.count(column), func.coalesce(func.sum(column), 0)]
    rows = session.execute(
        select(Participant.arm, Participant.status, *columns)
        .where(Participant.study_id == study.id, Participant.arm.in_(arms))
        .group_by(Participant.arm, Participant.status)
    ).all()
    for arm, status, *counts in rows:
        for i, m in enumerate(binary):
            out[arm][m.key][status or "completed"] = (int(counts[2 * i]),
                                                      int(counts[2 * i + 1]))
    return out


def arm_participants(session: Session, study: Study, arms: list[str]) -> dict[str, int]:
    """Every participant of each arm, whatever their status."""
    rows = session.execute(
        select(Participant.arm, func.count())
        .where(Participant.study_id == study.id, Participant.arm.in_(arms))
        .group_by(Participant.arm)
    ).all()
    found = {arm: int(n) for arm, n in rows}
    return {arm: found.get(arm, 0) for arm in arms}


def arm_surveyed(
    session: Session, study: Study, wave: Wave, arms: list[str]
) -> dict[str, tuple[int, int]]:
    """{arm: (surveyed, responded)}: participants of the arm issued the wave (or who answered
    it, an imported answer needs no invitation), and those of them with a submitted response."""
    # Joined tables, not IN (subquery): see queries.end_scores_by_response.
    answered = (
        select(Response.participant_id).where(*_submitted_linked(wave.id))
        .group_by(Response.participant_id).subquery("answered")
    )
    issued = (
        select(Invitation.participant_id)
        .where(Invitation.wave_id == wave.id, Invitation.status.in_(ISSUED_STATUSES))
        .group_by(Invitation.participant_id).subquery("issued")
    )
    responded = answered.c.participant_id.is_not(None)
    rows = session.execute(
        select(Participant.arm, func.count(), func.count().filter(responded))
        .select_from(Participant)
        .outerjoin(answered, answered.c.participant_id == Participant.id)
        .outerjoin(issued, issued.c.participant_id == Participant.id)
        .where(Participant.study_id == study.id, Participant.arm.in_(arms),
               or_(issued.c.participant_id.is_not(None), responded))
        .group_by(Participant.arm)
    ).all()
    found = {arm: (int(s), int(r)) for arm, s, r in rows}
    return {arm: found.get(arm, (0, 0)) for arm in arms}


# Assembly --------------------------------------------------------------------------------


def _follow_up_answers(rows: list[tuple]) -> dict[int, int]:
    out: dict[int, int] = {}
    for _, f, n in rows:
        if f is not None:
            out[f] = out.get(f, 0) + n
    return out


def _complete(rows: list[tuple]) -> list[tuple]:
    return [(b, f, n) for b, f, n in rows if b is not None and f is not None]


def _values(pairs: list[tuple], which) -> dict[int, int]:
    out: dict[int, int] = {}
    for b, f, n in pairs:
        value = which(b, f)
        out[value] = out.get(value, 0) + n
    return out


def _binary(counts: dict[int, int], better: int) -> tuple[int, int]:
    """(at the better value, answered) from {value: count}."""
    return counts.get(better, 0), sum(counts.values())


def _compare(kind: str, first: dict[int, int], second: dict[int, int], better: int):
    """The comparison result of two arms' {value: count} (analysis/arms.py)."""
    from analysis.arms import compare_binary, compare_scale_from_counts

    if kind == "binary":
        return compare_binary(*_binary(first, better), *_binary(second, better))
    return compare_scale_from_counts(first, second)


def comparison_entry(measure: Measure, first_rows: list[tuple], second_rows: list[tuple],
                     names: tuple[str, str], *, language: str) -> dict:
    """One measure's entry of `comparison`: the first arm against the second.

    Binary (with a baseline or not): the 2x2 of arm by at-the-better-value among each arm's
    linked responses answering the follow-up. Scale with a baseline: the changes of each arm's
    complete pairs; without one: the follow-up answers. `baseline`: the same comparison of
    the baselines of the complete pairs (did the arms start alike?).
    """
    from analysis.arms import comparison_caveats

    better = better_value(measure) if measure.kind == "binary" else 1
    change = measure.kind == "scale" and measure.baseline
    if change:
        first = _values(_complete(first_rows), lambda b, f: f - b)
        second = _values(_complete(second_rows), lambda b, f: f - b)
    else:
        first, second = _follow_up_answers(first_rows), _follow_up_answers(second_rows)
    result = _compare(measure.kind, first, second, better)
    entry: dict[str, Any] = {"basis": "change" if change else "follow_up",
                             **result.to_contract_dict(*names)}
    baseline_result = None
    if measure.baseline:
        baseline_result = _compare(
            measure.kind, _values(_complete(first_rows), lambda b, f: b),
            _values(_complete(second_rows), lambda b, f: b), better)
        entry["baseline"] = baseline_result.to_contract_dict(*names)
    else:
        entry["baseline"] = None
    caveats = comparison_caveats(result, first_arm=names[0], second_arm=names[1],
                                 baseline=baseline_result)
    _set_caveats(entry, caveats, language)
    return entry


def _set_caveats(entry: dict, caveats, language: str, prefix: str = "") -> None:
    from surveys.reports.paired_change import caveat_sentence

    entry[f"{prefix}caveats"] = [caveat_sentence(c, language) for c in caveats]
    entry[f"{prefix}caveat_codes"] = [c.code for c in caveats]
    entry[f"{prefix}caveat_params"] = [dict(c.params) for c in caveats]


def arms_sections(session: Session, study: Study, wave: Wave, scored: dict, *,
                  thresholds: dict, language: str) -> dict:
    """The keys a study with arms adds to the paired report (contracts section 6).

    `scored`: paired_score_counts of the whole wave (unused rows are not fetched twice: the
    arms' own counts come from one grouped query per measure).
    """
    from analysis.arms import compare_response_rates, study_comparison_caveats
    from surveys.reports.paired_change import _entry

    arms = list(study.arms)
    names = (arms[0], arms[1])
    measures = list(study.measures)
    randomised = bool(getattr(study, "randomised", False))
    counts = arm_score_counts(session, wave.id, measures, arms)
    if measures:
        linked = {arm: sum(n for _, _, n in counts[arm][measures[0].key]) for arm in arms}
    else:
        linked = arm_linked(session, wave.id, arms)
    everyone = arm_baseline_yes_counts(session, study, measures, arms)
    people = arm_participants(session, study, arms)
    surveyed = arm_surveyed(session, study, wave, arms)
    by_arm = {}
    for arm in arms:
        by_arm[arm] = {
            "participants": people[arm], "surveyed": surveyed[arm][0],
            "responses": linked[arm], "linked": linked[arm],
            "measures": {
                m.key: _entry(m, counts[arm][m.key], linked=linked[arm], responses=linked[arm],
                              thresholds=thresholds, language=language,
                              baseline_counts=everyone[arm].get(m.key), comparison_group=True)
                for m in measures
            },
        }
    comparison = {
        m.key: comparison_entry(m, counts[names[0]][m.key], counts[names[1]][m.key], names,
                                language=language)
        for m in measures
    }
    (s1, r1), (s2, r2) = surveyed[names[0]], surveyed[names[1]]
    response = compare_response_rates(r1, s1, r2, s2)
    caveats = study_comparison_caveats(randomised=randomised, response=response,
                                       first_arm=names[0], second_arm=names[1])
    out = {
        "arms": by_arm, "comparison": comparison, "comparison_arms": list(names),
        "randomised": randomised, "arm_response": response.to_contract_dict(*names),
    }
    _set_caveats(out, caveats, language, prefix="comparison_")
    return out


def comparison_report(report: dict) -> dict:
    """What `surveys report comparison --format json` prints: the paired report's comparison
    keys, with each arm's counts (its measures are the paired report's)."""
    keys = ("follow_up", "study", "responses", "linked", "disclosure_threshold",
            "comparison_arms", "randomised", "comparison", "arm_response",
            "comparison_caveats", "comparison_caveat_codes", "comparison_caveat_params",
            "publication", "evaluator_rule")
    out = {key: report[key] for key in keys if key in report}
    out["arms"] = {arm: {k: v for k, v in entry.items() if k != "measures"}
                   for arm, entry in report["arms"].items()}
    return out


# Publication and the evaluator rule within arms --------------------------------------------

SMALL_ARM = N_(
    "One of the arms has {threshold} or fewer people answering, so figures comparing the arms "
    "are not shown to evaluators."
)


def _small(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= threshold


def _sub_report(report: dict, entry: dict) -> dict:
    """An arm's entry as a paired report of its own (every response of an arm is linked)."""
    return {"follow_up": report["follow_up"], "responses": entry["responses"],
            "linked": entry["linked"], "unlinked": 0, "measures": entry["measures"]}


def _hide(value: Any) -> Any:
    """Every number in `value` as [c], except the confidence asked for (a setting). Not
    paired_tables._hide_numbers: its settings are measure keys (such as "baseline"), and
    here "baseline" holds figures and arm names are keys."""
    if isinstance(value, dict):
        return {k: v if k == "confidence" else _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return SUPPRESSED


def _rests_on_small_arm(entry: dict, threshold: int) -> bool:
    """Whether a comparison (or its baseline) rests on an arm of 1..threshold (or one whose
    size publication already hid)."""
    sizes = [a.get("n") for a in (entry.get("arms") or {}).values()]
    return any(_small(n, threshold) or n == SUPPRESSED for n in sizes)


def _hide_statistics(entry: dict) -> None:
    """Every number of a comparison, settings (methods, confidence, arm names) kept."""
    for key, value in list(entry.items()):
        if key not in ("kind", "basis", "first_arm", "second_arm", "caveats",
                       "caveat_codes", "caveat_params"):
            entry[key] = _hide(value)


def _publish_binary_comparison(entry: dict, threshold: int) -> None:
    """The 2x2 of arm by better with the cell rule; shares and estimates that give a
    suppressed cell back go with it (the p-value, as McNemar's, stays)."""
    from analysis.disclosure import suppress

    arms = list(entry["arms"].values())
    grid = [[a["better"], a["n"] - a["better"]] for a in arms]
    shown = suppress(grid, threshold)
    for a, cells, total in zip(arms, shown.cells, shown.row_totals, strict=True):
        a["better"], a["n"] = cells[0], total
        if SUPPRESSED in (cells[0], total):
            for key in ("share", "ci_low", "ci_high"):
                if key in a:
                    a[key] = SUPPRESSED
    if any(SUPPRESSED in cells for cells in shown.cells):
        for key in ("risk_difference", "risk_ratio"):
            if isinstance(entry.get(key), dict):
                for k in ("estimate", "ci_low", "ci_high"):
                    entry[key][k] = SUPPRESSED


def _published_comparison(entry: dict, threshold: int) -> None:
    if _rests_on_small_arm(entry, threshold):
        _hide_statistics(entry)
    elif entry.get("kind") == "binary" or "fisher" in entry:
        _publish_binary_comparison(entry, threshold)
    base = entry.get("baseline")
    if isinstance(base, dict):
        _published_comparison(base, threshold)


def _publish_response(out: dict, threshold: int) -> None:
    """Surveyed and responded per arm, with the frequency rule (responded, not responded)."""
    from analysis.disclosure import suppress_frequencies

    response = out["arm_response"]
    for arm, a in response["arms"].items():
        shown = suppress_frequencies([a["responses"], a["surveyed"] - a["responses"]], threshold)
        a["responses"], a["surveyed"] = shown.cells[0], shown.total
        if SUPPRESSED in (a["responses"], a["surveyed"]):
            a["rate"] = SUPPRESSED
        out["arms"][arm]["surveyed"] = a["surveyed"]
    if any(_small(a, threshold) or a == SUPPRESSED
           for a in (x["surveyed"] for x in response["arms"].values())):
        response["fisher"] = _hide(response["fisher"])


def _shown_params(code: str, params: dict, entry: dict) -> dict:
    """A caveat's params with every figure the published `entry` hides shown as [c]: arm
    sizes (entry arms' n), baseline shares and means and their p (entry["baseline"]),
    response rates and their p (an arm_response entry)."""
    shown = dict(params)
    base = entry.get("baseline") or {}

    def hidden(obj: Any, *path: str) -> bool:
        return _get(obj, *path) == SUPPRESSED

    for side in ("first", "second"):
        arm = params.get(f"{side}_arm", "")
        for key, obj, path in ((f"{side}_n", entry, "n"), (f"{side}_rate", entry, "rate"),
                               (f"{side}_percent", base, "share"),
                               (f"{side}_mean", base, "mean")):
            if key in params and hidden(obj, "arms", arm, path):
                shown[key] = SUPPRESSED
    if "n" in params and hidden(entry, "arms", params.get("arm", ""), "n"):
        shown["n"] = SUPPRESSED
    tested = base if code.startswith("baseline_differs") else entry
    if "p" in params and (hidden(tested, "fisher", "p") or hidden(tested, "mann_whitney", "p")):
        shown["p"] = SUPPRESSED
    return shown


def _recaption(entry: dict, language: str, *, prefix: str = "", source: dict | None = None
               ) -> None:
    """Caveat sentences again, with the figures the published entry (or `source`) hides
    shown as [c]."""
    from analysis.caveats import Caveat
    from surveys.reports.paired_change import caveat_sentence

    params = entry.get(f"{prefix}caveat_params")
    if params is None:
        return
    codes = entry[f"{prefix}caveat_codes"]
    shown = [_shown_params(code, p, entry if source is None else source)
             for code, p in zip(codes, params, strict=True)]
    entry[f"{prefix}caveats"] = [caveat_sentence(Caveat(code, p), language)
                                 for code, p in zip(codes, shown, strict=True)]
    entry[f"{prefix}caveat_params"] = shown


def publish_arms(out: dict, threshold: int, rule: str, language: str) -> None:
    """The disclosure rule within each arm (publish_paired on its entry) and on the comparison,
    in place on publish_paired's copy of the report."""
    from surveys.reports.paired_tables import publish_paired

    for entry in out["arms"].values():
        published = publish_paired(_sub_report(out, entry), threshold, rule, language)
        entry.update({k: published[k] for k in ("responses", "linked", "measures")})
        if _small(entry.get("participants"), threshold):
            entry["participants"] = SUPPRESSED
    _publish_response(out, threshold)
    for entry in out["comparison"].values():
        _published_comparison(entry, threshold)
        _recaption(entry, language)
    _recaption(out, language, prefix="comparison_", source=out["arm_response"])


def evaluator_arms(out: dict, threshold: int, language: str) -> None:
    """The evaluator rule within each arm (evaluator_paired, the arm's participants as its
    cohort) and on the comparison: no figure resting on an arm of 1..threshold people, in
    place on evaluator_paired's copy of the report."""
    from surveys.reports.build import t
    from surveys.reports.paired_tables import evaluator_paired

    for entry in out["arms"].values():
        cohort = entry.get("participants")
        small = cohort == SUPPRESSED or _small(cohort, threshold)
        shown = evaluator_paired(_sub_report(out, entry), threshold, language,
                                 cohort=threshold if small else cohort)
        entry.update({k: shown[k] for k in ("responses", "linked", "measures")})
        if small:
            entry.update({k: SUPPRESSED for k in ("participants", "surveyed")})
    response = out["arm_response"]
    if any(_small(x, threshold) or x == SUPPRESSED
           for x in (a["surveyed"] for a in response["arms"].values())):
        out["arm_response"] = _hide(response)
        for entry in out["arms"].values():
            entry["surveyed"] = SUPPRESSED
    sentence = t(SMALL_ARM, language, threshold=threshold)
    hidden = []
    for key, entry in out["comparison"].items():
        base = entry.get("baseline")
        if _rests_on_small_arm(entry, threshold) or (
                isinstance(base, dict) and _rests_on_small_arm(base, threshold)):
            _hide_statistics(entry)
            entry["caveats"], entry["caveat_codes"] = [sentence], ["evaluator_rule"]
            entry["caveat_params"] = [{"threshold": threshold}]
            hidden.append(key)
    # Study-wide caveats name response rates: a small arm's go.
    _recaption(out, language, prefix="comparison_", source=out["arm_response"])
    out.setdefault("evaluator_rule", {})["suppressed_comparisons"] = hidden


# The comparison as CSV ----------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


ARM_COLUMNS = ("n", "better", "share", "ci_low", "ci_high", "mean", "median")
STATISTICS = (
    ("fisher", ("p", "method")),
    ("risk_difference", INTERVAL_KEYS),
    ("risk_ratio", INTERVAL_KEYS),
    ("mann_whitney", ("p", "statistic", "method", "use_continuity", "alternative")),
    ("mean_difference", INTERVAL_KEYS),
    ("hodges_lehmann", ("estimate", "ci_low", "ci_high", "method", "achieved_confidence")),
)


def _statistic_columns(prefix: str = "") -> list[str]:
    return [f"{prefix}{name}_{key}" for name, keys in STATISTICS for key in keys]


COMPARISON_CSV_COLUMNS = (
    "follow_up", "measure", "kind", "basis", "first_arm", "second_arm", "randomised",
    *[f"first_{k}" for k in ARM_COLUMNS], *[f"second_{k}" for k in ARM_COLUMNS],
    *_statistic_columns(),
    *[f"baseline_first_{k}" for k in ARM_COLUMNS], *[f"baseline_second_{k}" for k in ARM_COLUMNS],
    *_statistic_columns("baseline_"),
    "caveats", "publication", "disclosure_rule", "evaluator_rule",
)


def _cells(entry: dict | None, first: str, second: str) -> list:
    return [*[_get(entry, "arms", first, k) for k in ARM_COLUMNS],
            *[_get(entry, "arms", second, k) for k in ARM_COLUMNS],
            *[_get(entry, name, key) for name, keys in STATISTICS for key in keys]]


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def render_comparison_csv(report: dict) -> str:
    """One row per measure: each arm's figures, then the statistics, then the same for the
    baselines; numbers at full precision, text made safe as in render_csv."""
    from surveys.reports.table import safe_text as safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COMPARISON_CSV_COLUMNS)
    first, second = report["comparison_arms"]
    publication = report.get("publication") or {}
    evaluator = report.get("evaluator_rule") or {}
    for measure, entry in report["comparison"].items():
        writer.writerow([safe_cell(_text(v)) for v in (
            report["follow_up"], measure, entry["kind"], entry["basis"], first, second,
            report.get("randomised", False), *_cells(entry, first, second),
            *_cells(entry.get("baseline"), first, second), " ".join(entry["caveats"]),
            "yes" if publication else "no", publication.get("rule", ""),
            evaluator.get("rule", ""),
        )])
    return out.getvalue()
