#!/usr/bin/env bash
# The whole test suite: lint, then every test on SQLite, then again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "== ruff"
$BIN/ruff check .
echo "== tests on SQLite"
$BIN/pytest -q "$@"
echo "== tests on PostgreSQL"
scripts/with-postgres.sh $BIN/pytest -q -m "not browser" "$@"
