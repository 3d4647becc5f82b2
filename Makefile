# gridmap — two commands: `make run` serves the demo, `make test` runs every test.
# Both do all set-up first (system packages, virtualenv, static assets, database, migrations).
# DATABASE_URL=postgresql+psycopg://… points them at an existing PostGIS instead of the
# project-local cluster in .local/pg.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PORT ?= 5000
export PORT

VENV := .venv
PY := $(VENV)/bin/python
GRIDMAP := $(VENV)/bin/gridmap

.PHONY: run test test-fast test-web stop setup database bench bench-map bench-events bench-register lint format check-port help lock
# The set-up steps share .venv, static/vendor and the cluster: never run them in parallel.
.NOTPARALLEL:

help:
	@echo "make run    set up everything and serve http://127.0.0.1:$(PORT)"
	@echo "make test   set up everything and run the whole test suite"
	@echo "make test-fast  only the tests that need no database (pytest -m 'not db')"
	@echo "make test-web   everything but the browser tests (pytest -m 'not e2e')"
	@echo "make stop   stop the project-local PostgreSQL cluster"
	@echo "make bench  print performance figures"
	@echo "make bench-map  only the map-at-city-scale figures (scales 1 and 20; SCALES=1,100)"
	@echo "make bench-events  only the event figures (10 k and 1 M events)"
	@echo "make bench-register  only the 一标三实 figures (2 M people)"
	@echo "make lint   ruff check and format check"
	@echo "make lock   re-resolve Python packages into constraints.txt"

run: check-port setup
	@if [ -z "$${DATABASE_URL:-}" ]; then scripts/pg.sh start; fi
	@$(GRIDMAP) prepare
	@scripts/serve.sh

test: setup
	@scripts/system-packages.sh test
	@if [ -z "$${DATABASE_URL:-}" ]; then scripts/pg.sh start; fi
	$(PY) -m pytest

# The markers are given in tests/conftest.py: db (needs PostgreSQL), e2e (headless Chromium).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not db"

test-web: setup
	@if [ -z "$${DATABASE_URL:-}" ]; then scripts/pg.sh start; fi
	$(PY) -m pytest -m "not e2e"

stop:
	@scripts/pg.sh stop

check-port:
	@scripts/port-free.sh $(PORT)

setup: $(VENV)/.installed static/vendor/.installed

database:
	@if [ -z "$${DATABASE_URL:-}" ]; then scripts/pg.sh start; fi
	@$(GRIDMAP) db upgrade

$(VENV)/.installed: pyproject.toml constraints.txt
	@scripts/system-packages.sh run
	@if [ ! -x $(PY) ]; then python3 -m venv $(VENV); fi
	@echo "gridmap: installing Python dependencies into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Re-resolve the Python packages to their newest versions and record them in constraints.txt.
lock:
	@rm -rf .lock-venv && python3 -m venv .lock-venv
	@.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@{ sed -n '1,3p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.new
	@mv constraints.new constraints.txt && rm -rf .lock-venv
	@echo "gridmap: constraints.txt updated; run make test before committing it"

# npm ci installs the pinned front-end packages; static/vendor/ is what the app serves.
static/vendor/.installed: package.json package-lock.json
	@scripts/system-packages.sh run
	@echo "gridmap: installing front-end packages into static/vendor"
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -rf static/vendor && mkdir -p static/vendor && cp -a node_modules/. static/vendor/
	@touch $@

bench: setup database
	@$(PY) -m bench

bench-map: setup database
	@$(PY) -m bench.mapopen --scales $${SCALES:-1,20}

bench-events: setup database
	@$(PY) -m bench.events

bench-register: setup database
	@$(PY) -m bench.register

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
