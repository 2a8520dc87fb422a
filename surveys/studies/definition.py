"""Study definitions as files (contracts section 5): read and check one, write one back.

`read_definition` turns STUDY.yaml text into a StudyDefinition or raises DefinitionError
listing every problem in plain words; `write_definition` prints a study as YAML that
`read_definition` accepts back unchanged (the `study show` / `study apply` round trip).
Checks that need the database (instruments, collected data) are in surveys/studies/apply.py.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

import yaml

from surveys.invitations import windows
from surveys.models import MAX_MEASURES, Study
from surveys.studies.message_texts import check_study_messages, check_wave_messages

LANGUAGES = ("en", "cy")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MEASURE_ID = re.compile(r"[a-z][a-z0-9_]{0,59}")
WAVE_CODE = re.compile(r"[a-z0-9_]{1,32}")
ARM = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_WAVES = 12
MAX_REMINDERS = 3

STUDY_KEYS = ("slug", "name", "programme", "languages", "end_date", "disclosure_threshold",
              "arms", "randomised", "notes", "time_zone", "send_window", "messages",
              "measures", "waves")
MAX_NOTES = 4000
MEASURE_KEYS = ("id", "kind", "better", "baseline", "min", "max", "reliable_change", "label")
WAVE_KEYS = ("code", "label", "instrument", "offset_days", "reminder_days", "close_days",
             "messages", "channels", "mode", "max_calls")
CHANNELS = ("email", "sms")  # how a wave reaches clients (issue 15); default [email]
# web: messages with a personal link; telephone: no message, the wave's questionnaires
# appear on interviewers' call lists when due (issue 14).
MODES = ("web", "telephone")
DEFAULT_MAX_CALLS = 5


class DefinitionError(ValueError):
    """Problems with a definition, each a short sentence naming where it is."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class MeasureDefinition:
    id: str
    kind: str
    better: str
    baseline: bool = True
    min: int | None = None
    max: int | None = None
    reliable_change: float | None = None
    label: dict[str, str] = field(default_factory=dict)


@dataclass
class WaveDefinition:
    code: str
    instrument: str
    offset_days: int = 0
    reminder_days: list[int] = field(default_factory=lambda: [7])
    close_days: int = 28
    # The wave's name in reports, per language; empty: named from its code.
    label: dict[str, str] = field(default_factory=dict)
    # Its own words in messages (surveys/studies/message_texts.py); empty: the service's.
    messages: dict = field(default_factory=dict)
    channels: list[str] = field(default_factory=lambda: ["email"])
    mode: str = "web"
    max_calls: int = DEFAULT_MAX_CALLS


