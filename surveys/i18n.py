"""Translations usable anywhere: web pages, emails, the scheduler and the CLI.

Strings are marked with `N_` (extracted by Babel, see babel.cfg) and translated
at the point of use for an explicit language, so code outside a web request
never depends on Flask's request-bound locale.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("en", "cy")


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; translate it later with `translate`."""
    return message


@cache
def catalog(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language], "messages")


def translate(message: str, language: str, **params: object) -> str:
    text = catalog(language).gettext(message)
    return text % params if params else text


def client_language(study, wanted: str | None) -> str:
    """The language a client of `study` is addressed in: their own when the study has it,
    else the study's first language (an English-only study never speaks Welsh)."""
    languages = list(study.languages or ()) or ["en"]
    return wanted if wanted in languages else languages[0]


def programme_name(study, language: str) -> str:
    """How clients know the study's programme, in `language`, else English: on one line,
    since it goes into email subjects."""
    names = study.programme or {}
    name = names.get(language) or names.get("en") or next(iter(names.values()), "") or study.name
    return " ".join(str(name).split())
