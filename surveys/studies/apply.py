"""Bring a study in line with a definition: create it, or change what differs.

All or nothing: every check (instruments, questions the measures need, collected data a
change would orphan) runs before anything is written, and the caller commits once. Each
change is described in a line for the person applying it and in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from instruments import Instrument, InstrumentError, available_instruments
from surveys import audit
from surveys.invitations import windows
from surveys.models import (
    MAX_MEASURES,
    Invitation,
    InvitationStatus,
    Measure,
    Participant,
    Response,
    Study,
    User,
    Wave,
)
from surveys.studies.definition import (
    DEFAULT_MAX_CALLS,
    DefinitionError,
    MeasureDefinition,
    StudyDefinition,
    WaveDefinition,
)
from surveys.studies.instruments import (
    InstrumentRefused,
    check_languages,
    is_shipped,
    keep,
    kept_source,
    kept_versions,
)
from surveys.studies.instruments import instrument as load_version

# The question type a follow-up question of each kind of measure must have.
QUESTION_TYPE = {"scale": "scale_0_10", "binary": "yes_no"}
TIMING = ("offset_days", "reminder_days", "close_days")


@dataclass
class ApplyResult:
    slug: str
    created: bool
    changes: list[str] = field(default_factory=list)


@dataclass
class _Resolved:
    """A wave's instrument as it will be stored: name, kept version (None: shipped)."""

    name: str
    version: str | None
    instrument: Instrument


def is_path(value: str) -> bool:
    """Whether a wave's `instrument` names a file (read and kept) rather than an instrument."""
    return "/" in value or value.endswith((".yaml", ".yml"))


def _resolve_instruments(session: Session, d: StudyDefinition, study: Study | None,
                         base_dir: Path | None, uploads: dict[str, tuple[str, str]],
                         now: datetime, problems: list[str],
                         changes: list[str]) -> dict[str, _Resolved]:
    current = {w.code: w for w in study.waves} if study else {}
    resolved: dict[str, _Resolved] = {}
    for wave in d.waves:
        where = f"wave {wave.code}.instrument"
        try:
            if wave.code in uploads:
                filename, source = uploads[wave.code]
                inst, new = keep(session, source, filename, d.languages, now)
                resolved[wave.code] = _Resolved(inst.name, inst.version, inst)
                if new:
                    changes.append(f"instrument {inst.name} version {inst.version} kept")
                continue
            if is_path(wave.instrument):
                path = (base_dir or Path.cwd()) / wave.instrument
                try:
                    source = path.read_text(encoding="utf-8")
                except (FileNotFoundError, IsADirectoryError):
                    problems.append(f"{where}: no instrument file at {wave.instrument}")
                    continue
                except UnicodeDecodeError:
                    problems.append(f"{where}: {wave.instrument} is not UTF-8 text")
                    continue
                inst, new = keep(session, source, Path(wave.instrument).name, d.languages, now)
                resolved[wave.code] = _Resolved(inst.name, inst.version, inst)
                if new:
                    changes.append(f"instrument {inst.name} version {inst.version} kept")
                continue
            name = wave.instrument
            if is_shipped(name):
                # Shipped instruments are in English and Welsh: any study's languages.
                resolved[wave.code] = _Resolved(name, None, load_version(session, name))
                continue
            versions = kept_versions(session, name)
            if not versions:
                shipped = ", ".join(n for n in available_instruments())
                problems.append(f"{where}: no instrument called '{name}' (shipped: {shipped}; "
                                "or give the path of an instrument file)")
                continue
            old = current.get(wave.code)
            version = old.instrument_version if old and old.instrument == name else versions[-1]
            inst = load_version(session, name, version)
            check_languages(inst, kept_source(session, name, version), d.languages,
                            f"{name} {version}")
            resolved[wave.code] = _Resolved(name, version, inst)
        except InstrumentRefused as refused:
            problems.append(f"{where}: {refused}")
        except (InstrumentError, LookupError) as error:
            problems.append(f"{where}: {str(error).splitlines()[0]}")
    for code, r in resolved.items():
        if r.instrument.audience != "client":
            problems.append(f"wave {code}.instrument: {r.name} is a staff instrument, not a "
                            "client questionnaire")
    return resolved


