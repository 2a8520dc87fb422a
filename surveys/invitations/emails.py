"""Invitation and reminder emails, rendered in the client's language without Flask.

The scheduler sends mail outside any web request, so this module keeps its own
Jinja environment with Babel's translations for the client's locale.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from surveys.i18n import client_language, programme_name
from surveys.models import Wave
from surveys.studies.message_texts import study_words, wave_words

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "emails"


@cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    translations = Translations.load(str(TRANSLATIONS), [language], "messages")
    env.install_gettext_translations(translations, newstyle=True)
    return env


def build_email(
    *,
    kind: str,
    to: str,
    sender: str,
    language: str,
    link: str,
    closes_on: date,
    wave: Wave,
    stop_link: str | None = None,
) -> EmailMessage:
    """The email for an invitation to `wave`, in the client's `language` when the wave's study
    has it (else the study's first), naming the study's programme, in the study's and wave's
    own words where they have them (surveys/studies/message_texts.py). `stop_link` lets the
    client stop further messages (surveys/web/optout.py): every message sent carries it."""
    study = wave.study
    language = client_language(study, language)
    env = _environment(language)
    context = {
        "link": link,
        # en_GB: "30 March 2026", as a UK reader expects.
        "closes_on": format_date(
            closes_on, "long", locale="en_GB" if language == "en" else language
        ),
        "wave_code": wave.code,
        "programme": programme_name(study, language),
        # A later wave than the study's first (waves are ordered by offset).
        "follow_up": bool(study.waves) and wave.id != study.waves[0].id,
        "reminder": kind == "reminder",
        "language": language,
        "stop_link": stop_link,
        **study_words(study, language),
        **wave_words(wave, language),
    }
    # One line, whatever the study's words: a header cannot hold a line break.
    context["subject"] = " ".join(env.get_template("subject.txt").render(context).split())
    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="surveys.invalid")
    message.set_content(env.get_template("invitation.txt").render(context))
    message.add_alternative(env.get_template("invitation.html").render(context), subtype="html")
    # After set_content, which would otherwise drop it.
    message["Content-Language"] = language
    return message
