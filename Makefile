# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo serve-demo test lint format bench i18n i18n-check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/batch-scheduler demo

# the web page on the sandbox (seeded faults on), with a demo account: prints URL and password
serve-demo: $(STAMP)
	$(BIN)/batch-scheduler demo --web

# PostgreSQL, Chromium and LibreOffice for the tests that drive them: installed with apt
# when run as root on Debian; elsewhere it says how, and only those tests skip.
system-deps:
	@./scripts/system-deps

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check batch_scheduler tests bench
	$(BIN)/ruff format --check batch_scheduler tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format batch_scheduler tests bench
	$(BIN)/ruff check --fix batch_scheduler tests bench

# BENCH_BASELINE=DIR (another checkout, e.g. `git archive main | tar -x -C DIR`): the intake
# and workbook benches run its code too, taking turns, and report after / before
bench: $(STAMP)
	$(BIN)/python -m bench

# the message catalogues (babel.cfg): extract the messages of the code and the web page's
# templates into messages.pot, bring every .po in step (new: untranslated, changed: fuzzy),
# then check that every message has a reviewed Welsh translation with the same placeholders
i18n: $(STAMP)
	$(BIN)/python -m batch_scheduler.i18n.maintain

# the same check, changing nothing (the tests in tests/i18n/ run it too)
i18n-check: $(STAMP)
	$(BIN)/python -m batch_scheduler.i18n.maintain check

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
