"""Every staff page at two clinic sizes, on SQLite and PostgreSQL: does any page grow with
the clinic?

For each database (`--databases`, default sqlite,postgres) and each size (`--sizes`,
default 5,000 and 20,000 participants) a child process builds the demo clinic in its own
temporary database (a SQLite file, or a PostgreSQL database created for the run at $PG_URL's
server and dropped after it, then `VACUUM ANALYZE`d as autovacuum would) and requests each
page through Django's test client as the demo user whose role opens it: a few warm-up
requests, then `--repeat` timed ones. Pages: every main-navigation list and dashboard,
every chart tab, the participant list (first, deep, search, filter, search as you type),
the week grid (track, clinician, room), the weekly-minimum (compliance) list, the
attendance flags, the notes dashboard (clinician and director), the audit log (first page,
an older page, a date range, counted), the outcomes report, the billing lists, the
participants and compliance API pages, and the other staff lists (schedule templates, staff
hours, my calendar, notifications, emergency-access review, medication catalog, holistic
sessions, cohort progress, my jobs). tests/core/test_pages_at_two_sizes.py pins the query
count of the same pages at two clinic sizes.

Prints per database, page and size: p50, p95, p95 against its budget, queries; then the
ratio of the largest size to the smallest (p50, p95 and queries) for every page. A page
that does not grow with the clinic has the same query count at both sizes and a ratio near
1. On PostgreSQL each page is then held to the target: p95 at most 100 ms at the largest
size (the target is set at 20,000 participants, single user, quiet machine), p95 at the
largest size at most 1.5 times its p95 at the smallest, and the same query count at both;
a line per page says "target met" or what missed.

Writes var/bench/pages.json with the machine's load average before and after each size
(timings on a loaded machine are not comparable). Exits 1 when a p95 is over its budget,
a page's query count differs between sizes, or a page misses the PostgreSQL target.
Without `--databases`, an unreachable PostgreSQL is reported and skipped; named in
`--databases`, it is an error.

    .venv/bin/python benchmarks/bench_pages.py [--sizes 5000,20000] [--repeat N]
        [--databases sqlite,postgres]
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
# PostgreSQL, the production database: every staff page within 100 ms at p95 at 20,000
# participants (single user, quiet machine), no slower than 1.5 times its p95 at 5,000, and
# the same queries at both sizes.
PG_TARGET_P95_MS = 100.0
PG_TARGET_RATIO = 1.5
PG_TARGET_SIZE = 20_000
PG_BUDGET_MS = dict.fromkeys(BUDGET_MS, PG_TARGET_P95_MS)
DEMO_USERS = ("clinician", "director", "admin", "billing", "intake")
# The server that holds the temporary databases (one is created per size and dropped after
# it): the URL's database is only used to create and drop them.
PG_URL = os.environ.get("PG_URL", "postgres://root@127.0.0.1:5432/postgres")
DATABASES = ("sqlite", "postgres")


def _setup(tmp: str, database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:  # SQLite in the temporary directory
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("TEST_DATABASE_NAME", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ["OPENIOP_REQUIRE_MFA"] = "0"  # the test client signs in with force_login
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


def _pg_reachable() -> bool:
    code = subprocess.call([sys.executable, str(ROOT / "scripts" / "pg_reachable.py"), PG_URL],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return code == 0


def _pg_database(action: str, name: str) -> None:
    """Create (after dropping a leftover of the same name) or drop a database on PG_URL's
    server."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000",
                        help="participants per clinic, comma-separated (default 5000,20000)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--databases", default=None,
                        help="sqlite, postgres or both, comma-separated (default both; "
                             "PostgreSQL at $PG_URL's server, skipped when unreachable)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tmp = tempfile.mkdtemp(prefix="openiop-bench-")
        try:
            _setup(tmp, args.database_url)
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
    databases = [d.strip() for d in (args.databases or ",".join(DATABASES)).split(",")
                 if d.strip()]
    if not databases or set(databases) - set(DATABASES):
        parser.error("--databases: sqlite, postgres or both, comma-separated")
    skipped = []
    if "postgres" in databases and not _pg_reachable():
        if args.databases:
            parser.error(f"PostgreSQL is not reachable at {PG_URL} (set PG_URL, or "
                         "--databases sqlite)")
        print(f"PostgreSQL is not reachable at {PG_URL}: measuring SQLite only.")
        databases.remove("postgres")
        skipped.append("postgres")
    results = []
    for database in databases:
        runs = []
        for n in sizes:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
                out = handle.name
            command = [sys.executable, __file__, "--child", str(n), "--child-out", out,
                       "--repeat", str(args.repeat)]
            pg_name = f"openiop_bench_pages_{os.getpid()}_{n}"
            if database == "postgres":
                _pg_database("create", pg_name)
                command += ["--database-url", PG_URL.rsplit("/", 1)[0] + "/" + pg_name]
            load_before = _load()
            # One process per size: a fresh database and a fresh Django for each clinic.
            try:
                subprocess.run(command, check=True)
            finally:
                if database == "postgres":
                    _pg_database("drop", pg_name)
            run = json.loads(Path(out).read_text())
            os.unlink(out)
            run["load_average_before"], run["load_average_after"] = load_before, _load()
            runs.append(run)
        results.append(_report(database, runs))
    failures = [f"{r['database']}: {f}" for r in results for f in r["failures"]]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "benchmark": "pages", "sizes": sizes, "repeat": args.repeat,
        "databases": [r["database"] for r in results], "skipped": skipped,
        "cpu_count": os.cpu_count(), "budgets_ms": {"sqlite": BUDGET_MS,
                                                   "postgresql": PG_BUDGET_MS},
        "target": {"database": "postgresql", "participants": PG_TARGET_SIZE,
                   "p95_ms": PG_TARGET_P95_MS, "p95_ratio_at_most": PG_TARGET_RATIO,
                   "queries": "equal at every size"},
        "results": results, "failures": failures,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(ROOT)}")
    if failures:
        counts = ", ".join(f"{r['database']} {len(r['failures'])}" for r in results
                           if r["failures"])
        print(f"FAILED: {len(failures)} misses ({counts}): the rows marked above, and "
              f"'failures' in {OUT.relative_to(ROOT)}")
        return 1
    return 0


