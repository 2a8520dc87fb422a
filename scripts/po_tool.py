"""Small helpers for scripts/translations.sh (Babel's own API, no gettext tools needed).

    po_tool.py new-header PO PLURAL_FORMS   set the Plural-Forms header, clear the fuzzy header
    po_tool.py todo PO                      list messages with an empty or fuzzy translation
"""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def _read(path: str):
    with open(path, "rb") as handle:
        return read_po(handle, locale="cy")


def new_header(path: str, plural_forms: str) -> None:
    catalog = _read(path)
    catalog.mime_headers = [
        (name, plural_forms if name == "Plural-Forms" else value)
        for name, value in catalog.mime_headers
    ]
    catalog.fuzzy = False
    with open(path, "wb") as handle:
        write_po(handle, catalog)


def untranslated(catalog) -> list[str]:
    """msgids whose translation is fuzzy or has any empty form."""
    todo = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            todo.append(message.id if isinstance(message.id, str) else message.id[0])
    return todo


def todo(path: str) -> int:
    missing = untranslated(_read(path))
    if not missing:
        print(f"{path}: every message is translated")
        return 0
    print(f"{path}: {len(missing)} message(s) still need a Welsh translation (or are fuzzy):")
    for msgid in missing:
        print(f"  {msgid}")
    return 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "new-header":
        new_header(*args)
    elif command == "todo":
        sys.exit(todo(*args))
    else:
        sys.exit(__doc__)
