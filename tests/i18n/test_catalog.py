"""The Welsh catalog is complete and in step with the source; otherwise the build fails.

Every failure names the messages concerned and the one command that fixes the
files: `scripts/translations.sh` (extract, update the Welsh catalog, compile,
and list what still needs translating). Then fill in each empty `msgstr` in
translations/cy/LC_MESSAGES/messages.po, in Welsh, and run it again.

Instrument texts (questions, answers, titles) are not in this catalog: they
sit beside the English in instruments/definitions/*.yaml, where the loader
refuses any text without `cy` and tests/instruments/test_shipped_instruments.py
checks every shipped instrument.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "translations" / "messages.pot"
PO = ROOT / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
FIX = "Run scripts/translations.sh"
# The same extraction as scripts/translations.sh and `make extract-messages`.
EXTRACT = ["-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
           "-k", "lazy_gettext", "--no-location", "--sort-output", "--project", "surveys"]
# CLDR's Welsh plural categories, in the catalog's order.
WELSH_PLURALS = ("zero", "one", "two", "few", "many", "other")


def _read_po(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="cy" if path.suffix == ".po" else None)


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def _shown(ids) -> str:
    return "\n".join(f"  {i[0] if isinstance(i, tuple) else i!r}" for i in sorted(ids, key=str))


@pytest.fixture(scope="module")
def welsh():
    assert PO.is_file(), f"There is no Welsh catalog at {PO.relative_to(ROOT)}. {FIX}."
    return _read_po(PO)


@pytest.fixture(scope="module")
def source_ids(tmp_path_factory) -> set:
    out = tmp_path_factory.mktemp("extract") / "messages.pot"
    result = subprocess.run(
        [sys.executable, *EXTRACT, "-o", str(out), "."],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return _ids(_read_po(out))


def test_every_welsh_message_is_translated_and_none_is_fuzzy(welsh):
    missing, fuzzy = [], []
    for message in welsh:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            fuzzy.append(message.id)
        elif not all(form.strip() for form in forms):
            missing.append(message.id)
    assert not missing and not fuzzy, (
        f"The Welsh catalog is incomplete. {len(missing)} message(s) have no Welsh "
        f"translation:\n{_shown(missing)}\n{len(fuzzy)} message(s) are fuzzy (a guess to "
        f"check, then remove the '#, fuzzy' line):\n{_shown(fuzzy)}\nTranslate them in "
        f"{PO.relative_to(ROOT)}, then {FIX}."
    )


def test_the_welsh_catalog_has_the_six_welsh_plural_forms(welsh):
    assert welsh.num_plurals == len(WELSH_PLURALS), (
        f"Plural-Forms in {PO.relative_to(ROOT)} must give Welsh's six forms: "
        "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n==3 ? 3 : n==6 ? 4 : 5);"
    )
    # Sample numbers of each CLDR category land on forms 0 to 5 in order.
    from gettext import c2py

    rule = c2py(welsh.plural_expr)
    assert [rule(n) for n in (0, 1, 2, 3, 6, 7, 4, 11, 100)] == [0, 1, 2, 3, 4, 5, 5, 5, 5]
    short = [m.id[0] for m in welsh if isinstance(m.id, tuple) and len(m.string) != 6]
    assert not short, f"Plural entries without all six Welsh forms:\n{_shown(short)}"


def test_welsh_placeholders_match_the_english(welsh):
    problems = [
        f"  {message.id!r}: {error}"
        for message, errors in welsh.check()
        for error in errors
    ]
    assert not problems, "Welsh placeholders differ from the English:\n" + "\n".join(problems)


def test_the_template_holds_exactly_the_strings_marked_in_the_source(source_ids):
    assert POT.is_file(), f"There is no {POT.relative_to(ROOT)}. {FIX}."
    template = _ids(_read_po(POT))
    new, gone = source_ids - template, template - source_ids
    assert not new and not gone, (
        f"{POT.relative_to(ROOT)} is out of date. {FIX}, then translate the new messages.\n"
        f"Marked in the source but not in the template ({len(new)}):\n{_shown(new)}\n"
        f"In the template but no longer in the source ({len(gone)}):\n{_shown(gone)}"
    )


def test_the_welsh_catalog_follows_the_template(welsh):
    template = _ids(_read_po(POT))
    current = {m.id for m in welsh if m.id}  # obsolete (#~) entries are not iterated
    new, gone = template - current, current - template
    assert not new and not gone, (
        f"{PO.relative_to(ROOT)} does not follow the template. {FIX}.\n"
        f"Missing from the Welsh catalog ({len(new)}):\n{_shown(new)}\n"
        f"No longer in the template ({len(gone)}):\n{_shown(gone)}"
    )


def test_the_compiled_catalog_is_the_current_one(welsh):
    assert MO.is_file(), f"{MO.relative_to(ROOT)} is not compiled. {FIX} (or `make setup`)."
    with MO.open("rb") as handle:
        compiled = read_mo(handle)
    def forms(string) -> tuple:
        return tuple(string) if isinstance(string, list | tuple) else (string,)

    # Untranslated messages are not compiled (the test above names them).
    expected = {m.id: forms(m.string) for m in welsh
                if m.id and not m.fuzzy and all(forms(m.string))}
    stale = [msgid for msgid, string in expected.items()
             if msgid not in compiled or forms(compiled[msgid].string) != string]
    assert not stale, (
        f"{MO.relative_to(ROOT)} is older than the catalog. {FIX} (or `make setup`).\n"
        f"Compiled differently or not at all:\n{_shown(stale)}"
    )