def _busy(run: dict[str, Any]) -> str:
    """A warning when the machine had more runnable work than cores during the run."""
    loads = run["load_average_before"][:1] + run["load_average_after"][:1]
    if loads and max(loads) > (os.cpu_count() or 1):
        return (f"  BUSY MACHINE (load average over {os.cpu_count()} cores): these timings "
                "are not comparable")
    return ""


def _short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def _report(database: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Prints one database's tables; returns its part of pages.json (with its failures)."""
    vendor = runs[0]["database"]
    small, large = runs[0], runs[-1]
    labels = [p["page"] for p in small["pages"]]
    width = max(len(label) for label in labels)
    failures: list[str] = []
    for run in runs:
        print(f"\n{vendor}, {run['participants']:,} participants (demo built in "
              f"{run['demo_build_seconds']} s; load average {run['load_average_before']} -> "
              f"{run['load_average_after']}){_busy(run)}")
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
        print(f"\n{vendor}, {large['participants']:,} / {small['participants']:,} "
              f"participants, same pages ({_short(large['participants'])}/"
              f"{_short(small['participants'])}):")
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
    result: dict[str, Any] = {
        "database": vendor, "runs": runs, "ratios_largest_over_smallest": ratios,
    }
    if database == "postgres":
        result["target"] = _target(runs, width, failures)
    result["failures"] = failures
    return result


def _target(runs: list[dict[str, Any]], width: int, failures: list[str]) -> list[dict[str, Any]]:
    """PostgreSQL's target, page by page: p95 at the largest size within PG_TARGET_P95_MS,
    within PG_TARGET_RATIO of the smallest size's p95, the same queries at every size."""
    small, large = runs[0], runs[-1]
    where = f"{large['participants']:,} participants"
    if large["participants"] != PG_TARGET_SIZE:
        where += f" (the target is set at {PG_TARGET_SIZE:,}: these figures only rehearse it)"
    print(f"\npostgresql target at {where}: p95 <= {PG_TARGET_P95_MS:.0f} ms, "
          f"p95 {_short(large['participants'])}/{_short(small['participants'])} <= "
          f"{PG_TARGET_RATIO}, the same queries at every size")
    rows = []
    by_size = [{p["page"]: p for p in run["pages"]} for run in runs]
    for p in large["pages"]:
        label = p["page"]
        misses = []
        if p["p95_ms"] > PG_TARGET_P95_MS:
            misses.append(f"p95 {p['p95_ms']:.1f} ms > {PG_TARGET_P95_MS:.0f} ms")
        ratio = None
        first = by_size[0].get(label)
        if len(runs) > 1 and first is not None:
            ratio = round(p["p95_ms"] / first["p95_ms"], 2) if first["p95_ms"] else None
            if ratio is not None and ratio > PG_TARGET_RATIO:
                misses.append(f"p95 ratio {ratio} > {PG_TARGET_RATIO}")
        counts = [size[label]["queries"] for size in by_size if label in size]
        if len(set(counts)) > 1:
            misses.append("queries " + " -> ".join(str(c) for c in counts))
        verdict = "target met" if not misses else "target MISSED: " + "; ".join(misses)
        print(f"{label:<{width}}  p95 {p['p95_ms']:>7.1f} ms  ratio {ratio!s:>5}  "
              f"queries {'/'.join(str(c) for c in counts):>9}  {verdict}")
        if misses:
            failures.append(f"{label}: PostgreSQL target missed ({'; '.join(misses)})")
        rows.append({"page": label, "participants": large["participants"],
                     "p95_ms": p["p95_ms"], "p95_ratio": ratio, "queries": counts,
                     "met": not misses, "misses": misses})
    met = sum(r["met"] for r in rows)
    print(f"postgresql target: {met} of {len(rows)} pages met")
    return rows


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

    # The demo's portal persona (a featured persona: the same person with the same record
    # at every size, tests/core/test_demo_personas.py), so a chart tab's queries at two
    # sizes compare like with like.
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

    vendor = connection.vendor
    budgets = PG_BUDGET_MS if vendor == "postgresql" else BUDGET_MS
    print(f"==> {n:,} participants: migrating a temporary {vendor} database, building the "
          "demo", flush=True)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(seed=2026, participants=n, out=sys.stdout)
    demo_seconds = time.perf_counter() - started
    print(f"    demo built in {demo_seconds:.1f} s", flush=True)
    if vendor == "postgresql":
        # What autovacuum does to a table that has just been filled: planner statistics
        # and the visibility map (index-only scans). Without it the plans are a fresh
        # database's, not a running clinic's.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

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
        budget = budgets[kind]
        results.append({
            "page": label, "url": url, "user": who, "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1), "budget_ms": budget,
            "p95_over_budget": round(p95 / budget, 3), "queries": query_count, "bytes": size,
        })
        print(f"    {label}: p50 {p50:.1f} ms, {query_count} queries", flush=True)
    return {"database": vendor, "participants": n, "demo_build_seconds": round(demo_seconds, 1),
            "pages": results}


if __name__ == "__main__":
    raise SystemExit(main())
