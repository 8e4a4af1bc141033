# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo serve-demo test lint format bench clean

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

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
