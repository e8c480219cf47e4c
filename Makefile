# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Runs the app on the embedded SQLite database under instance/, with demo users and the
# scheduler in-process, at http://127.0.0.1:5000
run: install
	$(BIN)/certflow init --demo
	$(BIN)/certflow deploy processes --comment "make run" --user make-run
	CERTFLOW_SCHEDULER=1 $(BIN)/certflow run --host 127.0.0.1 --port 5000 --no-reload

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Lint, then the whole suite on SQLite and PostgreSQL (a private cluster is started when
# TEST_DATABASE_URL is not set).
test: lint
	$(BIN)/certflow validate processes
	$(BIN)/pytest

benchmark: install
	$(BIN)/python benchmarks/engine_cycle.py
