# OpenIOP: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://root@127.0.0.1:5432/test
export PYTHONPATH := $(CURDIR)/src
export DJANGO_SETTINGS_MODULE := openiop.settings

.PHONY: run test test-sqlite test-postgres bench lint setup migrate demo demo-reset clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
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
	@echo "==> serving OpenIOP on http://127.0.0.1:8000  (Ctrl-C to stop)"
	@OPENIOP_DEMO=1 OPENIOP_REQUIRE_MFA=0 $(PY) -m django runserver 127.0.0.1:8000

test: $(STAMP)
	@bash scripts/test.sh

bench: $(STAMP)
	@mkdir -p var/bench
	@bash scripts/bench.sh

lint: $(STAMP)
	@$(VENV)/bin/ruff check src tests benchmarks
	@$(PY) -m django makemigrations --check --dry-run >/dev/null && echo "migrations: up to date"

clean:
	rm -rf $(VENV) var
