#!/usr/bin/env bash
# Runs the whole suite on SQLite, then again on PostgreSQL when it is reachable.
# REQUIRE_POSTGRES=1 (set by .ci/run) turns an unreachable PostgreSQL into a failure.
#
# Both runs use every core (pytest-xdist, PYTEST_WORKERS, default: the number of cores)
# and a random test order (pytest-randomly). The seed is printed; PYTEST_SEED=<seed>
# replays the same order. OPENIOP_TEST_NOW=<ISO instant> starts every test's clock there
# (scripts/test_dates.sh runs the suite at the awkward days of the calendar).
set -uo pipefail
cd "$(dirname "$0")/.."
# Keep compiled and assertion-rewritten test modules between processes: with
# PYTHONDONTWRITEBYTECODE set (some shells set it) every xdist worker of every run
# recompiled and re-rewrote the whole suite (about 9 s of CPU each).
unset PYTHONDONTWRITEBYTECODE
PY=.venv/bin/python
PG_URL="${PG_URL:-postgres://root@127.0.0.1:5432/test}"
WORKERS="${PYTEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}"
# Browser tests spend about half their time waiting (for chromium to draw, for a page's
# requests, for the idle sign-out) rather than computing: twice as many workers as cores
# keep the cores busy through those waits (PYTEST_BROWSER_WORKERS overrides).
BROWSER_WORKERS="${PYTEST_BROWSER_WORKERS:-$(( WORKERS * 2 ))}"
SEED="${PYTEST_SEED:-$($PY -c 'import random; print(random.randrange(1, 2**31))')}"
SKIP_BROWSER="${SKIP_BROWSER:-0}"
mkdir -p var/screenshots
status=0
started=$(date +%s)
clock="${OPENIOP_TEST_NOW:-real time}"

echo "==> random test order, seed $SEED (replay: PYTEST_SEED=$SEED make test); clock: $clock"

echo "==> pytest on SQLite ($WORKERS workers)"
env -u DATABASE_URL $PY -m pytest -p no:cacheprovider -n "$WORKERS" --dist worksteal -p randomly \
  --randomly-seed="$SEED" -m "not browser" "$@" || status=$?
echo "==> SQLite run done after $(( $(date +%s) - started )) s"
if [ "$SKIP_BROWSER" != "1" ]; then
  # Browser tests on a file database (tmpfs), so the live server's threads do not share one
  # SQLite connection (see OPENIOP_TEST_SQLITE_FILE in settings.py).
  shm="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"
  # Collect only tests/browser (where the marker is given) unless paths were passed.
  where=(tests/browser)
  for arg in "$@"; do case "$arg" in tests/*|./tests/*) where=() ;; esac; done
  echo "==> browser tests on SQLite ($BROWSER_WORKERS workers, database files in $shm)"
  env -u DATABASE_URL OPENIOP_TEST_SQLITE_FILE="$shm/openiop-test.sqlite3" $PY -m pytest \
    -p no:cacheprovider -n "$BROWSER_WORKERS" --dist worksteal -p randomly --randomly-seed="$SEED" -m browser "${where[@]}" "$@" \
    || status=$?
  rm -rf "$shm"
  echo "==> browser run done after $(( $(date +%s) - started )) s"
fi

if [ "${SKIP_POSTGRES:-0}" = "1" ]; then
  echo "==> PostgreSQL run skipped (SKIP_POSTGRES=1)"
elif $PY scripts/pg_reachable.py "$PG_URL"; then
  echo "==> pytest on PostgreSQL ($PG_URL, $WORKERS workers) - browser tests ran on SQLite above"
  # Tests that cannot reach a database already ran above (tests/conftest.py).
  OPENIOP_SKIP_DATABASE_FREE=1 DATABASE_URL="$PG_URL" $PY -m pytest -p no:cacheprovider -n "$WORKERS" --dist worksteal -p randomly \
    --randomly-seed="$SEED" -m "not browser" "$@" || status=$?
else
  if [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "==> PostgreSQL is NOT reachable at $PG_URL and REQUIRE_POSTGRES=1: failing"
    exit 1
  fi
  echo "==> PostgreSQL is NOT reachable at $PG_URL: the PostgreSQL run was SKIPPED (SQLite only)"
fi
echo "==> make test finished in $(( $(date +%s) - started )) s with status $status (seed $SEED)"
exit $status