@dataclass
class StudyDefinition:
    slug: str
    name: str
    programme: dict[str, str]
    languages: list[str] = field(default_factory=lambda: list(LANGUAGES))
    end_date: date | None = None
    disclosure_threshold: int = 7
    arms: list[str] = field(default_factory=list)
    # Participants were allocated to the arms at random (only with arms).
    randomised: bool = False
    # The study's clock and when messages may go (surveys/invitations/windows.py);
    # send_window None: 09:00-19:00, Monday to Saturday.
    time_zone: str = windows.DEFAULT_TIME_ZONE
    send_window: dict | None = None
    # For the study's researchers and evaluators (never clients): how it was set up, the
    # assumptions behind it, what a reader of its reports should know.
    notes: str | None = None
    # Who runs it and who to contact, in messages (surveys/studies/message_texts.py).
    messages: dict = field(default_factory=dict)
    measures: list[MeasureDefinition] = field(default_factory=list)
    waves: list[WaveDefinition] = field(default_factory=list)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}" if where else what)

    def keys(self, node: dict, allowed: tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.add(where, f"unknown setting '{key}'{hint}; allowed: {', '.join(allowed)}")

    def whole(self, node: dict, key: str, where: str, low: int, high: int,
              default: int | None) -> int | None:
        value = node.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(f"{where}.{key}" if where else key,
                     f"must be a whole number from {low} to {high} (got {value!r})")
            return default
        return value

    def text(self, node: object, where: str, languages: list[str], required: bool) -> dict:
        if node is None:
            if required:
                self.add(where, f"needs a text in {_languages(languages)}")
            return {}
        if isinstance(node, str):
            node = {"en": node}
        if not isinstance(node, dict):
            self.add(where, "must be texts by language, e.g. {en: ...}")
            return {}
        out: dict[str, str] = {}
        for lang, value in node.items():
            if lang not in LANGUAGES:
                self.add(where, f"'{lang}' is not a language this service speaks "
                                f"({', '.join(LANGUAGES)})")
            elif not isinstance(value, str) or not value.strip():
                self.add(f"{where}.{lang}", "must be a text that is not blank")
            else:
                out[lang] = value.strip()
        missing = [lang for lang in languages if lang not in out]
        if missing and out:
            self.add(where, f"has no {_languages(missing)} text, and the study's clients "
                            f"answer in {_languages(languages)}")
        return out


def _languages(codes: list[str]) -> str:
    names = {"en": "English (en)", "cy": "Welsh (cy)"}
    return " and ".join(names.get(c, c) for c in codes)


def read_definition(source: str) -> StudyDefinition:
    # Imported here: the instruments package loads the JSON Schema validator, which
    # `study show` (writing, not reading) must not pay for (issue 16, start-up).
    from instruments.yaml_source import describe_yaml_error, parse_yaml

    try:
        document = parse_yaml(source)
    except yaml.YAMLError as error:
        raise DefinitionError([describe_yaml_error(error)]) from None
    if not isinstance(document, dict):
        raise DefinitionError(["a study file is a set of settings (slug: ..., name: ...)"])
    return check_definition(document)


def check_definition(document: dict) -> StudyDefinition:
    c = _Checker()
    c.keys(document, STUDY_KEYS, "")
    slug = document.get("slug")
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        c.add("slug", "needs 1-64 characters: a-z, 0-9 and '-' (e.g. hws-pilot)")
    name = document.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        c.add("name", "needs the study's name (up to 200 characters)")
    languages = document.get("languages", list(LANGUAGES))
    if (not isinstance(languages, list) or not languages
            or any(lang not in LANGUAGES for lang in languages)
            or len(set(languages)) != len(languages)):
        c.add("languages", f"must list client languages from {', '.join(LANGUAGES)}, "
                           "each once (e.g. [en] or [en, cy])")
        languages = ["en"]
    elif "en" not in languages:
        c.add("languages", "must include en: every text is written in English first")
    programme = c.text(document.get("programme"), "programme", languages, required=True)
    end_date = document.get("end_date")
    if isinstance(end_date, str):
        try:
            end_date = date.fromisoformat(end_date)
        except ValueError:
            c.add("end_date", f"must be a date like 2020-03-31 (got {end_date!r})")
            end_date = None
    elif end_date is not None and not isinstance(end_date, date):
        c.add("end_date", f"must be a date like 2020-03-31 (got {end_date!r})")
        end_date = None
    threshold = c.whole(document, "disclosure_threshold", "", 1, 100, 7)
    arms = document.get("arms") or []
    if not isinstance(arms, list) or any(not isinstance(a, str) or not ARM.fullmatch(a)
                                         for a in arms):
        c.add("arms", "must list arm names (a-z, 0-9, '-', '_'), e.g. [integrated, comparison]")
        arms = []
    elif len(arms) == 1 or len(set(arms)) != len(arms):
        c.add("arms", "needs two or more different arms (the first is compared with the second)")
    randomised = document.get("randomised", False)
    if not isinstance(randomised, bool):
        c.add("randomised", f"must be true or false (got {randomised!r})")
        randomised = False
    elif randomised and not arms:
        c.add("randomised", "applies only to a study with arms: list them under arms")
    notes = document.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        c.add("notes", f"must be text of at most {MAX_NOTES} characters")
        notes = None
    notes = notes.strip() or None if isinstance(notes, str) else None
    time_zone = document.get("time_zone", windows.DEFAULT_TIME_ZONE)
    if (zone_problem := windows.zone_problem(time_zone)) is not None:
        c.add("time_zone", zone_problem)
        time_zone = windows.DEFAULT_TIME_ZONE
    send_window = document.get("send_window")
    window_problems = windows.window_problems(send_window) if send_window is not None else []
    for key, problem in window_problems:
        c.add(f"send_window.{key}" if key else "send_window", problem)
    send_window = None if window_problems else windows.normal_window(send_window)
    messages = check_study_messages(c, document.get("messages"), languages)
    measures = [_measure(c, node, i, languages) for i, node in
                enumerate(_list(c, document.get("measures", []), "measures"))]
    if len(measures) > MAX_MEASURES:
        c.add("measures", f"a study pairs at most {MAX_MEASURES} measures (got {len(measures)})")
    _unique(c, [m.id for m in measures if m], "measures", "id")
    waves = [_wave(c, node, i, languages)
             for i, node in enumerate(_list(c, document.get("waves"), "waves"))]
    if not waves:
        c.add("waves", "needs at least one wave")
    if len(waves) > MAX_WAVES:
        c.add("waves", f"a study has at most {MAX_WAVES} waves")
    _unique(c, [w.code for w in waves if w], "waves", "code")
    if c.problems:
        raise DefinitionError(c.problems)
    return StudyDefinition(
        slug=slug, name=name.strip(), programme=programme, languages=list(languages),
        end_date=end_date, disclosure_threshold=threshold, arms=list(arms),
        randomised=randomised, notes=notes, measures=measures, waves=waves, messages=messages,
        time_zone=time_zone, send_window=send_window,
    )


def _list(c: _Checker, node: object, where: str) -> list:
    if node is None:
        return []
    if not isinstance(node, list):
        c.add(where, "must be a list (each item starting with '- ')")
        return []
    return node


def _unique(c: _Checker, values: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            c.add(where, f"two items have the {key} '{value}'")
        seen.add(value)


def _measure(c: _Checker, node: object, i: int, languages: list[str]) -> MeasureDefinition | None:
    where = f"measures[{i + 1}]"
    if not isinstance(node, dict):
        c.add(where, "must be a set of settings (id: ..., kind: ...)")
        return None
    c.keys(node, MEASURE_KEYS, where)
    key = node.get("id")
    if not isinstance(key, str) or not MEASURE_ID.fullmatch(key):
        c.add(f"{where}.id", "needs a snake_case id (a-z, 0-9, '_', starting with a letter, "
                             "up to 60 characters)")
        key = f"measure_{i + 1}"
    where = f"measure {key}"
    kind = node.get("kind")
    if kind not in ("scale", "binary"):
        c.add(f"{where}.kind", f"must be scale or binary (got {kind!r})")
        kind = "scale"
    better = node.get("better")
    if isinstance(better, bool):  # YAML reads a bare yes/no as true/false
        better = "yes" if better else "no"
    allowed = ("yes", "no") if kind == "binary" else ("higher", "lower")
    if better is None and kind == "scale":
        better = "higher"
    if better not in allowed:
        c.add(f"{where}.better", f"must be {' or '.join(allowed)} for a {kind} measure "
                                 f"(got {better!r})")
        better = allowed[0]
    baseline = node.get("baseline", True)
    if not isinstance(baseline, bool):
        c.add(f"{where}.baseline", "must be true or false")
        baseline = True
    low = high = reliable = None
    if kind == "scale":
        low = c.whole(node, "min", where, 0, 10, 0)
        high = c.whole(node, "max", where, 0, 10, 10)
        if low is not None and high is not None and low >= high:
            c.add(where, f"min ({low}) must be below max ({high})")
        reliable = node.get("reliable_change")
        if reliable is not None and (isinstance(reliable, bool)
                                     or not isinstance(reliable, int | float)
                                     or not 0 < reliable <= (high or 10) - (low or 0)):
            c.add(f"{where}.reliable_change",
                  f"must be a number of points above 0 and at most max - min (got {reliable!r})")
            reliable = None
    else:
        for key_ in ("min", "max", "reliable_change"):
            if key_ in node:
                c.add(f"{where}.{key_}", "applies to scale measures only")
    label = c.text(node.get("label"), f"{where}.label", languages, required=False) \
        or {"en": key}
    return MeasureDefinition(key, kind, better, baseline, low, high,
                             float(reliable) if reliable is not None else None, label)


def _wave(c: _Checker, node: object, i: int, languages: list[str]) -> WaveDefinition | None:
    where = f"waves[{i + 1}]"
    if not isinstance(node, dict):
        c.add(where, "must be a set of settings (code: ..., instrument: ...)")
        return None
    c.keys(node, WAVE_KEYS, where)
    code = node.get("code")
    if not isinstance(code, str) or not WAVE_CODE.fullmatch(code):
        c.add(f"{where}.code", "needs a code of 1-32 characters: a-z, 0-9 and '_' (e.g. wave1)")
        code = f"wave_{i + 1}"
    where = f"wave {code}"
    instrument = node.get("instrument")
    if not isinstance(instrument, str) or not instrument.strip():
        c.add(f"{where}.instrument", "needs a shipped instrument's name or a path to an "
                                     "instrument file")
        instrument = ""
    offset = c.whole(node, "offset_days", where, 0, 3650, 0)
    close = c.whole(node, "close_days", where, 1, 365, 28)
    reminders = node.get("reminder_days", [7])
    if reminders is None:
        reminders = []
    if isinstance(reminders, int) and not isinstance(reminders, bool):
        reminders = [reminders]
    if (not isinstance(reminders, list) or len(reminders) > MAX_REMINDERS
            or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 365
                   for d in reminders)
            or len(set(reminders)) != len(reminders)):
        c.add(f"{where}.reminder_days", f"must list up to {MAX_REMINDERS} different days after "
                                        "issue, each from 1 to 365 (e.g. [7] or [3, 10])")
        reminders = []
    elif close is not None and any(d >= close for d in reminders):
        c.add(f"{where}.reminder_days", f"a reminder must come before the wave closes "
                                        f"(close_days {close})")
    label = c.text(node.get("label"), f"{where}.label", languages, required=False)
    channels = node.get("channels", ["email"])
    if isinstance(channels, str):
        channels = [channels]
    if (not isinstance(channels, list) or not channels
            or any(ch not in CHANNELS for ch in channels) or len(set(channels)) != len(channels)):
        c.add(f"{where}.channels", "must list how the wave reaches clients: email, sms or both "
                                   "(e.g. [email, sms])")
        channels = ["email"]
    mode = node.get("mode", "web")
    if mode not in MODES:
        c.add(f"{where}.mode", f"must be web or telephone (got {mode!r})")
        mode = "web"
    max_calls = c.whole(node, "max_calls", where, 1, 20, DEFAULT_MAX_CALLS)
    return WaveDefinition(code, instrument.strip(), offset, sorted(reminders), close, label,
                          messages=check_wave_messages(c, node.get("messages"), where, languages),
                          channels=[ch for ch in CHANNELS if ch in channels],
                          mode=mode, max_calls=max_calls or DEFAULT_MAX_CALLS)


def definition_of(study: Study) -> StudyDefinition:
    """The definition a study stands for now."""
    return StudyDefinition(
        slug=study.slug, name=study.name, programme=dict(study.programme or {}),
        languages=list(study.languages or LANGUAGES), end_date=study.end_date,
        disclosure_threshold=study.disclosure_threshold, arms=list(study.arms or []),
        randomised=bool(study.randomised), notes=study.notes or None,
        time_zone=study.time_zone or windows.DEFAULT_TIME_ZONE,
        send_window=windows.normal_window(study.send_window),
        messages=dict(study.messages or {}),
        measures=[
            MeasureDefinition(m.key, m.kind, m.better, m.baseline,
                              m.min_value if m.kind == "scale" else None,
                              m.max_value if m.kind == "scale" else None,
                              m.reliable_change, dict(m.label or {}))
            for m in study.measures
        ],
        waves=[WaveDefinition(w.code, w.instrument, w.offset_days, list(w.reminder_days or []),
                              w.close_days, dict(w.label or {}),
                              messages=dict(w.messages or {}),
                              channels=list(w.channels or ["email"]),
                              mode=w.mode or "web",
                              max_calls=w.max_calls or DEFAULT_MAX_CALLS)
               for w in study.waves],
    )


def write_definition(study: Study) -> str:
    """The study as STUDY.yaml text that read_definition accepts back unchanged."""
    d = definition_of(study)
    document: dict = {"slug": d.slug, "name": d.name, "programme": d.programme,
                      "languages": d.languages}
    if d.end_date:
        document["end_date"] = d.end_date
    document["disclosure_threshold"] = d.disclosure_threshold
    if d.arms:  # randomised means something only with arms (check_definition refuses it)
        document["arms"] = d.arms
        document["randomised"] = d.randomised
    if d.notes:
        document["notes"] = d.notes
    if d.time_zone != windows.DEFAULT_TIME_ZONE:  # only when not the default, like messages
        document["time_zone"] = d.time_zone
    if d.send_window:
        document["send_window"] = d.send_window
    if d.messages:  # only when set: a study without them shows exactly as before
        document["messages"] = d.messages
    measures = []
    for m in d.measures:
        item: dict = {"id": m.id, "kind": m.kind, "better": m.better, "baseline": m.baseline}
        if m.kind == "scale":
            item["min"], item["max"] = m.min, m.max
            if m.reliable_change is not None:
                rc = m.reliable_change
                item["reliable_change"] = int(rc) if float(rc).is_integer() else rc
        item["label"] = m.label
        measures.append(item)
    document["measures"] = measures
    document["waves"] = [
        # A label only when set: a study without one shows exactly as before.
        {"code": w.code, **({"label": w.label} if w.label else {}), "instrument": w.instrument,
         "offset_days": w.offset_days, "reminder_days": w.reminder_days,
         "close_days": w.close_days, **({"messages": w.messages} if w.messages else {}),
         **({"channels": w.channels} if w.channels != ["email"] else {}),
         **({"mode": w.mode} if w.mode != "web" else {}),
         **({"max_calls": w.max_calls} if w.max_calls != DEFAULT_MAX_CALLS else {})}
        for w in d.waves
    ]
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Lists of plain values on one line (languages: [en, cy]), as people write them."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(item, str | int | float) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    """Text over several lines (notes) as a literal block, as people write it."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_text)
