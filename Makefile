# Two commands do everything (see README): `make run` and `make test`.
# Each step leaves a stamp, so running a command again does nothing twice.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps

.PHONY: run test setup lint translations extract-messages update-messages system-deps clean bench

run: setup
	$(BIN)/surveys db upgrade
	$(BIN)/surveys demo --if-empty
	$(BIN)/surveys run --host 127.0.0.1 --port $${PORT:-5000}

test: setup system-deps
	scripts/test.sh

setup: $(STAMPS)/venv $(STAMPS)/npm $(STAMPS)/translations

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Compiled catalogs are build output (.mo files are never edited or committed).
$(STAMPS)/translations: $(STAMPS)/venv $(wildcard translations/*/LC_MESSAGES/messages.po)
	@mkdir -p $(STAMPS)
	$(BIN)/pybabel -q compile -d translations
	@touch $@

# Debian packages the browser and PostgreSQL tests need (root, as on CI machines).
system-deps: $(STAMPS)/system-deps
$(STAMPS)/system-deps:
	@mkdir -p $(STAMPS)
	scripts/install-system-deps.sh
	@touch $@

# Welsh catalog upkeep in one idempotent step: extract, update, compile, and list the
# messages still to translate (tests/i18n/test_catalog.py fails until there are none).
translations: $(STAMPS)/venv
	scripts/translations.sh

extract-messages: $(STAMPS)/venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext -o translations/messages.pot --no-location --sort-output --project surveys .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l cy --no-fuzzy-matching

# Benchmarks with ratios against a throwaway PostgreSQL (benchmarks/README.md). Sizes:
# `make bench BENCH_ARGS="--sizes 10000,100000"`; results: BENCH_ARGS="--write benchmarks/results.md".
bench: setup system-deps $(STAMPS)/bench
	scripts/with-postgres.sh $(BIN)/python -m benchmarks $(BENCH_ARGS)

$(STAMPS)/bench: pyproject.toml
	@mkdir -p $(STAMPS)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	@touch $@

lint: $(STAMPS)/venv
	$(BIN)/ruff check .

clean:
	rm -rf $(STAMPS) $(VENV) node_modules
