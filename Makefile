# Two commands on a fresh machine:  `make demo`  and  `make test`.
# One file to install elsewhere:     `make binary`  (dist/hybrid-calendar.pyz).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo demo-once test lint typecheck bench docs clean fuzz binary binary-check chaos

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the gateway on embedded defaults against the bundled emulators: it walks through the
## mission step by step, then keeps serving (the admin page and each demo user's page).
demo: $(STAMP)
	$(BIN)/hybrid-calendar demo

## The same walkthrough on a skipping clock, each step checked against the emulators;
## exits 0 only if every step passed.
demo-once: $(STAMP)
	$(BIN)/hybrid-calendar demo --once

## One self-contained file, a shiv zipapp: `python3 dist/hybrid-calendar.pyz serve|demo|...`
## on any machine with Python 3.11+ (same OS and CPU kind: it holds compiled wheels such as
## cryptography's). It pins what the tests ran against (the venv's `pip freeze`). The
## PKCS#11 and PostgreSQL extras stay out: install python-pkcs11 or psycopg next to it.
BINARY    = dist/hybrid-calendar.pyz
BUILD_ENV = build/binary-venv
binary: $(BINARY)

$(BUILD_ENV)/.installed:
	rm -rf $(BUILD_ENV)
	$(PYTHON) -m venv $(BUILD_ENV)
	$(BUILD_ENV)/bin/pip install --quiet 'shiv>=1.0.6'
	touch $@

$(BINARY): $(STAMP) $(BUILD_ENV)/.installed pyproject.toml \
           $(shell find core plugins -type f ! -name '*.pyc' 2>/dev/null)
	mkdir -p dist build
	$(BIN)/pip freeze --exclude-editable > build/constraints.txt
	$(BUILD_ENV)/bin/shiv --quiet --compressed --reproducible -c hybrid-calendar \
	    -p '/usr/bin/env python3' -o $@.tmp . --constraint build/constraints.txt
	mv $@.tmp $@
	@ls -l $@

## Run the binary where only Python is: a clean venv, every command, an entry-point plugin,
## serve, and `demo --once` (what CI does).
binary-check: $(BINARY)
	bash .ci/binary-check $(BINARY)

## Lint, type-check, then the whole test suite (SoftHSM tests need softhsm2: `.ci/run`
## installs it).
test: $(STAMP) lint typecheck
	$(BIN)/hybrid-calendar docs hooks --check
	$(BIN)/hybrid-calendar docs config --check
	$(BIN)/pytest -q

## Fuzz the admin API for 5 minutes (the default test run fuzzes it for 25 s) and compare the
## join detector with its frozen copy on ten times the default run's generated events.
fuzz: $(STAMP)
	HYBRID_CALENDAR_FUZZ_SECONDS=300 $(BIN)/pytest -q tests/admin/test_openapi.py \
		tests/join_info/test_differential.py

## Chaos harness (minutes, not part of `make test`): kill -9 runs of a real `serve`, the
## Google emulator's fault matrix against the quota budget, a full disk and a read-only data
## directory, the stateful sync test with many examples. Its last line is the summary.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run

lint: $(STAMP)
	$(BIN)/ruff check core plugins tests bench examples

# Every folder holds its packages under their import names (pyproject's mypy_path).
PACKAGES = hybrid_calendar hybrid_calendar_google hybrid_calendar_google_emulator \
           hybrid_calendar_kms hybrid_calendar_webex hybrid_calendar_webex_emulator
# The example third-party plugins, each a distribution of its own (docs/plugin-guide.md);
# the test run pip-installs them into temporary directories (tests/examples/).
EXAMPLE_PLUGINS = $(wildcard examples/*/pyproject.toml)
# bench/ imports its extra's libraries (aiohttp, gcal-sync): installed once, so mypy checks
# the benchmarks against their real types (not Any, as a missing library would be).
BENCH_STAMP = $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

typecheck: $(STAMP) $(BENCH_STAMP)
	$(BIN)/mypy $(addprefix -p ,$(PACKAGES))
	$(BIN)/mypy tests bench
	for example in $(dir $(EXAMPLE_PLUGINS)); do \
		$(BIN)/mypy $${example}src $${example}tests || exit 1; done

## Benchmarks: each prints its figures next to a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/parse_join.py
	$(BIN)/python bench/sync.py --users 1000 --events 50
	$(BIN)/python bench/sync.py --end-to-end --users 1000 --events 50 --rounds 2
	$(BIN)/python bench/crypto_seal.py
	$(BIN)/python bench/request_build.py
	$(BIN)/python bench/webex.py --users 100 --events 10
	$(BIN)/python bench/join_buttons.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/google_calls.py
	$(BIN)/python bench/webhook.py

docs: $(STAMP)
	$(BIN)/hybrid-calendar docs hooks
	$(BIN)/hybrid-calendar docs config

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache demo-data
