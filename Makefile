# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck bench docs clean fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the gateway on embedded defaults against the bundled emulators.
demo: $(STAMP)
	$(BIN)/hybrid-calendar demo

## Lint, type-check, then the whole test suite (SoftHSM tests need softhsm2: `.ci/run`
## installs it).
test: $(STAMP) lint typecheck
	$(BIN)/hybrid-calendar docs hooks --check
	$(BIN)/hybrid-calendar docs config --check
	$(BIN)/pytest -q

## Fuzz the admin API for 5 minutes (the default test run fuzzes it for 25 s).
fuzz: $(STAMP)
	HYBRID_CALENDAR_FUZZ_SECONDS=300 $(BIN)/pytest -q tests/admin/test_openapi.py

lint: $(STAMP)
	$(BIN)/ruff check core plugins tests bench

# Every folder holds its packages under their import names (pyproject's mypy_path).
PACKAGES = hybrid_calendar hybrid_calendar_google hybrid_calendar_google_emulator \
           hybrid_calendar_kms hybrid_calendar_webex hybrid_calendar_webex_emulator
typecheck: $(STAMP)
	$(BIN)/mypy $(addprefix -p ,$(PACKAGES))

## Benchmarks: each prints its figures next to a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python bench/parse_join.py
	$(BIN)/python bench/sync.py --users 1000 --events 50
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
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo-data
