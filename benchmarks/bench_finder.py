"""Finder search on a 20,000-listing national directory, SQLite and PostgreSQL.

For each database (PostgreSQL when reachable at $PG_URL, default
postgres://root@127.0.0.1:5432/test), a fresh database is migrated and filled with the
deterministic national set (`finder.generate.generate_listings`, 20,000 listings over real
ZIP centroids). Then a set of realistic searches (ZIP + radius + the filters a person
would pick) is requested through Django's test client: the search page itself, the full
HTTP request with rendering. Each is timed `--repeat` times after a warm-up.

The baseline answers the same requests with the naive plan (`listing_search_full_scan`:
every row loaded and tested in Python) in the same run; the ratio is baseline p95 /
indexed p95. Target: p95 under 50 ms on either database.

Writes var/bench/finder.json: one object per database with `database`, `listings`,
`queries` (timed requests), `p50_ms`, `p95_ms`, `baseline_p95_ms`.

    .venv/bin/python benchmarks/bench_finder.py [--listings N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "finder.json"
TARGET_P95_MS = 50.0
PG_URL = os.environ.get("PG_URL", "postgres://root@127.0.0.1:5432/test")

# (ZIP, params): what people near big cities ask for (the finder's typical searches).
CITIES = ["43215", "10001", "60601", "90012", "77002", "30303", "98101", "80202", "33130",
          "02108", "19103", "85004", "63101", "55401", "37203", "46204", "64106", "97201"]
FILTER_SETS: list[dict[str, object]] = [
    {"radius": 25},
    {"radius": 25, "schedule": ["evening", "weekend"], "payment": ["medicaid"]},
    {"radius": 50, "focus": "su", "moud": "buprenorphine"},
    {"radius": 25, "focus": "mh", "family": "on", "age_group": "adolescents"},
    {"radius": 100, "language": "Spanish", "payment": ["private"], "insurer": "Aetna"},
    {"radius": 50, "holistic": ["yoga", "mindfulness"], "openings": "on", "sort": "openings"},
    {"radius": 10, "focus": "both", "medication_management": "on"},
    {"radius": 250, "populations": ["veterans"], "telehealth": "on"},
    {"radius": 25, "page": 2},
]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _queries() -> list[dict[str, object]]:
    out = []
    for i, city in enumerate(CITIES):
        for j in range(3):
            params = dict(FILTER_SETS[(i + j * 4) % len(FILTER_SETS)])
            out.append({"zip": city, **params})
    return out


def worker(database_url: str, listings: int, repeat: int) -> dict[str, object]:
    """Runs in a child process with DATABASE_URL set; returns the measurements."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ["OPENIOP_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from openiop.finder import views
    from openiop.finder.generate import generate_listings
    from openiop.finder.models import Listing
    from openiop.finder.selectors import listing_search_full_scan

    def say(message: str) -> None:
        print(f"    [{connection.vendor}] {message}", file=sys.stderr, flush=True)

    say("migrating a fresh database")
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    rows = generate_listings(n=listings, seed=2026, source_name="bench", progress=say)
    for i in range(0, len(rows), 2000):
        Listing.objects.bulk_create(rows[i:i + 2000])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE finder_listing")
    say(f"{Listing.objects.count():,} listings loaded in {time.monotonic() - started:.1f} s")

    client = Client()
    queries = _queries()

    def run(times: int, subset: list[dict[str, object]], warm: bool = True
            ) -> tuple[list[float], int]:
        samples: list[float] = []
        found = 0
        for params in subset:
            if warm:
                client.get("/find/", params)
            for _ in range(times):
                t0 = time.perf_counter()
                response = client.get("/find/", params)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (params, response.status_code)
            match = re.search(rb"(\d+) programs? within", response.content)
            found += int(match.group(1)) if match else 0
        return samples, found

    say(f"timing {len(queries)} searches x {repeat}")
    indexed, _found = run(repeat, queries)
    # The full scan takes seconds per request: time every third search once (no warm-up
    # needed: it reads the whole table each time), and check it finds the same programs.
    sample = queries[::3]
    say(f"timing the naive full-scan baseline on {len(sample)} of those searches")
    _times, found_fast = run(1, sample, warm=False)
    with mock.patch.object(views, "listing_search", listing_search_full_scan):
        baseline, found_slow = run(1, sample, warm=False)
    assert found_fast == found_slow, "the baseline must find the same programs"
    return {
        "database": connection.vendor, "listings": Listing.objects.count(),
        "queries": len(indexed), "p50_ms": round(statistics.median(indexed), 2),
        "p95_ms": round(_percentile(indexed, 95), 2),
        "baseline_p95_ms": round(_percentile(baseline, 95), 2),
    }


def _pg_reachable() -> bool:
    code = subprocess.call([sys.executable, str(ROOT / "scripts" / "pg_reachable.py"), PG_URL],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return code == 0


def _pg_database(action: str, name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.listings, args.repeat)))
        return 0

    tmp = tempfile.mkdtemp(prefix="openiop-bench-finder-")
    targets = [("sqlite", f"sqlite:///{tmp}/finder.sqlite3")]
    pg_name = f"openiop_bench_finder_{os.getpid()}"
    if _pg_reachable():
        targets.append(("postgresql", PG_URL.rsplit("/", 1)[0] + "/" + pg_name))
    else:
        print(f"PostgreSQL is not reachable at {PG_URL}: measuring SQLite only.")
    results = []
    try:
        for label, url in targets:
            print(f"==> {label}", flush=True)
            if label == "postgresql":
                _pg_database("create", pg_name)
            env = os.environ | {"DATABASE_URL": url, "OPENIOP_VAR_DIR": tmp,
                                "OPENIOP_REQUIRE_MFA": "0", "DEBUG": "0"}
            out = subprocess.run(
                [sys.executable, __file__, "--worker", url, "--listings", str(args.listings),
                 "--repeat", str(args.repeat)],
                env=env, check=True, stdout=subprocess.PIPE, text=True,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        if len(targets) > 1:
            _pg_database("drop", pg_name)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"Finder search page, {args.listings:,} listings (p95 target {TARGET_P95_MS:.0f} ms)")
    print(f"{'database':<12}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'full scan p95':>15}"
          f"{'ratio':>8}  target")
    for r in results:
        ratio = r["baseline_p95_ms"] / r["p95_ms"] if r["p95_ms"] else float("inf")
        ok = "met" if r["p95_ms"] < TARGET_P95_MS else "MISSED"
        print(f"{r['database']:<12}{r['queries']:>9}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
              f"{r['baseline_p95_ms']:>15.1f}{ratio:>7.1f}x  {ok}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
