#!/usr/bin/env bash
# Keep the Welsh catalog in step with the source, then compile it.
#
#   1. extract every marked string (babel.cfg; keywords _ gettext ngettext _l
#      lazy_gettext N_) into translations/messages.pot
#   2. merge that template into translations/cy/LC_MESSAGES/messages.po: new
#      strings arrive with an empty msgstr for a translator to fill in, and
#      strings no longer in the source are kept at the end as obsolete (#~)
#   3. compile the .po files into .mo files (build output, never committed)
#   4. list the messages that still need a Welsh translation
#
# Idempotent: a file is rewritten only when its messages change, so running it
# twice changes nothing (a new creation date alone does not count).
# tests/i18n/test_catalog.py fails while any Welsh msgstr is empty or fuzzy.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
POT=translations/messages.pot
PO=translations/cy/LC_MESSAGES/messages.po
# CLDR's six Welsh plural categories, in this order: zero, one, two, few, many, other.
CY_PLURALS='nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n==3 ? 3 : n==6 ? 4 : 5);'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

without_dates() { grep -v -e '^"POT-Creation-Date:' -e '^"PO-Revision-Date:' "$1"; }

replace_if_changed() {  # new_file target
  if [ -f "$2" ] && diff -q <(without_dates "$1") <(without_dates "$2") >/dev/null; then
    echo "$2: no change"
  else
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "$2: updated"
  fi
}

"$BIN/pybabel" -q extract -F babel.cfg -k _l -k N_ -k lazy_gettext \
  --no-location --sort-output --project surveys -o "$tmp/messages.pot" .
replace_if_changed "$tmp/messages.pot" "$POT"

if [ -f "$PO" ]; then
  cp "$PO" "$tmp/messages.po"
  "$BIN/pybabel" -q update -i "$POT" -o "$tmp/messages.po" -l cy --no-fuzzy-matching
else
  "$BIN/pybabel" -q init -i "$POT" -o "$tmp/messages.po" -l cy
  # A new catalog: CLDR's six plural forms, and a header that is not a guess (fuzzy).
  "$BIN/python" scripts/po_tool.py new-header "$tmp/messages.po" "$CY_PLURALS"
fi
replace_if_changed "$tmp/messages.po" "$PO"

"$BIN/pybabel" -q compile -d translations

"$BIN/python" scripts/po_tool.py todo "$PO"
