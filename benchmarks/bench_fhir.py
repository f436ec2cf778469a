"""FHIR API on the demo clinic: read and search latency and throughput, and Bulk `$export`.

Builds the demo clinic (`--participants`, default 5,000) in a temporary SQLite database,
or, with `--database-url` (or BENCH_DATABASE_URL) naming a PostgreSQL server, in a fresh
database created on that server for the run and dropped after it. Then, through Django's
test client with a SMART bearer token (`user/*.rs`, as the clinician):
- reads (`Patient/<id>`, `Observation/<id>`, cycling through ids) and searches (a page of
  patients, a participant's observations by patient and by LOINC code, a deep page
  reached through `next` links, appointments by date, `_lastUpdated`): a few warm-up
  requests, then `--repeat` timed ones each. Prints p50, p95, p95 against its budget,
  requests per second (one client, one after another) and the query count.
- the director's system-level `$export` of every type (the background job run inside the
  request): resources written per second, and in a second run under tracemalloc the peak
  Python memory (tracemalloc slows the code it watches, so the rate comes from the first
  run). Peak memory is compared with its bound and per 1,000 resources (an export that
  streams should not hold the clinic in memory).
The machine's load average is printed and kept before and after (timings on a loaded
machine are not comparable). Writes var/bench/fhir.json. Exits 1 when a p95 is over its
budget, the export is slower than its floor or its peak memory over its bound.

    .venv/bin/python benchmarks/bench_fhir.py [--participants N] [--repeat N]
        [--database-url postgres://user@host:5432/postgres]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "fhir.json"
# p95 budgets on the 2-core reference machine (milliseconds): an integrator paging through
# a clinic expects a read well under a tenth of a second and a page of results within a
# third of a second.
BUDGET_MS = {"read": 100.0, "search": 300.0}
EXPORT_MIN_PER_SECOND = 500.0  # resources written per second, at the least
EXPORT_PEAK_MB = 256.0  # peak Python memory of one export, at most
ASYNC = {"Accept": "application/fhir+json", "Prefer": "respond-async"}


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has it
        return []


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def _create_database(url: str) -> tuple[str, str]:
    """A fresh database on the server at `url`: (its URL, its name)."""
    import psycopg

    name = f"openiop_bench_fhir_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _setup(tmp: str, database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    os.environ["OPENIOP_EXPORT_DIR"] = str(Path(tmp) / "exports")
    os.environ["OPENIOP_TASKS_BACKEND"] = "immediate"  # the export job runs in the request
    os.environ["OPENIOP_REQUIRE_MFA"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ.setdefault("OPENIOP_LOG_LEVEL", "WARNING")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL server (any database on it) to create a "
                             "scratch database on; default: a temporary SQLite file")
    args = parser.parse_args()
    if args.participants < 20 or args.repeat < 1:
        parser.error("--participants 20 or more, --repeat 1 or more")
    tmp = tempfile.mkdtemp(prefix="openiop-bench-fhir-")
    scratch: tuple[str, str] | None = None
    try:
        if args.database_url:
            scratch = _create_database(args.database_url)
        _setup(tmp, scratch[0] if scratch else None)
        return _run(args.participants, args.repeat)
    finally:
        if scratch:
            from django.db import connections

            connections.close_all()
            _drop_database(args.database_url, scratch[1])
        shutil.rmtree(tmp, ignore_errors=True)


def _token_client(user: Any) -> Any:
    """A test client speaking for a registered SMART app with the user's user/*.rs token."""
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    app = Application.objects.create(
        name="Benchmark app", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://bench.example.org/cb", user=user, algorithm="")
    token = AccessToken.objects.create(user=user, application=app, scope="user/*.rs",
                                       token=secrets.token_urlsafe(32),
                                       expires=timezone.now() + timedelta(hours=6))
    return Client(headers={"Authorization": f"Bearer {token.token}"})


def _ids(client: Any, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return [e["resource"]["id"] for e in response.json().get("entry", [])
            if e.get("search", {}).get("mode", "match") == "match"]


def _next(client: Any, url: str, hops: int) -> str:
    """The URL `hops` next links after `url` (a deep page), or the last one found."""
    for _ in range(hops):
        links = {link["relation"]: link["url"] for link in client.get(url).json().get("link", [])}
        if "next" not in links:
            break
        url = links["next"].removeprefix("http://testserver")
    return url


def _cases(client: Any) -> dict[str, tuple[str, list[str]]]:
    patients = _ids(client, "/fhir/R4/Patient?_count=200")
    observations = _ids(client, "/fhir/R4/Observation?_count=200")
    assert patients and observations, "the demo gave the clinician no patients or scores"
    with_scores = next(p for p in patients if _ids(client, f"/fhir/R4/Observation?patient={p}"))
    someone = f"patient=Patient/{with_scores}"
    return {
        "read Patient": ("read", [f"/fhir/R4/Patient/{p}" for p in patients]),
        "read Observation": ("read", [f"/fhir/R4/Observation/{o}" for o in observations]),
        "search Patient page of 100": ("search", ["/fhir/R4/Patient?_count=100"]),
        "search Patient deep page": ("search", [_next(client, "/fhir/R4/Patient?_count=20",
                                                      10)]),
        "search Observation by patient": ("search", [f"/fhir/R4/Observation?{someone}"]),
        "search Observation by code": ("search", [
            f"/fhir/R4/Observation?{someone}&code=http://loinc.org|44261-6"]),
        "search Appointment by date": ("search", [
            f"/fhir/R4/Appointment?{someone}&date=ge2000-01-01&_count=50"]),
        "search _lastUpdated, 100": ("search", [
            "/fhir/R4/Observation?_lastUpdated=ge2000-01-01&_count=100"]),
    }


def _time_requests(client: Any, cases: dict[str, tuple[str, list[str]]],
                   repeat: int) -> tuple[dict[str, Any], bool]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results: dict[str, Any] = {}
    failed = False
    print(f"\n{'request':<32}{'p50 ms':>8}{'p95 ms':>8}{'budget':>8}{'p95/budget':>11}"
          f"{'req/s':>8}{'queries':>8}")
    for name, (kind, urls) in cases.items():
        cycle = itertools.cycle(urls)
        for url in urls[:3]:
            response = client.get(url)
            assert response.status_code == 200, (name, url, response.content[:300])
        times = []
        started = time.perf_counter()
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(next(cycle))
            times.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - started
        with CaptureQueriesContext(connection) as queries:
            client.get(urls[0])
        p50, p95 = statistics.median(times), _percentile(times, 95)
        ratio = p95 / BUDGET_MS[kind]
        failed |= ratio > 1
        rate = repeat / total if total else 0.0
        results[name] = {"kind": kind, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                         "budget_ms": BUDGET_MS[kind], "p95_over_budget": round(ratio, 2),
                         "requests_per_second": round(rate, 1), "queries": len(queries)}
        print(f"{name:<32}{p50:>8.1f}{p95:>8.1f}{BUDGET_MS[kind]:>8.0f}{ratio:>11.2f}"
              f"{rate:>8.1f}{len(queries):>8}" + ("  OVER BUDGET" if ratio > 1 else ""))
    return results, failed


def _export(director: Any) -> tuple[int, float]:
    """Run the director's system-level $export; (resources written, seconds)."""
    from django.test import Client

    client = Client()
    client.force_login(director)
    started = time.perf_counter()
    kickoff = client.get("/fhir/R4/$export", headers=ASYNC)
    seconds = time.perf_counter() - started
    assert kickoff.status_code == 202, kickoff.content[:300]
    status = client.get(kickoff["Content-Location"].removeprefix("http://testserver"))
    assert status.status_code == 200, status.content[:300]
    total = sum(item["count"] for item in status.json()["output"])
    client.delete(kickoff["Content-Location"].removeprefix("http://testserver"))  # its files
    return total, seconds


def _run(n: int, repeat: int) -> int:
    from django.core.management import call_command
    from django.db import connection

    from openiop.accounts.models import User
    from openiop.demo.generator import build_demo

    load_before = _load()
    print(f"==> FHIR benchmark on {connection.vendor}; load average {load_before}")
    print(f"==> migrating and building a {n:,}-participant demo")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(participants=n, out=open(os.devnull, "w"))  # noqa: SIM115
    print(f"    demo built in {time.perf_counter() - started:.1f} s")
    clinician, director = (User.objects.get(username=u) for u in ("clinician", "director"))
    client = _token_client(clinician)
    requests, failed = _time_requests(client, _cases(client), repeat)

    count, seconds = _export(director)
    rate = count / seconds if seconds else 0.0
    tracemalloc.start()
    _export(director)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    per_thousand_kb = peak_mb * 1024 / (count / 1000) if count else 0.0
    rate_ratio = rate / EXPORT_MIN_PER_SECOND
    peak_ratio = peak_mb / EXPORT_PEAK_MB
    failed |= rate_ratio < 1 or peak_ratio > 1
    print(f"\n$export (system level, every type, as the director): {count:,} resources in "
          f"{seconds:.1f} s = {rate:,.0f} resources/s (floor {EXPORT_MIN_PER_SECOND:.0f}: "
          f"{rate_ratio:.2f}x)")
    print(f"    peak Python memory {peak_mb:.1f} MB (bound {EXPORT_PEAK_MB:.0f} MB: "
          f"{peak_ratio:.2f}x), {per_thousand_kb:.0f} KB per 1,000 resources")
    load_after = _load()
    print(f"load average before {load_before}, after {load_after}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "database": connection.vendor, "participants": n, "repeat": repeat,
        "requests": requests,
        "export": {"resources": count, "seconds": round(seconds, 2),
                   "resources_per_second": round(rate, 1),
                   "floor_per_second": EXPORT_MIN_PER_SECOND,
                   "rate_over_floor": round(rate_ratio, 2),
                   "peak_python_mb": round(peak_mb, 1), "peak_bound_mb": EXPORT_PEAK_MB,
                   "peak_over_bound": round(peak_ratio, 2),
                   "peak_kb_per_1000_resources": round(per_thousand_kb, 1)},
        "load_average_before": load_before, "load_average_after": load_after,
    }, indent=2))
    print(f"==> wrote {OUT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
