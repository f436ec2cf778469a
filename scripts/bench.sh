#!/usr/bin/env bash
# Runs every benchmark in benchmarks/ (each prints its table and writes var/bench/<name>.json).
#   scripts/bench.sh              every benchmark
#   scripts/bench.sh pages        only benchmarks/bench_pages.py (names as in bench_<name>.py)
#   BENCH_SIZES=500,2000 scripts/bench.sh pages
#                                 the page benchmark at other clinic sizes (default 5000,20000)
#   BENCH_REPEAT=5                fewer timed requests per page (default 20)
#   BENCH_SCHEDULER_SIZES=300,1000,2000 scripts/bench.sh scheduler
#                                 the scheduler benchmark at these sizes only (default
#                                 100,300,1000,2000); BENCH_SCHEDULER_VARIANTS=evening,school
#                                 and BENCH_SCHEDULER_LIMIT=30 (seconds, every size) narrow it
#                                 further. It exits non-zero when a row misses its targets.
#   make bench BENCH=scheduler    the same through make (any of the variables above too)
#   BENCH_DATABASES=sqlite        the page benchmark on one database (default sqlite,postgres)
#   BENCH_PARTICIPANTS=1000 BENCH_DURATION=20 scripts/bench.sh load
#                                 the load benchmark (gunicorn + PostgreSQL) on another clinic
#                                 size (default 5000) and measured seconds per level (default 60)
# A benchmark that misses its budget or target exits 1; the others still run, and this
# script exits 1 at the end, naming them.
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
mkdir -p var/bench
if [ "$#" -gt 0 ]; then
  files=()
  for name in "$@"; do
    f="benchmarks/bench_${name}.py"
    [ -f "$f" ] || { echo "no benchmark named $name ($f)" >&2; exit 2; }
    files+=("$f")
  done
else
  files=(benchmarks/bench_*.py)
fi
ran=0
failed=()
for b in "${files[@]}"; do
  echo "==> $b (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown))"
  case "$b" in
    benchmarks/bench_pages.py)
      args=(--sizes "${BENCH_SIZES:-5000,20000}" --repeat "${BENCH_REPEAT:-20}")
      [ -n "${BENCH_DATABASES:-}" ] && args+=(--databases "$BENCH_DATABASES")
      ;;
    benchmarks/bench_load.py)
      args=(--participants "${BENCH_PARTICIPANTS:-5000}" --duration "${BENCH_DURATION:-60}")
      ;;
    *) args=() ;;
  esac
  .venv/bin/python "$b" "${args[@]}" || failed+=("$b")
  ran=$((ran + 1))
done
echo "==> $ran benchmark(s) run; results in var/bench/"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "==> missed a budget or target, or failed: ${failed[*]}" >&2
  exit 1
fi
