# OpenIOP: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
# Python 3.11 (pyproject requires it): python3.11 when present, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://root@127.0.0.1:5432/test
export PYTHONPATH := $(CURDIR)/src
export DJANGO_SETTINGS_MODULE := openiop.settings

.PHONY: run test test-dates test-sqlite test-postgres bench cluster-test lint setup migrate demo demo-reset clean clean-test-templates

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "OpenIOP needs Python 3.11: make PYTHON=/path/to/python3.11")'
	@echo "==> installing pinned dependencies into $(VENV)"
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

migrate: $(STAMP)
	@mkdir -p var
	@$(PY) -m django migrate --noinput

demo: migrate
	@$(VENV)/bin/openiop demo

demo-reset: $(STAMP)
	@rm -f var/openiop.sqlite3
	@$(MAKE) --no-print-directory demo

run: demo
	@$(VENV)/bin/openiop logins
	@echo "==> serving OpenIOP on http://127.0.0.1:$(PORT) with one background worker  (Ctrl-C stops both)"
	@PY=$(PY) PORT=$(PORT) bash scripts/run.sh

test: $(STAMP)
	@bash scripts/test.sh

# The suite with its clock started at a Sunday, a Monday, both 2026 DST changes, New
# Year's Eve and Day, and 29 February 2028 (CI runs it after `make test`).
test-dates: $(STAMP)
	@bash scripts/test_dates.sh

# Every benchmark, or some: make bench BENCH=scheduler BENCH_SCHEDULER_SIZES=300,1000
# (names as in benchmarks/bench_<name>.py; the variables are in scripts/bench.sh).
bench: $(STAMP)
	@mkdir -p var/bench
	@bash scripts/bench.sh $(BENCH)

# Two web nodes, two workers, a private PostgreSQL and Redis db 9 under load, with a web node,
# a worker and PostgreSQL killed or restarted mid-load (docs/deploy.md, "Cluster test").
cluster-test: $(STAMP)
	@mkdir -p var/bench
	@$(PY) scripts/cluster_test.py

# ruff, the app map's import contracts (pyproject.toml [tool.importlinter]), mypy with
# django-stubs (pyproject.toml [tool.mypy]) and the migrations check.
lint: $(STAMP)
	@$(VENV)/bin/ruff check src tests benchmarks
	@$(VENV)/bin/lint-imports --no-logo
	@$(PY) -m mypy
	@$(PY) -m django makemigrations --check --dry-run >/dev/null && echo "migrations: up to date"

clean:
	rm -rf $(VENV) var

# The suite copies a migrated template database per worker (tests/template_db.py); a stale
# one is never used again, this removes them all (and the cluster test's kept schema).
clean-test-templates:
	rm -rf var/test-templates var/cluster-templates
	-psql "$(PG_URL)" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'openiop_tpl_%'" 2>/dev/null \
	  | while read -r db; do psql "$(PG_URL)" -qc "DROP DATABASE IF EXISTS \"$$db\""; done
