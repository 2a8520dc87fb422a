"""Invisible characters out of text people typed or imported: one rule for every entry path.

Format characters (Unicode category Cf: right-to-left overrides U+202E, isolates
U+2066-2069, zero-width spaces U+200B, byte order marks U+FEFF, soft hyphens...) change how
text is shown without being seen, so a reference or an answer can look like something it is
not. Control characters (Cc) other than the kept line breaks and tabs are noise from other
systems. Both go; letters of every script (Welsh ŵ ŷ, accents) and emoji stay, including
emoji joined by a zero-width joiner and the tag sequences of flags such as Wales's.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
BLACK_FLAG = "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)  # flag tag letters and the cancel tag closing them


def _emoji(char: str) -> bool:
    """A pictograph, or the emoji presentation selector that may follow one."""
    return char == "\ufe0f" or unicodedata.category(char) == "So" or ord(char) >= 0x1F000


def strip_invisible(text: str, keep: str = "\n\t") -> str:
    """`text` without format characters and without control characters not in `keep`.

    Line endings become "\\n" first, so a kept "\\n" stands for any line break.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, checked at C speed
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc":
            if char in keep:
                out.append(char)
        elif category == "Cf":
            if char == ZWJ and out and i + 1 < len(text) and _emoji(out[-1]) \
                    and _emoji(text[i + 1]):
                out.append(char)  # an emoji sequence (e.g. family, rainbow flag)
            elif ord(char) in _TAGS and out and (out[-1] == BLACK_FLAG or ord(out[-1]) in _TAGS):
                out.append(char)  # subdivision flags: 🏴 followed by tag letters
        else:
            out.append(char)
    return "".join(out)