def _check_questions(d: StudyDefinition, resolved: dict[str, _Resolved],
                     problems: list[str]) -> None:
    """Each measure is a question of the right type wherever it is asked, and asked somewhere."""
    for m in d.measures:
        asked = False
        for code, r in resolved.items():
            question = next((q for q in r.instrument.questions() if q.id == m.id), None)
            if question is None:
                continue
            asked = True
            want = QUESTION_TYPE[m.kind]
            if question.type != want:
                problems.append(f"measure {m.id}: wave {code}'s question '{m.id}' is "
                                f"{question.type}, and a {m.kind} measure needs {want}")
        if not asked and len(resolved) == len(d.waves):
            problems.append(f"measure {m.id}: no wave's instrument asks a question '{m.id}', "
                            "so it could never be paired")


def _measure_data(session: Session, study: Study, measure: Measure) -> tuple[int, int]:
    """(participants with a stored baseline, responses with an answer) for a measure."""
    baselines = session.scalar(select(func.count()).where(
        Participant.study_id == study.id,
        getattr(Participant, f"baseline_{measure.slot}").is_not(None)))
    answers = session.scalar(select(func.count()).select_from(Response).join(Wave).where(
        Wave.study_id == study.id, getattr(Response, f"score_{measure.slot}").is_not(None)))
    return int(baselines or 0), int(answers or 0)


def _wave_data(session: Session, wave: Wave) -> tuple[int, int]:
    """(responses, invitations issued or answered or closed) of a wave."""
    responses = session.scalar(select(func.count()).where(Response.wave_id == wave.id))
    issued = session.scalar(select(func.count()).where(
        Invitation.wave_id == wave.id,
        Invitation.status.not_in([InvitationStatus.SCHEDULED, InvitationStatus.OUT_OF_WINDOW])))
    return int(responses or 0), int(issued or 0)


def _orphans(session: Session, study: Study, d: StudyDefinition, problems: list[str]) -> None:
    wanted_waves = {w.code for w in d.waves}
    for wave in study.waves:
        if wave.code not in wanted_waves:
            responses, issued = _wave_data(session, wave)
            if responses or issued:
                problems.append(f"wave {wave.code} cannot be removed: it has {responses} "
                                f"responses and {issued} questionnaires issued")
    wanted = {m.id: m for m in d.measures}
    for measure in study.measures:
        new = wanted.get(measure.key)
        baselines, answers = _measure_data(session, study, measure)
        held = f"{baselines} stored baselines and {answers} answers"
        if new is None:
            if baselines or answers:
                problems.append(f"measure {measure.key} cannot be removed: it has {held}")
            continue
        if new.kind != measure.kind and (baselines or answers):
            problems.append(f"measure {measure.key} cannot change from {measure.kind} to "
                            f"{new.kind}: it has {held}")
        if measure.baseline and not new.baseline and baselines:
            problems.append(f"measure {measure.key} cannot drop its baseline: "
                            f"{baselines} participants have one stored")
        if new.kind == "scale" == measure.kind and (baselines or answers):
            low, high = _value_range(session, study, measure)
            if low is not None and (low < new.min or high > new.max):
                problems.append(f"measure {measure.key}: values from {low} to {high} are "
                                f"stored, outside the new range {new.min} to {new.max}")
    in_use = set(session.scalars(select(Participant.arm).distinct().where(
        Participant.study_id == study.id, Participant.arm.is_not(None))))
    gone = sorted(in_use - set(d.arms))
    if gone:
        problems.append(f"arms: {', '.join(gone)} cannot be removed: participants are in it")


def _value_range(session: Session, study: Study, measure: Measure) -> tuple:
    base = getattr(Participant, f"baseline_{measure.slot}")
    score = getattr(Response, f"score_{measure.slot}")
    lows, highs = [], []
    b = session.execute(select(func.min(base), func.max(base))
                        .where(Participant.study_id == study.id)).one()
    s = session.execute(select(func.min(score), func.max(score)).select_from(Response)
                        .join(Wave).where(Wave.study_id == study.id)).one()
    for low, high in (b, s):
        if low is not None:
            lows.append(low)
            highs.append(high)
    return (min(lows), max(highs)) if lows else (None, None)


