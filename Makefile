# STONES Hotline: `make run` serves a demo, `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export FLASK_APP := app:create_app

.PHONY: system-deps install audio run test test-sqlite test-postgresql lint migrate seed scheduler bench clean

# Every Debian package `make test` and `make run` need, in one list (.ci/run uses it too):
# python3-venv for .venv; chromium for the browser tests; espeak-ng, sox and its mp3 format
# for the voice prompts; nginx and openssl for the deploy checks; postgresql-client for
# pg_isready; Pango, HarfBuzz and DejaVu (Vietnamese glyphs) for the brief's WeasyPrint PDF.
SYSTEM_PACKAGES := python3-venv chromium espeak-ng sox libsox-fmt-mp3 nginx openssl \
  postgresql-client libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

## Install the missing SYSTEM_PACKAGES when root; otherwise stop with the one command to run.
system-deps:
	@command -v dpkg >/dev/null || { echo "not Debian: make sure these are installed: $(SYSTEM_PACKAGES)"; exit 0; }; \
	need=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  else echo "missing Debian packages; run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y$$need"; exit 1; fi; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(VENV)/bin/flask migrate

seed: migrate
	$(VENV)/bin/flask seed-demo

## Render the voice prompts (gTTS, else espeak-ng; prompts without a file are spoken by <Say>).
audio: install
	$(VENV)/bin/flask audio build

## Serve web + scheduler on http://127.0.0.1:5000 (SQLite, simulator gateway).
run: system-deps seed audio
	$(PY) app.py

## The whole suite on SQLite, then on PostgreSQL (skipped when none is reachable).
test: system-deps install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/flask audio check
	$(MAKE) test-sqlite test-postgresql

test-sqlite: system-deps install
	HOTLINE_TEST_DB=sqlite $(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgresql: system-deps install
	HOTLINE_TEST_DB=postgresql $(VENV)/bin/pytest $(PYTEST_ARGS)

scheduler: install
	$(VENV)/bin/flask scheduler run

## Every benchmark, SQLite and PostgreSQL, figures as markdown tables (see BENCHMARKS.md).
## Runs them all, then fails if any found a correctness problem.
bench: install
	status=0; for b in outbox tick webhooks broadcast latency; do \
	  $(PY) -m bench.$$b || status=1; done; exit $$status

clean:
	rm -rf $(VENV) instance/hotline.db*
