"""Every staff page at two clinic sizes: does any page grow with the clinic?

For each size (`--sizes`, default 5,000 and 20,000 participants) a child process builds
the demo clinic in its own temporary SQLite database and requests each page through
Django's test client as the demo user whose role opens it: a few warm-up requests, then
`--repeat` timed ones. Pages: every main-navigation list and dashboard, every chart tab,
the participant list (first, deep, search, filter, search as you type), the week grid
(track, clinician, room), the weekly-minimum (compliance) list, the attendance flags, the
notes dashboard (clinician and director), the audit log (first page, an older page, a date
range, counted), the outcomes report, the billing lists, the participants and compliance
API pages, and the other staff lists (schedule templates, staff hours, my calendar,
notifications, emergency-access review, medication catalog, holistic sessions, cohort
progress, my jobs). tests/core/test_pages_at_two_sizes.py pins the query count of the
same pages at two clinic sizes.

Prints per page and size: p50, p95, p95 against its budget, queries; then the ratio of
the largest size to the smallest (p50 and queries) for every page. A page that does not
grow with the clinic has the same query count at both sizes and a p50 ratio near 1.
Writes var/bench/pages.json with the machine's load average before and after each size
(timings on a loaded machine are not comparable). Exits 1 when a p95 is over its budget
or a page's query count differs between sizes.

    .venv/bin/python benchmarks/bench_pages.py [--sizes 5000,20000] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "pages.json"
# Budgets for p95 on the 2-core reference machine, SQLite (milliseconds). A clinician
# clicking through a list expects it to answer well within a quarter of a second; the
# dashboards and reports gather more, within half a second.
BUDGET_MS = {"list": 250.0, "chart": 250.0, "api": 250.0, "dashboard": 500.0,
             "report": 500.0}
DEMO_USERS = ("clinician", "director", "admin", "billing", "intake")


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


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has it
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000",
                        help="participants per clinic, comma-separated (default 5000,20000)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tmp = tempfile.mkdtemp(prefix="openiop-bench-")
        try:
            _setup(tmp)
            result = _measure(args.child, args.repeat)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        Path(args.child_out).write_text(json.dumps(result))
        return 0
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes: whole numbers separated by commas, e.g. 5000,20000")
    if not sizes or min(sizes) < 20:
        parser.error("--sizes: at least one size, each of 20 participants or more")
    runs = []
    for n in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = handle.name
        load_before = _load()
        # One process per size: a fresh database and a fresh Django for each clinic.
        subprocess.run([sys.executable, __file__, "--child", str(n), "--child-out", out,
                        "--repeat", str(args.repeat)], check=True)
        run = json.loads(Path(out).read_text())
        os.unlink(out)
        run["load_average_before"], run["load_average_after"] = load_before, _load()
        runs.append(run)
    return _report(runs, args.repeat)


def _report(runs: list[dict[str, Any]], repeat: int) -> int:
    small, large = runs[0], runs[-1]
    labels = [p["page"] for p in small["pages"]]
    width = max(len(label) for label in labels)
    failures: list[str] = []
    for run in runs:
        print(f"\n{run['participants']:,} participants (demo built in "
              f"{run['demo_build_seconds']} s; load average {run['load_average_before']} -> "
              f"{run['load_average_after']})")
        print(f"{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'budget':>7}  "
              f"{'p95/budget':>10}  {'queries':>7}")
        for r in run["pages"]:
            flag = "" if r["p95_over_budget"] <= 1 else "  OVER BUDGET"
            print(f"{r['page']:<{width}}  {r['p50_ms']:>8.1f}  {r['p95_ms']:>8.1f}  "
                  f"{r['budget_ms']:>7.0f}  {r['p95_over_budget']:>10.2f}  {r['queries']:>7}{flag}")
            if r["p95_over_budget"] > 1:
                failures.append(f"{r['page']} at {run['participants']:,}: p95 over budget")
    ratios = []
    if len(runs) > 1:
        name = f"{large['participants'] // 1000 or large['participants']}" \
               f"{'k' if large['participants'] >= 1000 else ''}"
        base = f"{small['participants'] // 1000 or small['participants']}" \
               f"{'k' if small['participants'] >= 1000 else ''}"
        print(f"\n{large['participants']:,} / {small['participants']:,} participants, "
              f"same pages ({name}/{base}):")
        print(f"{'page':<{width}}  {'p50 ratio':>9}  {'p95 ratio':>9}  {'queries':>11}")
        big = {p["page"]: p for p in large["pages"]}
        for p in small["pages"]:
            q = big.get(p["page"])
            if q is None:
                continue
            row = {"page": p["page"],
                   "p50_ratio": round(q["p50_ms"] / p["p50_ms"], 2) if p["p50_ms"] else None,
                   "p95_ratio": round(q["p95_ms"] / p["p95_ms"], 2) if p["p95_ms"] else None,
                   "queries_small": p["queries"], "queries_large": q["queries"]}
            ratios.append(row)
            grew = "" if q["queries"] == p["queries"] else "  QUERIES GROW"
            print(f"{p['page']:<{width}}  {row['p50_ratio']!s:>9}  {row['p95_ratio']!s:>9}  "
                  f"{p['queries']:>5}->{q['queries']:<5}{grew}")
            if grew:
                failures.append(f"{p['page']}: {p['queries']} queries at "
                                f"{small['participants']:,}, {q['queries']} at "
                                f"{large['participants']:,}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "benchmark": "pages", "sizes": [r["participants"] for r in runs], "repeat": repeat,
        "database": "sqlite", "cpu_count": os.cpu_count(), "runs": runs,
        "ratios_largest_over_smallest": ratios,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(ROOT)}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


def _cases(n: int) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(kind, label, username, url, headers) for every page measured."""
    from django.urls import NoReverseMatch, reverse

    from openiop.accounts.models import User
    from openiop.audit.models import AccessEvent
    from openiop.care.models import Enrollment, Program
    from openiop.core.navigation import CHART_TABS, STAFF_NAV
    from openiop.demo.generator import DEMO_SLUG
    from openiop.participants.models import Participant

    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}

    def reader(item: Any) -> str | None:
        return next((name for name in DEMO_USERS if name in users and item.allowed(users[name])),
                    None)

    cases: list[tuple[str, str, str, str, dict[str, str]]] = []
    for item in STAFF_NAV:
        who = reader(item)
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        if who:
            kind = "dashboard" if item.url_name in ("dashboard:my_work", "clinical:index") else "list"
            cases.append((kind, f"nav: {item.label} ({who})", who, url, {}))

    # The demo's portal persona (its first active adult): the same person at every size,
    # so a chart tab's queries at two sizes compare like with like.
    persona = Participant.objects.filter(user__username="participant").first()
    code = (persona or Participant.objects.filter(organization__slug=DEMO_SLUG)
            .order_by("pk").first()).code
    for item in CHART_TABS:
        who = reader(item)
        try:
            url = reverse(item.url_name, kwargs={"code": code})
        except NoReverseMatch:
            continue
        if who:
            cases.append(("chart", f"chart tab: {item.label} ({who})", who, url, {}))

    program = Program.objects.get(name="Adult Mental Health IOP")
    one_track = Enrollment.objects.filter(status="active").values("track_id").first()["track_id"]
    name = (Participant.objects.filter(episodes__enrollments__track_id=one_track)
            .order_by("pk").first().legal_last_name)
    pages_total = (n + 24) // 25
    deep = max(1, int(pages_total * 0.8))
    clinician = users["clinician"]
    room = clinician.facilitated_sessions.exclude(room=None).values_list("room_id", flat=True).first()
    track_code = Enrollment.objects.filter(track_id=one_track).values_list(
        "track__code", flat=True).first()
    seqs = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True)
    middle = seqs[max(0, seqs.count() // 2)] if seqs.exists() else 0
    cases += [
        ("list", "participants: first page", "clinician", "/participants/", {}),
        ("list", "participants: a page 80% of the way in", "clinician",
         f"/participants/?page={deep}", {}),
        ("list", "participants: search by last name", "clinician", f"/participants/?q={name}", {}),
        ("list", "participants: active in one program", "clinician",
         f"/participants/?status=active&program={program.code}", {}),
        ("list", "participants: search as you type (htmx)", "clinician",
         f"/participants/?q={name[:3]}", {"HX-Request": "true"}),
        ("list", "week grid: a track", "director", f"/schedule/?view=track&id={track_code}", {}),
        ("list", "week grid: a clinician", "director",
         f"/schedule/?view=clinician&id={clinician.pk}", {}),
        ("list", "week grid: a room", "director", f"/schedule/?view=room&id={room}", {}),
        ("list", "compliance: first page", "director", "/schedule/compliance/", {}),
        ("list", "compliance: page 3", "director", "/schedule/compliance/?page=3", {}),
        ("list", "attendance flags: first page", "director", "/schedule/attendance-flags/", {}),
        ("list", "attendance flags: page 3", "director", "/schedule/attendance-flags/?page=3", {}),
        ("dashboard", "notes dashboard: clinician", "clinician", "/notes/", {}),
        ("dashboard", "notes dashboard: director", "director", "/notes/", {}),
        ("dashboard", "my work: navigation count (htmx)", "clinician", "/dashboard/count/",
         {"HX-Request": "true"}),
        ("list", "audit log: first page", "director", "/audit/", {}),
        ("list", "audit log: an older page", "director", f"/audit/?before={middle}", {}),
        ("list", "audit log: last 7 days", "director",
         f"/audit/?since={time.strftime('%Y-%m-%d', time.gmtime(time.time() - 7 * 86400))}", {}),
        ("report", "audit log: counted", "director", "/audit/?count=1", {}),
        ("report", "outcomes report", "director", "/outcomes/", {}),
        ("api", "api: participants page", "clinician", "/api/participants/?limit=25&offset=2500", {}),
        ("api", "api: compliance page", "director", "/api/scheduling/compliance?limit=50", {}),
        ("list", "schedule templates", "director", "/schedule/templates/", {}),
        ("list", "staff hours", "director", "/schedule/staff/", {}),
        ("list", "my calendar", "clinician", "/schedule/my-calendar/", {}),
        ("list", "notifications", "clinician", "/dashboard/notifications/", {}),
        ("list", "emergency access review", "director", "/access/break-glass/", {}),
        ("list", "medication catalog", "clinician", "/medications/catalog/", {}),
        ("list", "holistic sessions", "director", "/skills/holistic/", {}),
        ("report", "program cohort progress", "director",
         f"/skills/programs/{program.code}/progress/", {}),
        ("list", "my jobs", "director", "/jobs/mine/", {}),
    ]
    for url_name in ("charges", "claims", "batches", "remittances", "denials", "aging"):
        try:
            cases.append(("list", f"billing: {url_name}", "billing",
                          reverse(f"billing:{url_name}"), {}))
        except NoReverseMatch:
            continue
    # A page the reader cannot open is left out rather than timed as an error page.
    return [c for c in cases if c[2] in users]


def _measure(n: int, repeat: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openiop.accounts.models import User
    from openiop.demo.generator import build_demo

    print(f"==> {n:,} participants: migrating a temporary SQLite database, building the demo",
          flush=True)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(seed=2026, participants=n, out=sys.stdout)
    demo_seconds = time.perf_counter() - started
    print(f"    demo built in {demo_seconds:.1f} s", flush=True)

    clients: dict[str, Client] = {}
    results = []
    for kind, label, who, url, headers in _cases(n):
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(User.objects.get(username=who))
        client = clients[who]

        def fetch(client: Client = client, url: str = url,
                  headers: dict[str, str] = headers, who: str = who) -> tuple[float, int]:
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code} to {who}")
            return elapsed, len(response.content)

        for _ in range(3):  # warm-up: template and query caches
            fetch()
        with CaptureQueriesContext(connection) as queries:
            _elapsed, size = fetch()
        query_count = len(queries.captured_queries)  # read now: later requests reset the log
        timings = [fetch()[0] for _ in range(repeat)]
        p50, p95 = statistics.median(timings), _percentile(timings, 95)
        budget = BUDGET_MS[kind]
        results.append({
            "page": label, "url": url, "user": who, "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1), "budget_ms": budget,
            "p95_over_budget": round(p95 / budget, 3), "queries": query_count, "bytes": size,
        })
        print(f"    {label}: p50 {p50:.1f} ms, {query_count} queries", flush=True)
    return {"participants": n, "demo_build_seconds": round(demo_seconds, 1), "pages": results}


if __name__ == "__main__":
    raise SystemExit(main())
