#!/usr/bin/env bash
# The suite at the awkward days of the calendar: every test's clock starts at each instant
# below (OPENIOP_TEST_NOW, see tests/conftest.py), in a random order, alternating the two
# databases so both meet every kind of day. The browser tests run at the Sunday instant.
#
#   Sunday                        2026-11-29 10:00
#   Monday, just after midnight   2026-11-30 00:30 ("earlier this week" is minutes long;
#                                 tests that placed a session hours ago this week failed here)
#   DST starts (23-hour day)      2026-03-08 12:00
#   DST ends (25-hour day)        2026-11-01 12:00
#   New Year's Eve, late evening  2026-12-31 22:00 (already 1 January in UTC, so the
#                                 local and UTC dates, weeks and years all differ)
#   Leap day                      2028-02-29 10:00
#
# Times are the clinics' default zone (America/New_York). A failure names the instant.
#
# The scheduling engine's tests (CPU-heavy solves) run at the Sunday instant only: the engine
# is given its week and reads no calendar clock, which
# tests/scheduling/test_engine_reads_no_calendar.py checks at every instant.
set -uo pipefail
cd "$(dirname "$0")/.."
# Keep compiled and assertion-rewritten test modules between processes: with
# PYTHONDONTWRITEBYTECODE set (some shells set it) every xdist worker of every run
# recompiled and re-rewrote the whole suite (about 9 s of CPU each).
unset PYTHONDONTWRITEBYTECODE
PY=.venv/bin/python
PG_URL="${PG_URL:-postgres://root@127.0.0.1:5432/test}"
WORKERS="${PYTEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}"
# Browser tests wait about half the time: twice the workers (as in scripts/test.sh).
BROWSER_WORKERS="${PYTEST_BROWSER_WORKERS:-$(( WORKERS * 2 ))}"
started=$(date +%s)
status=0
failed=()
skipped=()
pg_ok=0
$PY scripts/pg_reachable.py "$PG_URL" && pg_ok=1
if [ "$pg_ok" = 0 ] && [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "==> PostgreSQL is NOT reachable at $PG_URL and REQUIRE_POSTGRES=1: failing"
  exit 1
fi

run() {  # run <instant> <sqlite|postgres|browser> [extra pytest args...]
  local when="$1" db="$2"; shift 2
  local seed
  seed=$($PY -c 'import random; print(random.randrange(1, 2**31))')
  local t0=$(date +%s)
  local url=""
  if [ "$db" = postgres ]; then
    if [ "$pg_ok" = 0 ]; then db=sqlite; else url="$PG_URL"; fi
  fi
  # CI gives the whole job a time budget: an instant that would not finish before
  # OPENIOP_DATES_DEADLINE (epoch seconds; a run takes up to ~5 minutes) is skipped, said.
  if [ -n "${OPENIOP_DATES_DEADLINE:-}" ] && [ $(( $(date +%s) + 300 )) -gt "$OPENIOP_DATES_DEADLINE" ]; then
    echo "==> clock $when on $db: SKIPPED (CI time budget reached)"
    skipped+=("$when ($db)")
    return
  fi
  echo "==> clock $when on $db, seed $seed"
  local rc=0
  if [ "$db" = browser ]; then
    # A file database, so the live server's threads do not share one SQLite connection.
    local shm
    shm="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"
    OPENIOP_TEST_NOW="$when" OPENIOP_TEST_SQLITE_FILE="$shm/openiop-test.sqlite3" \
      env -u DATABASE_URL $PY -m pytest -p no:cacheprovider -q \
      -n "$BROWSER_WORKERS" --dist worksteal -p randomly --randomly-seed="$seed" "$@" || rc=$?
    rm -rf "$shm"
  elif [ -n "$url" ]; then
    OPENIOP_TEST_NOW="$when" DATABASE_URL="$url" $PY -m pytest -p no:cacheprovider -q \
      -n "$WORKERS" --dist worksteal -p randomly --randomly-seed="$seed" "$@" || rc=$?
  else
    OPENIOP_TEST_NOW="$when" env -u DATABASE_URL $PY -m pytest -p no:cacheprovider -q \
      -n "$WORKERS" --dist worksteal -p randomly --randomly-seed="$seed" "$@" || rc=$?
  fi
  echo "==> clock $when on $db: status $rc in $(( $(date +%s) - t0 )) s"
  if [ $rc -ne 0 ]; then status=1; failed+=("$when ($db, seed $seed)"); fi
}

ENGINE=--ignore=tests/scheduling/engine
instants=(
  'run 2026-11-29T10:00 sqlite -m "not browser"'
  'run 2026-11-29T10:00 browser -m browser tests/browser'
  'run 2026-11-30T00:30 postgres -m "not browser" "$ENGINE"'
  'run 2026-03-08T12:00 sqlite -m "not browser" "$ENGINE"'
  'run 2026-11-01T12:00 postgres -m "not browser" "$ENGINE"'
  'run 2026-12-31T22:00 sqlite -m "not browser" "$ENGINE"'
  'run 2028-02-29T10:00 postgres -m "not browser" "$ENGINE"'
)
# OPENIOP_DATES_ROTATE=<n> starts at the n-th instant (modulo their number) and wraps
# around: CI passes the day of the year, so the instants its time budget cuts off today are
# the first ones to run on the following days, and over a week every instant runs in CI.
first=$(( ${OPENIOP_DATES_ROTATE:-0} % ${#instants[@]} ))
for i in $(seq 0 $(( ${#instants[@]} - 1 ))); do
  eval "${instants[$(( (first + i) % ${#instants[@]} ))]}"
done

echo "==> make test-dates finished in $(( $(date +%s) - started )) s with status $status"
for f in "${failed[@]}"; do echo "    failed at $f"; done
for f in "${skipped[@]}"; do echo "    not run (time budget): $f"; done
exit $status
