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
set -euo pipefail
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
for b in "${files[@]}"; do
  echo "==> $b"
  if [ "$b" = "benchmarks/bench_pages.py" ]; then
    .venv/bin/python "$b" --sizes "${BENCH_SIZES:-5000,20000}" --repeat "${BENCH_REPEAT:-20}"
  else
    .venv/bin/python "$b"
  fi
  ran=$((ran + 1))
done
echo "==> $ran benchmark(s) run; results in var/bench/"
