"""The study's and the wave's own words in messages (study definition key `messages`).

Study: `messages: {organisation: {en: ...}, contact: {en: ...}}`: who runs the study and
who to contact, free text per client language. Wave: `messages: {subject: {en: ...},
intro: {en: ...}, minutes: 5}`: the email subject, the opening words and how long the
questionnaire takes. Every key is optional; without one, messages use the service's words.
"""

from __future__ import annotations

from typing import Protocol

MAX_TEXT = 300
STUDY_MESSAGE_KEYS = ("organisation", "contact")
WAVE_MESSAGE_KEYS = ("subject", "intro", "minutes")
DEFAULT_MINUTES = 5


class Checker(Protocol):
    """What surveys.studies.definition._Checker offers (no import cycle)."""

    def add(self, where: str, what: str) -> None: ...
    def keys(self, node: dict, allowed: tuple[str, ...], where: str) -> None: ...
    def whole(self, node: dict, key: str, where: str, low: int, high: int,
              default: int | None) -> int | None: ...
    def text(self, node: object, where: str, languages: list[str], required: bool) -> dict: ...


def _texts(c: Checker, node: dict, key: str, where: str, languages: list[str]) -> dict:
    texts = c.text(node.get(key), f"{where}.{key}", languages, required=key in node)
    for lang, value in texts.items():
        if len(value) > MAX_TEXT:
            c.add(f"{where}.{key}.{lang}", f"must be at most {MAX_TEXT} characters "
                                            f"(got {len(value)})")
    return texts


def _mapping(c: Checker, node: object, where: str, example: str) -> dict | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        c.add(where, f"must be a set of settings, e.g. {example}")
        return None
    return node


def check_study_messages(c: Checker, node: object, languages: list[str]) -> dict:
    """The study's `messages`, checked: {} when not given."""
    node = _mapping(c, node, "messages", "{organisation: {en: ...}, contact: {en: ...}}")
    if node is None:
        return {}
    c.keys(node, STUDY_MESSAGE_KEYS, "messages")
    out = {key: _texts(c, node, key, "messages", languages) for key in STUDY_MESSAGE_KEYS}
    return {key: value for key, value in out.items() if value}


def check_wave_messages(c: Checker, node: object, where: str, languages: list[str]) -> dict:
    """A wave's `messages`, checked: {} when not given."""
    where = f"{where}.messages"
    node = _mapping(c, node, where, "{subject: {en: ...}, intro: {en: ...}, minutes: 5}")
    if node is None:
        return {}
    c.keys(node, WAVE_MESSAGE_KEYS, where)
    out: dict = {key: _texts(c, node, key, where, languages) for key in ("subject", "intro")}
    if "subject" in out and any("\n" in s for s in out["subject"].values()):
        c.add(f"{where}.subject", "must be on one line")
    minutes = c.whole(node, "minutes", where, 1, 120, None)
    if minutes is not None:
        out["minutes"] = minutes
    return {key: value for key, value in out.items() if value}


def _pick(texts: dict | None, language: str) -> str | None:
    if not texts:
        return None
    return texts.get(language) or texts.get("en")


def study_words(study, language: str) -> dict[str, str | None]:
    """The study's organisation and contact in `language` (None: not set)."""
    messages = study.messages or {}
    return {key: _pick(messages.get(key), language) for key in STUDY_MESSAGE_KEYS}


def wave_words(wave, language: str) -> dict[str, object]:
    """The wave's subject and intro in `language` (None: the service's words) and minutes."""
    messages = wave.messages or {}
    return {"subject": _pick(messages.get("subject"), language),
            "intro": _pick(messages.get("intro"), language),
            "minutes": messages.get("minutes") or DEFAULT_MINUTES}
