#!/usr/bin/env bash
# Runs every benchmark in benchmarks/ (each prints its table and writes var/bench/<name>.json).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
ran=0
for b in benchmarks/bench_*.py; do
  echo "==> $b"
  .venv/bin/python "$b"
  ran=$((ran + 1))
done
echo "==> $ran benchmark(s) run; results in var/bench/"
