# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

MODELER_CHECK := tools/modeler-check

.PHONY: run test install lint benchmark modeler-check system-deps run-deps test-deps vendor-bpmn-js \
	translations production

# Machine packages, in two sets (tools/system-deps.sh says what it installs and why before doing
# it, installs only what is missing, never upgrades anything else, and needs root only when
# something is missing):
# - run-deps: what running needs — a CJK font for certificate PDFs (without it every Chinese
#   character prints as a box, silently) and pango, which weasyprint draws them with;
# - test-deps: what only `make test` needs — poppler-utils (pdftotext, PDF tests) and Debian's
#   chromium (browser tests; never `playwright install`: it downloads a browser, which fails
#   here). CI runs as root on a fresh machine; elsewhere `sudo make test-deps`.
run-deps:
	@sh tools/system-deps.sh run

test-deps:
	@sh tools/system-deps.sh run test

system-deps: test-deps

# Refresh the committed bpmn-js viewer (webapp/static/vendor/bpmn-js) from npm, pinned version.
vendor-bpmn-js:
	$(MAKE) -C tools/vendor-bpmn-js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Runs the app on the embedded SQLite database under instance/, with demo users and the
# scheduler in-process, at http://127.0.0.1:5000
run: run-deps install
	$(BIN)/certflow init --demo
	$(BIN)/certflow deploy processes --comment "make run" --user make-run
	CERTFLOW_SCHEDULER=1 $(BIN)/certflow run --host 127.0.0.1 --port 5000 --no-reload

# The production profile (README "Production"): PostgreSQL from CERTFLOW_DATABASE_URL, schema
# upgraded, processes/ deployed (a no-op when unchanged), then gunicorn workers and a separate
# timer scheduler (`certflow serve`). No demo users.
production: run-deps install
	@case "$$CERTFLOW_DATABASE_URL" in postgresql*) ;; *) \
	  echo "make production runs on PostgreSQL: set CERTFLOW_DATABASE_URL=postgresql://user@host/db" >&2; \
	  exit 1;; esac
	$(BIN)/certflow init
	$(BIN)/certflow deploy processes --comment "make production" --user make-production
	$(BIN)/certflow serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(MODELER_CHECK)/node_modules/.package-lock.json: $(MODELER_CHECK)/package.json $(MODELER_CHECK)/package-lock.json
	cd $(MODELER_CHECK) && npm ci --no-audit --no-fund

# Every BPMN/DMN file under processes/ opens cleanly in bpmn.io / Camunda Modeler, and the
# diagrams lint clean with the rules the studio's modeler uses (tools/vendor-bpmn-js/.bpmnlintrc).
modeler-check: $(MODELER_CHECK)/node_modules/.package-lock.json
	node $(MODELER_CHECK)/check.mjs processes
	$(MODELER_CHECK)/node_modules/.bin/bpmnlint --config tools/vendor-bpmn-js/.bpmnlintrc \
		--max-warnings=0 processes/*.bpmn

# Lint, the import contracts (pyproject [tool.importlinter]), then the whole suite on SQLite and
# PostgreSQL (a private cluster is started when TEST_DATABASE_URL is not set).
test: test-deps lint modeler-check
	$(BIN)/lint-imports
	$(BIN)/certflow validate processes
	$(BIN)/pytest

# Messages: extract, merge into each catalogue (then translate the new entries), compile the .mo
# files. Two catalogues: the web's (babel.cfg: webapp's Python and templates; compiled at app
# start too) and the letters' (babel-letters.cfg: domain/letters, Babel domain `letters`; a stale
# or missing .mo is compiled in memory when a letter is rendered).
CATALOGS := webapp/translations
LETTER_CATALOGS := domain/letters/translations
PROCESS_CATALOGS := processes/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 \
	    --project certflow --sort-by-file -w 100 -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) -N --ignore-obsolete -w 100
	$(BIN)/pybabel compile -d $(CATALOGS)
	$(BIN)/pybabel extract -F babel-letters.cfg --project certflow --sort-by-file -w 100 \
	    -o $(LETTER_CATALOGS)/letters.pot .
	$(BIN)/pybabel update -D letters -i $(LETTER_CATALOGS)/letters.pot -d $(LETTER_CATALOGS) \
	    -N --ignore-obsolete -w 100
	$(BIN)/pybabel compile -D letters -d $(LETTER_CATALOGS)
	# The texts of the definitions (Chinese source in processes/, English in processes.po; read
	# from the deployed copy at run time, so no compile step): then translate the new entries.
	$(BIN)/pybabel extract -F processes/babel.cfg --project "certflow processes" --sort-by-file \
	    -w 100 -o $(PROCESS_CATALOGS)/processes.pot processes
	$(BIN)/pybabel update -D processes -i $(PROCESS_CATALOGS)/processes.pot -d $(PROCESS_CATALOGS) \
	    -N --ignore-obsolete -w 100

# The benchmarks/ scripts, each printing its figure and the ratio to its goal on one line
# (PostgreSQL ones start the private cluster the tests use). The engine cycle runs on SQLite and
# on PostgreSQL; the lifecycle simulation runs 150 certificates through 3 years (≈ 4 min).
# `make benchmark BIG=N` also runs the data-volume one on N generated certificates and the
# simulation at 10 000 certificates on PostgreSQL (hours today: see its extrapolated ratio at the
# default size).
BIG ?=
benchmark: install
	$(BIN)/python benchmarks/engine_cycle.py
	$(BIN)/python benchmarks/engine_cycle.py --postgres
	$(BIN)/python benchmarks/timer_lateness.py
	$(BIN)/python benchmarks/http_completions.py
	$(BIN)/python benchmarks/lifecycle_simulation.py
	@if [ -n "$(BIG)" ]; then $(BIN)/python benchmarks/data_volume.py --certificates $(BIG) && \
	$(BIN)/python benchmarks/lifecycle_simulation.py --certificates 10000 --postgres; \
	else echo "data volume and the 10k-certificate simulation: make benchmark BIG=100000"; fi
