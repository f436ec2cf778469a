#!/usr/bin/env bash
# Runs the whole suite on SQLite, then again on PostgreSQL when it is reachable.
# REQUIRE_POSTGRES=1 (set by .ci/run) turns an unreachable PostgreSQL into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${PG_URL:-postgres://root@127.0.0.1:5432/test}"
mkdir -p var/screenshots
status=0

echo "==> pytest on SQLite"
env -u DATABASE_URL $PY -m pytest -p no:cacheprovider "$@" || status=$?

if $PY scripts/pg_reachable.py "$PG_URL"; then
  echo "==> pytest on PostgreSQL ($PG_URL) - browser tests ran on SQLite above"
  DATABASE_URL="$PG_URL" $PY -m pytest -p no:cacheprovider -m "not browser" "$@" || status=$?
else
  if [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "==> PostgreSQL is NOT reachable at $PG_URL and REQUIRE_POSTGRES=1: failing"
    exit 1
  fi
  echo "==> PostgreSQL is NOT reachable at $PG_URL: the PostgreSQL run was SKIPPED (SQLite only)"
fi
exit $status
