# STONES Hotline: `make run` serves a demo, `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export FLASK_APP := app:create_app

.PHONY: audio run test test-sqlite test-postgresql lint migrate seed scheduler bench clean

# Debian packages the Python ones need: WeasyPrint (the brief's PDF) loads Pango and
# HarfBuzz, and DejaVu has the Vietnamese glyphs. Installed when missing and we are root;
# otherwise named, so the PDF step's error is not a surprise.
DEBIAN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if command -v dpkg >/dev/null; then \
	  need=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	  if [ -n "$$need" ]; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$need >/dev/null; \
	    else echo "missing Debian packages (the brief's PDF needs them):$$need"; fi; \
	  fi; \
	fi
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
run: seed audio
	$(PY) app.py

## The whole suite on SQLite, then on PostgreSQL (skipped when none is reachable).
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/flask audio check
	$(MAKE) test-sqlite test-postgresql

test-sqlite: install
	HOTLINE_TEST_DB=sqlite $(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgresql: install
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
