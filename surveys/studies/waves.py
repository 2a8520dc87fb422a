"""A wave's name as readers see it: the study's label for it, else one made from its code.

Reports say "Six weeks on", not "wave2": the study's `label` in the reader's language (English
when it has none in that language). A wave without a label is named from its code, so every
existing study reads well without a change: "wave2" -> "Wave 2" (Welsh "Ton 2", through the
catalogue), "follow_up" -> "Follow up" (a code is not translated: the study's author gives a
label for that). Files and JSON keep the code (contract): it is what commands and columns use.
"""

from __future__ import annotations

import re

from surveys.i18n import N_, translate

NUMBERED = re.compile(r"(?:wave|w)_?(\d+)")
WAVE_NUMBER = N_("Wave {number}")


def name_from_code(code: str, language: str = "en") -> str:
    """A readable name for a wave code: "wave2" -> "Wave 2", "follow_up" -> "Follow up"."""
    numbered = NUMBERED.fullmatch(code)
    if numbered:
        return translate(WAVE_NUMBER, language).format(number=int(numbered.group(1)))
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else code


def wave_name(code: str, label: dict | None, language: str = "en") -> str:
    """The wave's name in `language`: its label there, else in English, else from its code."""
    label = label or {}
    return label.get(language) or label.get("en") or name_from_code(code, language)


def study_wave_name(study, code: str, language: str = "en") -> str:
    """The name of the study's wave `code` (a code the study does not have: from the code)."""
    wave = next((w for w in study.waves if w.code == code), None)
    return wave_name(code, wave.label if wave is not None else None, language)
