"""Requests per second under load: gunicorn with 4 workers and PostgreSQL, a mixed clinician
workload at 10 and 25 concurrent users.

A temporary PostgreSQL database (created at $PG_URL's server for the run and dropped after
it) is migrated and filled with the demo clinic (`--participants`, default 5,000), then
`VACUUM ANALYZE`d as autovacuum would. gunicorn serves it with the deployed settings
(`deploy/gunicorn.conf.py`, `OPENIOP_ENV=production`, 4 worker processes) on a free port of
127.0.0.1, sessions and cache in PostgreSQL as on a single web node without Redis
(`--redis-url` puts them in Redis instead).

The demo's clinicians (the users with a caseload) sign in the way staff do in production:
password, then the six-digit code of a TOTP authenticator (a confirmed TOTP device is made
for each of them in the temporary database, standing for their enrolled phone, and the code
is computed from its key, RFC 6238). Each signs in once; the simulated users share those
sessions round-robin. Each simulated user is a thread with its own keep-alive HTTP
connection (http.client, no browser) that asks for one page after another without pause,
drawn at random (fixed seed) from the mix in WORKLOAD: My work, the participant list (first
and a deeper page) and its search, the chart tabs of a participant on the clinician's own
caseload, the week grid, the notes dashboard.

For each number of users (`--users`, default 10,25): `--warmup` seconds not counted, then
`--duration` seconds measured. Reported per level: requests per second, p50 and p95 of the
requests completed in the window, errors (anything but 200, and failed connections), and
CPU per request of the gunicorn processes (master and workers, from /proc before and after
the window; workers recycled meanwhile are counted through the master's reaped-children
time) and of this database's PostgreSQL backends, the load generator's own CPU (it shares
the machine), and the load average. Printed next to the baseline measured before the
page work (BASELINE). Writes var/bench/load.json. Exits 1 when a request failed.

    .venv/bin/python benchmarks/bench_load.py [--participants 5000] [--users 10,25]
        [--duration 60] [--warmup 10]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "load.json"
PG_URL = os.environ.get("PG_URL", "postgres://root@127.0.0.1:5432/postgres")
WORKERS = 4
# Measured before the page work on the 2-core reference machine: gunicorn with 4 workers,
# PostgreSQL, the same kind of clinician mix, 25 concurrent users, no errors.
BASELINE = {"users": 25, "requests_per_second": 49.0, "p95_ms": 869.0,
            "server_python_cpu_ms_per_request": 25.0, "sql_ms_per_request": 34.0,
            "clinic_size": "not recorded with it"}
# The clinician mix: (kind, weight). A clinician's day is mostly charts.
WORKLOAD = (
    ("my work", 15),
    ("participant list", 10),
    ("participant list, deeper page", 5),
    ("participant search (htmx)", 10),
    ("chart tab", 40),
    ("week grid", 10),
    ("notes dashboard", 10),
)
# Demo users with a clinician's caseload (openiop.demo.generator.STAFF).
CLINICIANS = ("clinician", "lmft", "counselor", "associate", "yoga")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


# --- the temporary database and the server ------------------------------------------------

def _pg_database(action: str, name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(n: int, out: str) -> None:
    """In a child process with the server's environment: migrate, build the demo, make
    each clinician's authenticator, and write what the load needs to `out`."""
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openiop.access.decisions import care_team_q
    from openiop.accounts.models import User
    from openiop.core.navigation import CHART_TABS
    from openiop.demo.generator import DEMO_PASSWORD, build_demo
    from openiop.participants.models import Participant

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        build_demo(seed=2026, participants=n, out=quiet)
    demo_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    users: dict[str, Any] = {}
    for user in User.objects.filter(username__in=CLINICIANS).order_by("username"):
        caseload = list(Participant.objects.filter(care_team_q(user, "")).order_by("pk")[:200])
        if not caseload:
            continue
        device = TOTPDevice.objects.create(user=user, name="Load test phone", confirmed=True)
        charts = [reverse(tab.url_name, kwargs={"code": p.code})
                  for p in caseload for tab in CHART_TABS if tab.allowed(user)]
        names = sorted({p.legal_last_name for p in caseload})
        track = (user.facilitated_sessions.exclude(track=None)
                 .values_list("track__code", flat=True).first())
        grids = [f"/schedule/?view=clinician&id={user.pk}"]
        if track:
            grids.append(f"/schedule/?view=track&id={track}")
        pages = (n + 24) // 25
        users[user.username] = {
            "totp_key": device.key,
            "urls": {
                "my work": [reverse("dashboard:my_work")],
                "participant list": ["/participants/"],
                "participant list, deeper page": [
                    f"/participants/?page={max(1, pages * k // 10)}" for k in range(1, 9)],
                "participant search (htmx)": [f"/participants/?q={quote(name[:3])}"
                                              for name in names[:40]],
                "chart tab": charts,
                "week grid": grids,
                "notes dashboard": ["/notes/"],
            },
        }
    Path(out).write_text(json.dumps({"password": DEMO_PASSWORD, "users": users,
                                     "demo_build_seconds": round(demo_seconds, 1)}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn as deployed, in its own process group (stopped with it)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        with open(log, "ab") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                 "openiop.wsgi"],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(self.workers()) >= WORKERS:
                    return
            time.sleep(0.5)
        raise SystemExit(f"gunicorn not ready after {timeout:.0f} s")

    def workers(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:  # the parent pid
                    pids.append(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> float:
        """The master's and live workers' CPU, plus what the master's reaped workers used."""
        total = _proc_cpu(self.proc.pid, children=True)
        for pid in self.workers():
            total += _proc_cpu(pid)
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _proc_cpu(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (proc(5): utime, stime, cutime, cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def _pg_backends_cpu(database: str) -> dict[int, float]:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    return {pid: _proc_cpu(pid) for pid in pids}


# --- the simulated users ------------------------------------------------------------------

class Session:
    """One signed-in browser: its cookies; each simulated user has its own copy (`clone`)
    and its own keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def clone(self) -> Session:
        copy = Session(self.port)
        copy.cookies = dict(self.cookies)
        return copy

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, conn: http.client.HTTPConnection, method: str, url: str,
                body: dict[str, str] | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            from urllib.parse import urlencode

            data = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"http://127.0.0.1:{self.port}{url}"
        conn.request(method, url, body=data, headers=sent)
        response = conn.getresponse()
        content = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, dict(response.headers.items()), content

    def sign_in(self, username: str, password: str, totp_key: str) -> None:
        """The staff sign-in: password, then the authenticator's code."""
        from django_otp.oath import totp

        conn = self.connection()
        try:
            _s, _h, page = self.request(conn, "GET", "/accounts/login/")
            status, headers, _ = self.request(conn, "POST", "/accounts/login/", {
                "csrfmiddlewaretoken": _csrf(page), "username": username,
                "password": password, "next": "/"})
            if status != 302:
                raise SystemExit(f"{username}: the password step answered {status}")
            status, headers, page = self.request(conn, "GET", "/accounts/mfa/?next=/")
            code = f"{totp(bytes.fromhex(totp_key)):06d}"
            status, headers, _ = self.request(conn, "POST", "/accounts/mfa/?next=/", {
                "csrfmiddlewaretoken": _csrf(page), "token": code, "next": "/"})
            if status != 302 or urlsplit(headers.get("Location", "")).path.startswith(
                    "/accounts/"):
                raise SystemExit(f"{username}: the authenticator step answered {status}")
        finally:
            conn.close()


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on the sign-in page")
    return match.group(1).decode()


def _check(sessions: list[tuple[str, Session]], plan: dict[str, Any]) -> None:
    """Every kind of page answers 200 to every user once before anything is timed."""
    for username, session in sessions:
        conn = session.connection()
        for kind, urls in plan["users"][username]["urls"].items():
            for url in urls[:1] + urls[-1:]:
                headers = {"HX-Request": "true"} if "htmx" in kind else {}
                status, _h, _b = session.request(conn, "GET", url, headers=headers)
                if status != 200:
                    raise SystemExit(f"{url} answered {status} to {username}")
        conn.close()


def run_level(users: int, warmup: float, duration: float, sessions: list[tuple[str, Session]],
              plan: dict[str, Any], server: Server, database: str) -> dict[str, Any]:
    kinds = [k for k, _w in WORKLOAD]
    weights = [w for _k, w in WORKLOAD]
    stop = threading.Event()
    window: dict[str, float] = {}
    samples: list[tuple[str, float]] = []
    errors: Counter[str] = Counter()
    retries = [0]
    lock = threading.Lock()

    def simulated_user(i: int) -> None:
        rng = random.Random(2026 * 100 + i)
        username, signed_in = sessions[i % len(sessions)]
        session = signed_in.clone()
        urls = plan["users"][username]["urls"]
        conn = session.connection()
        while not stop.is_set():
            kind = rng.choices(kinds, weights)[0]
            url = rng.choice(urls[kind])
            headers = {"HX-Request": "true"} if "htmx" in kind else {}
            t0 = time.perf_counter()
            failed = None
            for attempt in (1, 2):
                try:
                    status, _h, _b = session.request(conn, "GET", url, headers=headers)
                    failed = None if status == 200 else f"{kind}: HTTP {status}"
                    break
                except (OSError, http.client.HTTPException) as exc:
                    # A keep-alive connection the server closed (a worker recycled after
                    # max_requests): a browser sends the request again on a new one, once.
                    failed = f"{kind}: {type(exc).__name__}"
                    conn.close()
                    conn = session.connection()
                    if attempt == 1:
                        with lock:
                            retries[0] += 1
            t1 = time.perf_counter()
            if "start" in window and window["start"] <= t1 <= window.get("end", float("inf")):
                with lock:
                    if failed:
                        errors[failed] += 1
                    else:
                        samples.append((kind, (t1 - t0) * 1000))
        conn.close()

    threads = [threading.Thread(target=simulated_user, args=(i,), daemon=True)
               for i in range(users)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    load_before = _load()
    cpu_before, pg_before = server.cpu_seconds(), _pg_backends_cpu(database)
    own_before = time.process_time()
    window["start"] = time.perf_counter()
    time.sleep(duration)
    window["end"] = time.perf_counter()
    cpu_after, pg_after = server.cpu_seconds(), _pg_backends_cpu(database)
    own_after = time.process_time()
    load_after = _load()
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    seconds = window["end"] - window["start"]
    with lock:
        timings = [ms for _k, ms in samples]
        by_kind: dict[str, list[float]] = defaultdict(list)
        for kind, ms in samples:
            by_kind[kind].append(ms)
        n_errors = sum(errors.values())
    done = len(timings) + n_errors
    pg_cpu = sum(after - pg_before.get(pid, 0.0) for pid, after in pg_after.items())
    per = (lambda cpu: round(cpu * 1000 / done, 1)) if done else (lambda cpu: None)
    return {
        "users": users, "seconds": round(seconds, 1), "requests": len(timings),
        "requests_per_second": round(len(timings) / seconds, 1),
        "p50_ms": round(statistics.median(timings), 1) if timings else None,
        "p95_ms": round(_percentile(timings, 95), 1) if timings else None,
        "errors": n_errors, "error_kinds": dict(errors),
        "requests_sent_again_on_a_new_connection": retries[0],
        "gunicorn_cpu_seconds": round(cpu_after - cpu_before, 2),
        "gunicorn_cpu_ms_per_request": per(cpu_after - cpu_before),
        "postgres_cpu_ms_per_request": per(pg_cpu),
        "load_generator_cpu_ms_per_request": per(own_after - own_before),
        "pages": {kind: {"requests": len(v), "p50_ms": round(statistics.median(v), 1),
                         "p95_ms": round(_percentile(v, 95), 1)}
                  for kind, v in sorted(by_kind.items())},
        "load_average_before": load_before, "load_average_after": load_after,
    }


# --- main ---------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--users", default="10,25",
                        help="concurrent users, comma-separated (default 10,25)")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="measured seconds per level (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds of load before each measured window (default 10)")
    parser.add_argument("--redis-url", default="",
                        help="sessions and cache in this Redis database (default: PostgreSQL)")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.participants, args.prepare)
        return 0
    try:
        levels = [int(u) for u in args.users.split(",") if u.strip()]
    except ValueError:
        parser.error("--users: whole numbers separated by commas, e.g. 10,25")
    if not levels or min(levels) < 1 or args.participants < 20 or args.duration <= 0:
        parser.error("at least one level of 1 user or more, 20 participants or more, and a "
                     "positive --duration")
    if subprocess.call([sys.executable, str(ROOT / "scripts" / "pg_reachable.py"), PG_URL],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        print(f"PostgreSQL is not reachable at {PG_URL} (set PG_URL)", file=sys.stderr)
        return 2

    # A SIGTERM stops the run through the `finally` below: gunicorn stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="openiop-bench-load-"))
    database = f"openiop_bench_load_{os.getpid()}"
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "openiop.settings",
        "OPENIOP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "OPENIOP_AUDIT_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/" + database,
        "OPENIOP_VAR_DIR": str(tmp / "var"),
        "OPENIOP_LOG_LEVEL": "WARNING",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    for name in ("TEST_DATABASE_NAME", "REDIS_URL", "OPENIOP_REQUIRE_MFA", "DEBUG"):
        env.pop(name, None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    server = None
    try:
        _pg_database("create", database)
        print(f"==> {args.participants:,} participants: migrating a temporary PostgreSQL "
              f"database, building the demo (load average {_load()})", flush=True)
        subprocess.run([sys.executable, __file__, "--prepare", str(tmp / "plan.json"),
                        "--participants", str(args.participants)], env=env, check=True)
        plan = json.loads((tmp / "plan.json").read_text())
        print(f"    demo built in {plan['demo_build_seconds']} s; starting gunicorn "
              f"({WORKERS} workers) on port {port}", flush=True)
        server = Server(env, port, tmp / "gunicorn.log")
        server.wait_ready()
        sessions = []
        for username in plan["users"]:
            session = Session(port)
            session.sign_in(username, plan["password"], plan["users"][username]["totp_key"])
            sessions.append((username, session))
        if not sessions:
            raise SystemExit("no demo clinician has a caseload")
        print(f"    signed in (password and authenticator code): "
              f"{', '.join(u for u, _s in sessions)}", flush=True)
        _check(sessions, plan)
        results = []
        for users in levels:
            print(f"==> {users} users: {args.warmup:.0f} s warm-up, {args.duration:.0f} s "
                  "measured", flush=True)
            results.append(run_level(users, args.warmup, args.duration, sessions, plan,
                                     server, database))
    finally:
        if server is not None:
            server.stop()
        _pg_database("drop", database)
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(results, args, plan)


def _report(results: list[dict[str, Any]], args: argparse.Namespace,
            plan: dict[str, Any]) -> int:
    print(f"\nMixed clinician workload, gunicorn ({WORKERS} workers) + PostgreSQL, "
          f"{args.participants:,} participants, {os.cpu_count()} cores")
    print(f"{'users':>5}  {'req/s':>6}  {'p50 ms':>7}  {'p95 ms':>7}  {'errors':>6}  "
          f"{'gunicorn CPU ms/req':>19}  {'PostgreSQL CPU ms/req':>21}  {'client CPU ms/req':>17}"
          "  load average")
    for r in results:
        print(f"{r['users']:>5}  {r['requests_per_second']:>6.1f}  {r['p50_ms']!s:>7}  "
              f"{r['p95_ms']!s:>7}  {r['errors']:>6}  {r['gunicorn_cpu_ms_per_request']!s:>19}  "
              f"{r['postgres_cpu_ms_per_request']!s:>21}  "
              f"{r['load_generator_cpu_ms_per_request']!s:>17}  "
              f"{r['load_average_before']} -> {r['load_average_after']}")
    loads = [r["load_average_before"][0] for r in results if r["load_average_before"]]
    if loads and max(loads) > (os.cpu_count() or 1):
        print(f"BUSY MACHINE: a load average of {max(loads)} on {os.cpu_count()} cores; "
              "these figures are not comparable with the baseline")
    b = BASELINE
    print(f"baseline, before the page work: {b['users']} users, "
          f"{b['requests_per_second']:.0f} requests/s, p95 {b['p95_ms']:.0f} ms, no errors; "
          f"about {b['server_python_cpu_ms_per_request']:.0f} ms of Python CPU and "
          f"{b['sql_ms_per_request']:.0f} ms of SQL time per request")
    for r in results:
        if r["users"] == b["users"] and r["requests_per_second"]:
            print(f"{r['users']} users now: {r['requests_per_second'] / b['requests_per_second']:.2f}"
                  f" x the baseline's requests/s, p95 {r['p95_ms']} ms against "
                  f"{b['p95_ms']:.0f} ms")
    for r in results:
        print(f"\n{r['users']} users, by page:")
        for kind, p in r["pages"].items():
            print(f"  {kind:<32} {p['requests']:>6} requests  p50 {p['p50_ms']:>7.1f} ms  "
                  f"p95 {p['p95_ms']:>7.1f} ms")
        for kind, count in r["error_kinds"].items():
            print(f"  ERROR {kind}: {count}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "benchmark": "load", "participants": args.participants, "workers": WORKERS,
        "server": "gunicorn -c deploy/gunicorn.conf.py (gthread), OPENIOP_ENV=production",
        "sessions_and_cache": "redis" if args.redis_url else "postgresql",
        "signed_in_users": list(plan["users"]), "workload": dict(WORKLOAD),
        "warmup_seconds": args.warmup, "duration_seconds": args.duration,
        "demo_build_seconds": plan["demo_build_seconds"], "cpu_count": os.cpu_count(),
        "levels": results, "baseline": BASELINE,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(ROOT)}")
    failed = sum(r["errors"] for r in results)
    if failed:
        print(f"FAILED: {failed} request(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
