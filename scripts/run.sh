#!/usr/bin/env bash
# `make run`: the development server and one background worker, started and stopped together.
# Ctrl-C (or either process ending) stops both.
set -euo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
export OPENIOP_DEMO=1 OPENIOP_REQUIRE_MFA=0

"$PY" -m django jobs_worker & WORKER=$!
"$PY" -m django runserver "127.0.0.1:$PORT" & SERVER=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM "$SERVER" "$WORKER" 2>/dev/null || true
  wait "$SERVER" "$WORKER" 2>/dev/null || true
}
trap stop INT TERM EXIT
# Whichever ends first (Ctrl-C, a crash) ends the other.
wait -n "$SERVER" "$WORKER" || true