def _set_measure(measure: Measure, m: MeasureDefinition, position: int) -> list[str]:
    values = {"kind": m.kind, "better": m.better, "baseline": m.baseline,
              "min_value": m.min if m.kind == "scale" else None,
              "max_value": m.max if m.kind == "scale" else None,
              "reliable_change": m.reliable_change, "label": m.label}
    changed = [f"{k.removesuffix('_value')} {getattr(measure, k)!r} -> {v!r}"
               for k, v in values.items() if getattr(measure, k) != v]
    for k, v in values.items():
        setattr(measure, k, v)
    measure.position = position
    return changed


def apply_definition(session: Session, d: StudyDefinition, *, now: datetime,
                     user: User | None = None, actor: str = "cli",
                     base_dir: Path | None = None,
                     uploads: dict[str, tuple[str, str]] | None = None) -> ApplyResult:
    """Create or update the study `d` describes; raise DefinitionError, changing nothing.

    `uploads` maps a wave code to (file name, text) of an instrument file given on the web
    page; `base_dir` is where instrument paths in the definition are read from.
    """
    from surveys.invitations import reschedule_wave, schedule_for

    study = session.scalar(select(Study).where(Study.slug == d.slug))
    problems: list[str] = []
    changes: list[str] = []
    resolved = _resolve_instruments(session, d, study, base_dir, uploads or {}, now,
                                    problems, changes)
    _check_questions(d, resolved, problems)
    if study is not None:
        _orphans(session, study, d, problems)
    if problems:
        raise DefinitionError(problems)

    created = study is None
    if created:
        study = Study(slug=d.slug, name=d.name, programme=d.programme, languages=d.languages,
                      arms=d.arms, randomised=d.randomised, notes=d.notes,
                      end_date=d.end_date, time_zone=d.time_zone, send_window=d.send_window,
                      disclosure_threshold=d.disclosure_threshold)
        session.add(study)
        changes.insert(0, f"created study '{d.slug}' with {len(d.waves)} waves and "
                          f"{len(d.measures)} measures")
    else:
        for attr in ("name", "programme", "languages", "arms", "randomised", "notes",
                     "end_date", "disclosure_threshold", "time_zone", "send_window"):
            old, new = getattr(study, attr), getattr(d, attr)
            if attr == "send_window":  # the stored form; None is the default window
                old = windows.normal_window(old)
            if old != new and attr == "send_window":
                changes.append(f"send_window: {windows.describe(old)} -> {windows.describe(new)}")
                study.send_window = new
            elif old != new and attr == "notes":  # free text: say that it changed, not how
                changes.append("notes: changed" if old and new else
                               "notes: added" if new else "notes: removed")
                study.notes = new
            elif old != new:
                changes.append(f"{attr}: {_show(old)} -> {_show(new)}")
                setattr(study, attr, new)

    if (study.messages or None) != (d.messages or None):  # free text: that it changed
        if not created:
            changes.append("messages: changed" if study.messages and d.messages else
                           "messages: added" if d.messages else "messages: removed")
        study.messages = dict(d.messages) or None

    # Measures: same key = same measure (same slot); a new one takes the lowest free slot.
    by_key = {m.key: m for m in study.measures}
    wanted = {m.id for m in d.measures}
    for measure in list(study.measures):
        if measure.key not in wanted:
            study.measures.remove(measure)
            changes.append(f"measure {measure.key}: removed")
    session.flush()
    used = {m.slot for m in study.measures}
    free = [s for s in range(1, MAX_MEASURES + 1) if s not in used]
    rescore = False
    for position, m in enumerate(d.measures, start=1):
        measure = by_key.get(m.id)
        if measure is None or measure not in study.measures:
            measure = Measure(key=m.id, slot=free.pop(0))
            _set_measure(measure, m, position)
            study.measures.append(measure)
            rescore = True
            if not created:
                changes.append(f"measure {m.id}: added ({m.kind})")
        else:
            changed = _set_measure(measure, m, position)
            if changed:
                rescore = True
                changes.append(f"measure {m.id}: " + "; ".join(changed))
    study.measures.sort(key=lambda m: m.position)

    # Waves: same code = same wave.
    by_code = {w.code: w for w in study.waves}
    wanted_waves = {w.code for w in d.waves}
    for wave in list(study.waves):
        if wave.code not in wanted_waves:
            dropped = session.execute(Invitation.__table__.delete().where(
                Invitation.wave_id == wave.id)).rowcount
            study.waves.remove(wave)
            session.delete(wave)
            changes.append(f"wave {wave.code}: removed ({dropped} questionnaires not yet "
                           "issued cancelled)")
    added: list[str] = []
    retimed: list[Wave] = []
    for w in d.waves:
        r = resolved[w.code]
        wave = by_code.get(w.code)
        if wave is None:
            wave = Wave(code=w.code)
            study.waves.append(wave)
            added.append(w.code)
        changed = _set_wave(wave, w, r)
        if (wave.messages or None) != (w.messages or None):  # free text: that it changed
            if wave.id is not None:
                changed.append("messages changed")
            wave.messages = dict(w.messages) or None
        if list(wave.channels or ["email"]) != w.channels or wave.channels is None:
            if wave.id is not None and list(wave.channels or ["email"]) != w.channels:
                changed.append(f"channels {_show(wave.channels or ['email'])} -> "
                               f"{_show(w.channels)}")
            wave.channels = list(w.channels)
        for key, default in (("mode", "web"), ("max_calls", DEFAULT_MAX_CALLS)):
            old, new = getattr(wave, key), getattr(w, key)
            if (old if old is not None else default) != new or old is None:
                if wave.id is not None and (old if old is not None else default) != new:
                    changed.append(f"{key} {old if old is not None else default} -> {new}")
                setattr(wave, key, new)
        if w.code not in added and changed:
            if any(c.split(" ", 1)[0] in TIMING for c in changed):
                retimed.append(wave)
            changes.append(f"wave {w.code}: " + "; ".join(changed))
        if r.name != wave.instrument or r.version != wave.instrument_version:
            rescore = True
    session.flush()

    if not created:
        if any(c.startswith("end_date") for c in changes):
            retimed = list(study.waves)
        for wave in retimed:
            if wave.code not in added:
                moved = reschedule_wave(session, study, wave)
                changes.append(f"wave {wave.code}: {moved} questionnaires not yet issued moved")
        if added:
            participants = session.scalars(select(Participant).where(
                Participant.study_id == study.id)).all()
            scheduled = schedule_for(session, study, participants)
            for code in added:
                changes.append(f"wave {code}: added")
            changes.append(f"{scheduled} questionnaires scheduled for the new waves")
        if rescore:
            # The triggers derive each response's scores from its answers and the study's
            # measures: touching the answers makes them read the new definition.
            session.execute(update(Response).where(
                Response.wave_id.in_([w.id for w in study.waves])
            ).values(answers=Response.answers).execution_options(synchronize_session=False))
    if not changes:
        changes.append("no changes")
    audit.record(session, now, user, "study_apply", actor=actor, study=d.slug,
                 created=created, changes=changes)
    return ApplyResult(d.slug, created, changes)


def _set_wave(wave: Wave, w: WaveDefinition, r: _Resolved) -> list[str]:
    values = {"label": dict(w.label) or None, "offset_days": w.offset_days,
              "reminder_days": list(w.reminder_days), "close_days": w.close_days,
              "instrument": r.name, "instrument_version": r.version}
    changed = [f"{k} {_show(getattr(wave, k))} -> {_show(v)}" for k, v in values.items()
               if wave.id is not None and getattr(wave, k) != v]
    for k, v in values.items():
        setattr(wave, k, v)
    return changed


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):  # as written in a definition: randomised: true
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
