"""Participant list and chart pages on a 5,000-participant clinic.

Builds the demo clinic (`--participants`, default 5,000) in a temporary SQLite database,
then requests each page through Django's test client as the demo clinician: a few warm-up
requests, then `--repeat` timed ones. Prints p50/p95 per page against its budget, the
ratio p95/budget, the query count, and two scaling ratios measured in the same run:

- deep page / first page of the list (pagination must not get slower further in), and
- the list on the full clinic / the list filtered to one small track's worth of people.

Writes var/bench/pages.json. Exits 1 when a page's p95 is over its budget.

    .venv/bin/python benchmarks/bench_pages.py [--participants N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "pages.json"
# Budgets for p95 on the 2-core reference machine, SQLite (milliseconds). A clinician
# clicking through a list expects it to answer well within a quarter of a second.
BUDGET_MS = {"list": 250.0, "chart": 250.0, "api": 250.0}


def _setup(tmp: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ["OPENIOP_REQUIRE_MFA"] = "0"
    os.environ.setdefault("OPENIOP_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="openiop-bench-")
    try:
        _setup(tmp)
        return _run(args.participants, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(n: int, repeat: int) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openiop.accounts.models import User
    from openiop.care.models import Enrollment, Program
    from openiop.demo.generator import build_demo
    from openiop.participants.models import Participant

    print(f"==> migrating a temporary SQLite database and building a {n:,}-participant demo")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(seed=2026, participants=n, out=sys.stdout)
    demo_seconds = time.perf_counter() - started
    print(f"    demo built in {demo_seconds:.1f} s")

    client = Client()
    client.force_login(User.objects.get(username="clinician"))
    program = Program.objects.get(name="Adult Mental Health IOP")
    one_track = Enrollment.objects.filter(status="active").values("track_id").first()["track_id"]
    small = Participant.objects.filter(episodes__enrollments__track_id=one_track)
    small_name = small.first().legal_last_name
    charts = list(Participant.objects.order_by("?").values_list("code", flat=True)[:repeat])
    pages_total = (n + 24) // 25
    deep = max(1, int(pages_total * 0.8))

    cases: list[tuple[str, str, str, dict[str, str]]] = [
        ("list", "list: first page", "/participants/", {}),
        ("list", f"list: page {deep} of {pages_total}", f"/participants/?page={deep}", {}),
        ("list", "list: search by last name", f"/participants/?q={small_name}", {}),
        ("list", "list: active in one program", f"/participants/?status=active&program={program.code}", {}),
        ("list", "list: search as you type (htmx)", f"/participants/?q={small_name[:3]}",
         {"HX-Request": "true"}),
        ("chart", "chart: overview", "CHART", {}),
        ("api", "api: participants page", "/api/participants/?limit=25&offset=2500", {}),
        ("list", "my work: clinician", "/dashboard/", {}),
        ("list", "my work: navigation count (htmx)", "/dashboard/count/", {"HX-Request": "true"}),
    ]

    def fetch(url: str, headers: dict[str, str], i: int) -> tuple[float, int]:
        target = f"/participants/{charts[i % len(charts)]}/" if url == "CHART" else url
        t0 = time.perf_counter()
        response = client.get(target, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{target} answered {response.status_code}")
        return elapsed, len(response.content)

    results = []
    for kind, label, url, headers in cases:
        for i in range(3):  # warm-up: template and query caches
            fetch(url, headers, i)
        with CaptureQueriesContext(connection) as queries:
            fetch(url, headers, 0)
        query_count = len(queries.captured_queries)  # read now: later requests reset the log
        timings = [fetch(url, headers, i)[0] for i in range(repeat)]
        p50, p95 = statistics.median(timings), _percentile(timings, 95)
        budget = BUDGET_MS[kind]
        results.append({
            "page": label, "url": url if url != "CHART" else "/participants/<code>/",
            "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "budget_ms": budget,
            "p95_over_budget": round(p95 / budget, 3), "queries": query_count,
        })

    by_page = {r["page"]: r for r in results}
    first = by_page["list: first page"]
    deep_row = by_page[f"list: page {deep} of {pages_total}"]
    narrow = by_page["list: search by last name"]
    ratios = {
        "deep_page_over_first_page_p50": round(deep_row["p50_ms"] / first["p50_ms"], 2),
        "full_list_over_search_p50": round(first["p50_ms"] / narrow["p50_ms"], 2),
    }

    width = max(len(r["page"]) for r in results)
    print(f"\n{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'budget':>7}  {'p95/budget':>10}  {'queries':>7}")
    for r in results:
        flag = "" if r["p95_over_budget"] <= 1 else "  OVER BUDGET"
        print(f"{r['page']:<{width}}  {r['p50_ms']:>8.1f}  {r['p95_ms']:>8.1f}  "
              f"{r['budget_ms']:>7.0f}  {r['p95_over_budget']:>10.2f}  {r['queries']:>7}{flag}")
    print(f"\nratios (same run): deep page / first page p50 = "
          f"{ratios['deep_page_over_first_page_p50']}, full list / narrow search p50 = "
          f"{ratios['full_list_over_search_p50']}")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "benchmark": "pages", "participants": n, "repeat": repeat, "database": "sqlite",
        "demo_build_seconds": round(demo_seconds, 1), "pages": results, "ratios": ratios,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    over = [r["page"] for r in results if r["p95_over_budget"] > 1]
    if over:
        print(f"OVER BUDGET: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
