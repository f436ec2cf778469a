"""`make cluster-test`: OpenIOP as a small cluster on this machine, under load and faults.

Starts its own PostgreSQL (initdb into a temporary directory, a free port; the machine's
shared PostgreSQL is never touched), uses Redis database 9, two gunicorn web nodes and two
`openiop worker` processes. A bounded load generator (threads, requests, 127.0.0.1 only)
signs clinicians in on one node and uses their session on the other, reads pages, marks
attendance, autosaves notes, sends referrals through the public finder's contact form, and
a director plans weeks through the job system. Mid-load it SIGKILLs one web node and one
worker (restarting them a few seconds later) and restarts PostgreSQL.

Afterwards it checks that every acknowledged write is in the database, that no job ran twice
or was lost, that sessions survived moving between nodes and that `openiop audit verify`
passes, writes var/bench/cluster.json and exits non-zero on a lost write, a duplicate run,
a false autosave conflict or a failed audit verification. Every process it started and the
temporary cluster are removed on exit; what a run killed with SIGKILL left is removed by the
next run. The migrated schema comes from a kept dump or the test suite's template database
when one matches the migrations (see restore_schema).
"""

# ruff: noqa: S603, S607 - it runs this repository's own commands and PostgreSQL's tools
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOAD_SECONDS = float(os.environ.get("CLUSTER_LOAD_SECONDS", 75))
MAX_REQUESTS = int(os.environ.get("CLUSTER_MAX_REQUESTS", 6000))
CLINICIANS = int(os.environ.get("CLUSTER_CLINICIANS", 4))
REFERRERS = 2
# Fault times, in seconds after the load starts.
T_KILL, T_RESTART_KILLED, T_PG_RESTART = 18.0, 24.0, 42.0
FAULT_WINDOW = 15.0  # errors this long after a fault count as "during the faults"
REDIS_DB = 9
# A build step (migrate, the demo) slower than this means a machine too busy to measure on.
BUILD_STEP_SECONDS = float(os.environ.get("CLUSTER_BUILD_STEP_SECONDS", 240))
RUN = secrets.token_hex(4)

PROCS: dict[str, subprocess.Popen] = {}
TMP = Path(tempfile.mkdtemp(prefix="openiop-cluster-"))
(TMP / "owner.pid").write_text(str(os.getpid()))
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def log(msg: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S', time.gmtime())}Z] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG_PORT, WEB_PORTS = free_port(), [free_port(), free_port()]
NODES = [f"http://127.0.0.1:{p}" for p in WEB_PORTS]
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "src"),
    "DJANGO_SETTINGS_MODULE": "openiop.settings",
    "OPENIOP_ENV": "production",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "OPENIOP_AUDIT_KEY": secrets.token_urlsafe(40),
    "OPENIOP_VAR_DIR": str(TMP / "var"),
    "DATABASE_URL": f"postgres://openiop@127.0.0.1:{PG_PORT}/openiop",
    "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "OPENIOP_REQUIRE_MFA": "0",
    "OPENIOP_LOG_FORMAT": "plain",
    # The referrers stand behind a proxy on this machine (their own X-Forwarded-For), so the
    # finder's per-address contact limit applies to each of them, not to the test as one.
    "OPENIOP_TRUSTED_PROXIES": "127.0.0.1",
    # A killed worker's job is queued again after 45 s of silence, not 10 minutes.
    "OPENIOP_JOB_STALE_SECONDS": "45",
    "GUNICORN_WORKERS": "2",
    "GUNICORN_THREADS": "8",
}
ENV.pop("TEST_DATABASE_NAME", None)


# --- processes ----------------------------------------------------------------------------

def pg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*AS_POSTGRES, str(PG_BIN / args[0]), *args[1:]], check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pg_start() -> None:
    pg("pg_ctl", "-D", str(TMP / "pg"), "-l", str(TMP / "pg.log"), "-w", "-o",
       f"-p {PG_PORT} -k {TMP} -c listen_addresses=127.0.0.1 -c max_connections=150", "start")


def start(name: str, argv: list[str]) -> None:
    out = open(TMP / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    PROCS[name] = subprocess.Popen(argv, cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    with open(TMP / "groups", "a") as groups:  # for reap_stale_runs, should this run be killed
        groups.write(f"{PROCS[name].pid}\n")


def reap_stale_runs() -> None:
    """Stop what an earlier run left behind when it was killed without its `finally`
    (SIGKILL, a CI timeout): its web nodes, workers and PostgreSQL, and its directory. A
    run whose owner is alive (another checkout's) is left alone."""
    for old in Path(tempfile.gettempdir()).glob("openiop-cluster-*"):
        if old == TMP or _alive(old / "owner.pid"):
            continue
        if not (old / "owner.pid").exists() and time.time() - old.stat().st_mtime < 3600:
            continue  # not ours to judge yet (a run that is just starting)
        groups = (old / "groups").read_text().split() if (old / "groups").exists() else []
        for pid in groups:
            cmdline = Path(f"/proc/{pid}/cmdline")
            with contextlib.suppress(OSError, ValueError):
                if b"openiop" in cmdline.read_bytes():
                    os.killpg(int(pid), signal.SIGKILL)
        if PG_BIN is not None and (old / "pg" / "postmaster.pid").exists():
            pg("pg_ctl", "-D", str(old / "pg"), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(old, ignore_errors=True)
        log(f"removed what a killed run left in {old}")


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def start_web(i: int) -> None:
    start(f"web{i}", [PY, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind",
                      f"127.0.0.1:{WEB_PORTS[i]}", "openiop.wsgi"])


def start_worker(i: int) -> None:
    start(f"worker{i}", [PY, "-m", "openiop", "worker", "--tick", "3",
                         "--worker-id", f"cluster-{RUN}-w{i}"])


def kill(name: str, sig: int = signal.SIGKILL) -> None:
    proc = PROCS.get(name)
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cleanup() -> None:
    for name in list(PROCS):
        kill(name, signal.SIGTERM)
    if PG_BIN is not None and (TMP / "pg" / "postmaster.pid").exists():
        pg("pg_ctl", "-D", str(TMP / "pg"), "-m", "immediate", "-w", "stop", check=False)
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], stdout=subprocess.DEVNULL,
                   check=False)
    shutil.rmtree(TMP, ignore_errors=True)


def wait_ready(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base} not ready after {timeout:.0f} s")


def manage(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "openiop", *args], cwd=ROOT, env=ENV, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def build_cluster(phases: dict[str, float]) -> None:
    if PG_BIN is None:
        raise RuntimeError("PostgreSQL's initdb was not found under /usr/lib/postgresql/*/bin")
    mark = time.monotonic()
    if AS_POSTGRES:
        shutil.chown(TMP, "postgres")
    pg("initdb", "-D", str(TMP / "pg"), "-A", "trust", "-U", "openiop", "-E", "UTF8")
    pg_start()
    pg("createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "openiop", "openiop")
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True,
                   stdout=subprocess.DEVNULL)
    phases["postgresql"] = time.monotonic() - mark
    mark = time.monotonic()
    restored = restore_schema()
    phases["schema_restore"] = time.monotonic() - mark
    for step in (("migrate", "--noinput"), ("demo", "--participants", "60")):
        mark = time.monotonic()
        done = manage(*step, timeout=BUILD_STEP_SECONDS)
        if done.returncode:
            raise RuntimeError(f"openiop {' '.join(step)} failed:\n{done.stdout[-3000:]}")
        phases[step[0]] = time.monotonic() - mark
        if step[0] == "migrate" and not restored:
            try:
                keep_schema()
            except Exception as exc:  # only a saving for the next run
                log(f"the migrated schema was not kept: {exc!r}")
    mark = time.monotonic()
    for i in (0, 1):
        start_web(i)
        start_worker(i)
    for base in NODES:
        wait_ready(base)
    phases["nodes_ready"] = time.monotonic() - mark


# Migrating an empty database is most of the build (minutes on a busy 2-core machine), so
# the migrated schema is reused: a dump kept by an earlier run for the same migrations, or
# the test suite's template database on the machine's PostgreSQL (`make test` builds
# `openiop_tpl_<hash>` just before CI runs this). `migrate` still runs after a restore and
# applies whatever the dump lacked. CLUSTER_TEMPLATE=0 migrates from scratch.
SCHEMA_DIR = ROOT / "var" / "cluster-templates"
SHARED_PG = ["-h", "127.0.0.1", "-p", "5432", "-U", os.environ.get("CLUSTER_SHARED_PG_USER", "root")]


def schema_key() -> str:
    sys.path.insert(0, str(ROOT))
    from django.db import connection

    from tests.template_db import migrations_key  # the test suite's template has this name

    return migrations_key(connection)


def restore_schema() -> bool:
    """Fill the empty database from a migrated schema; False when there is none to use."""
    if os.environ.get("CLUSTER_TEMPLATE", "1") == "0":
        return False
    try:
        key = schema_key()
    except ImportError:  # a copy without the tests folder
        return False
    dump, kept = TMP / "schema.dump", SCHEMA_DIR / f"pg-{key}.dump"
    if kept.exists():
        shutil.copyfile(kept, dump)
        source = kept.name
    elif pg("pg_dump", "-Fc", *SHARED_PG, "-d", f"openiop_tpl_{key}", "-f", str(dump),
            check=False).returncode == 0:
        source = f"openiop_tpl_{key} on the machine's PostgreSQL"
    else:
        return False
    if AS_POSTGRES:
        shutil.chown(dump, "postgres")
    done = pg("pg_restore", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p",
              str(PG_PORT), "-U", "openiop", "-d", "openiop", str(dump), check=False)
    if done.returncode:
        log(f"restoring {source} failed; migrating from scratch:\n{done.stdout[-1500:]}")
        for tool in ("dropdb", "createdb"):
            pg(tool, "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "openiop", "openiop")
        return False
    log(f"schema restored from {source}")
    return True


def keep_schema() -> None:
    """After migrating from scratch: keep the schema for the next run (before the demo)."""
    if os.environ.get("CLUSTER_TEMPLATE", "1") == "0":
        return
    dump = TMP / "schema.dump"
    if pg("pg_dump", "-Fc", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "openiop",
          "-d", "openiop", "-f", str(dump), check=False).returncode == 0:
        SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
        for old in SCHEMA_DIR.glob("pg-*.dump"):  # one set of migrations at a time
            old.unlink()
        building = SCHEMA_DIR / f".{os.getpid()}.building"
        shutil.copyfile(dump, building)
        os.replace(building, SCHEMA_DIR / f"pg-{schema_key()}.dump")


# --- what the load works on (read once from the database) ---------------------------------

def django_setup() -> None:
    os.environ.update({k: ENV[k] for k in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "OPENIOP_ENV",
                                           "ALLOWED_HOSTS", "SECRET_KEY", "OPENIOP_AUDIT_KEY",
                                           "OPENIOP_VAR_DIR", "DATABASE_URL", "REDIS_URL",
                                           "OPENIOP_JOB_STALE_SECONDS")})
    sys.path.insert(0, ENV["PYTHONPATH"])
    import django

    django.setup()


@dataclass
class Work:
    username: str
    notes: list[dict] = field(default_factory=list)  # code, section keys, other values
    bookings: list[tuple[str, str]] = field(default_factory=list)  # (session code, booking)
    pages: list[str] = field(default_factory=list)


def discover() -> tuple[list[Work], str, list[str]]:
    """Each clinician's draft notes and attendance-ready bookings, the director, listings."""
    from django.db import connections
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Perm, require_perm
    from openiop.clinical.formats import sections_for
    from openiop.clinical.models import Note, NoteStatus
    from openiop.core.exceptions import NotPermitted
    from openiop.finder.models import Listing
    from openiop.scheduling.locks import attendance_lock_reason
    from openiop.scheduling.models import Booking, Session
    from openiop.scheduling.selectors import sessions_visible_to

    today_end = timezone.localtime().replace(hour=23, minute=59)
    users = []
    for user in User.objects.filter(is_active=True, staff_profile__isnull=False).order_by("username"):
        if (_can(user, Perm.ATTENDANCE_RECORD, require_perm, NotPermitted)
                and _can(user, Perm.CLINICAL_WRITE, require_perm, NotPermitted)):
            users.append(user)
    # Clinicians with draft notes first (they autosave as well as mark attendance).
    users.sort(key=lambda u: not Note.objects.filter(author=u, status=NoteStatus.DRAFT).exists())
    works = [Work(username=u.username) for u in users[:CLINICIANS]]
    for user, work in zip(users, works, strict=False):
        for note in Note.objects.filter(author=user, status=NoteStatus.DRAFT).order_by("pk")[:3]:
            keys = [sec.key for sec in sections_for(note.kind, note.note_format)]
            if keys:
                work.notes.append({"code": str(note.code), "keys": keys,
                                   "values": dict(note.sections or {}), "version": note.version,
                                   "editor": uuid.uuid4().hex})
    # Each booking whose attendance can be taken now goes to one clinician who can see it
    # (each keeps its own ledger of what it sent last).
    sessions = (Session.objects.filter(starts_at__gte=timezone.now() - timedelta(days=7),
                                       starts_at__lte=today_end)
                .exclude(status=Session.Status.CANCELLED).order_by("-starts_at"))
    turn = 0
    for session in sessions:
        if attendance_lock_reason(session):
            continue
        for _ in range(len(works)):
            user, work = users[turn % len(works)], works[turn % len(works)]
            turn += 1
            if len(work.bookings) < 8 and sessions_visible_to(user).filter(pk=session.pk).exists():
                bookings = session.bookings.filter(status=Booking.Status.BOOKED).order_by("pk")[:3]
                work.bookings += [(str(session.code), str(b.code)) for b in bookings]
                work.pages.append(f"/schedule/sessions/{session.code}/")
                break
    for work in works:
        work.pages += [f"/notes/{n['code']}/" for n in work.notes] + ["/", "/schedule/"]
    planners = [u.username for u in User.objects.filter(is_active=True).order_by("username")
                if _can(u, Perm.SCHEDULE_PLAN, require_perm, NotPermitted)]
    director = "director" if "director" in planners else planners[0]
    listings = [str(code) for code in Listing.objects.filter(
        is_active=True, program__isnull=False).values_list("code", flat=True)[:5]]
    connections.close_all()
    return [w for w in works if w.notes or w.bookings], director, listings


def _can(user: Any, perm: Any, require_perm: Any, not_permitted: Any) -> bool:
    try:
        require_perm(user, perm)
    except not_permitted:
        return False
    return True


# --- load ---------------------------------------------------------------------------------

PASSWORD = "demo-openiop-2026"  # noqa: S105 - the published synthetic demo's password
LOCK = threading.Lock()
T0 = 0.0
SAMPLES: list[tuple[float, str, int, float]] = []  # (t, kind, status or 0, seconds)
STOP = threading.Event()
NODE_UP = [threading.Event(), threading.Event()]


@dataclass
class Ledger:
    # booking -> statuses in the order sent, and the index of the last acknowledged one
    attendance: dict[str, list[str]] = field(default_factory=dict)
    attendance_acked: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # note -> highest marker sent
    notes_acked: dict[str, int] = field(default_factory=dict)
    referrals: list[str] = field(default_factory=list)  # acknowledged markers
    plans: list[dict] = field(default_factory=list)  # week, job, plan, applied
    autosave_conflicts: int = 0  # each note has one writer: every conflict is a false one
    session_moves: int = 0
    session_lost: int = 0


LEDGER = Ledger()


def record(kind: str, status: int, seconds: float) -> None:
    with LOCK:
        SAMPLES.append((time.monotonic() - T0, kind, status, seconds))


def budget_left() -> bool:
    return not STOP.is_set() and len(SAMPLES) < MAX_REQUESTS


class Client:
    """One browser: a cookie jar used against both nodes (a session made on one node is
    used on the other); a request that cannot reach a node is sent to the other one."""

    def __init__(self, first: int) -> None:
        self.http = requests.Session()
        self.node = first
        self.csrf = ""

    def call(self, kind: str, method: str, path: str, *, data: dict | None = None,
             headers: dict | None = None, alternate: bool = True) -> requests.Response | None:
        if alternate:
            self.node = 1 - self.node
        for attempt in range(2):
            base = NODES[self.node]
            started = time.monotonic()
            try:
                hdrs = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""),
                        "Referer": base + "/", **(headers or {})}
                resp = self.http.request(method, base + path, data=data, headers=hdrs,
                                         timeout=15, allow_redirects=False)
            except requests.RequestException:
                record(kind, 0, time.monotonic() - started)
                self.node = 1 - self.node  # the load balancer's failover
                if attempt or STOP.is_set():
                    return None
                continue
            record(kind, resp.status_code, time.monotonic() - started)
            return resp
        return None

    def login(self, username: str) -> bool:
        for _ in range(20):
            page = self.call("login", "GET", "/accounts/login/")
            if page is not None and page.status_code == 200:
                resp = self.call("login", "POST", "/accounts/login/", alternate=False,
                                 data={"username": username, "password": PASSWORD})
                if resp is not None and resp.status_code == 302:
                    return True
            time.sleep(1)
        return False


def ok(resp: requests.Response | None, *codes: int) -> bool:
    return resp is not None and resp.status_code in (codes or (200,))


def clinician(work: Work, index: int) -> None:
    client = Client(index % 2)
    if not client.login(work.username):
        log(f"{work.username}: could not sign in")
        return
    n = 0
    while budget_left():
        n += 1
        page = work.pages[n % len(work.pages)]
        kind = ("roster" if page.startswith("/schedule/sessions/") else
                "note_page" if page.startswith("/notes/") else "dashboard")
        resp = client.call(kind, "GET", page)
        if resp is not None:
            with LOCK:
                LEDGER.session_moves += 1
                if resp.status_code == 302 and "/accounts/login" in resp.headers.get("Location", ""):
                    LEDGER.session_lost += 1
        if work.bookings:
            session, booking = work.bookings[n % len(work.bookings)]
            status = ("present", "absent", "excused")[n % 3]
            with LOCK:
                sent = LEDGER.attendance.setdefault(booking, [])
                sent.append(status)
                idx = len(sent) - 1
            resp = client.call("attendance", "POST",
                               f"/schedule/sessions/{session}/bookings/{booking}/attendance/",
                               data={"status": status}, headers={"HX-Request": "true"})
            if ok(resp) and 'role="alert"' not in resp.text:
                with LOCK:
                    LEDGER.attendance_acked[booking] = idx
        if work.notes:
            note = work.notes[n % len(work.notes)]
            with LOCK:
                seq = LEDGER.notes.get(note["code"], 0) + 1
                LEDGER.notes[note["code"]] = seq
            data = {f"section-{k}": note["values"].get(k, "") for k in note["keys"]}
            data[f"section-{note['keys'][0]}"] = f"cluster {RUN} autosave {seq}"
            # As the note page does: the version it last heard of, its own editor id, and
            # a new save id (the same one when it sends the save again after no answer).
            data |= {"version": str(note["version"]), "editor": note["editor"],
                     "save_id": uuid.uuid4().hex}
            # (A request without an answer is sent again to the other node: same save id.)
            resp = client.call("autosave", "POST", f"/notes/{note['code']}/save/", data=data,
                               headers={"HX-Request": "true"})
            if ok(resp) and "Saved" in resp.text and "HX-Retarget" not in resp.headers:
                with LOCK:
                    LEDGER.notes_acked[note["code"]] = seq
                found = re.search(r'id="note-version" value="(\d+)"', resp.text)
                if found:
                    note["version"] = int(found.group(1))
            elif resp is not None and "HX-Retarget" in resp.headers:
                # Only this thread writes this note: any conflict is a false one.
                with LOCK:
                    LEDGER.autosave_conflicts += 1
                found = re.search(r'name="version" value="(\d+)"', resp.text)
                if found:  # "keep my text": the next save goes on from the saved version
                    note["version"] = int(found.group(1))
            # No answer or an error page: the next save goes out with the same version,
            # as the page's would, and the server takes it as this editor's continuation.
        time.sleep(0.05)


def referrer(index: int, listings: list[str]) -> None:
    n = 0
    while budget_left() and listings:
        n += 1
        client = Client(n % 2)  # a new visitor each time, from its own address
        address = f"10.{index + 1}.{n // 250}.{n % 250 + 1}"
        code = listings[n % len(listings)]
        page = client.call("finder", "GET", f"/find/{code}/", headers={"X-Forwarded-For": address})
        if not ok(page):
            time.sleep(0.5)
            continue
        idem = re.search(r'name="_idem" value="([^"]+)"', page.text)
        marker = f"cluster {RUN} referral {index}-{n}"
        data = {"name": "Sam", "requester": "self", "contact_method": "email",
                "email": "sam@example.test", "need": marker, "consent": "on", "website": "",
                "_idem": idem.group(1) if idem else str(uuid.uuid4())}
        for _ in range(3):  # resend the same form (same key) after a lost answer
            resp = client.call("referral", "POST", f"/find/{code}/contact/", data=data,
                               headers={"X-Forwarded-For": address})
            if ok(resp, 302, 303) and "/sent/" in resp.headers.get("Location", ""):
                with LOCK:
                    LEDGER.referrals.append(marker)
                break
            if resp is not None and resp.status_code < 500 and resp.status_code != 409:
                break
            time.sleep(1)
        time.sleep(0.3)


def director(username: str, weeks: list[str], starts: list[float]) -> None:
    client = Client(0)
    if not client.login(username):
        log("director: could not sign in")
        return
    for week, at in zip(weeks, starts, strict=True):
        while time.monotonic() - T0 < at:
            time.sleep(0.2)
        entry: dict[str, Any] = {"week": week, "job": None, "plan": None, "applied": False}
        LEDGER.plans.append(entry)
        deadline = time.monotonic() + 200
        while entry["job"] is None and time.monotonic() < deadline:
            resp = client.call("plan_start", "POST", "/schedule/plan/", data={"week_start": week})
            found = resp is not None and re.search(r"/schedule/plan/progress/([0-9a-f-]+)/",
                                                   resp.headers.get("Location", ""))
            if found:
                entry["job"] = found.group(1)
            else:
                time.sleep(2)
        while entry["job"] and entry["plan"] is None and time.monotonic() < deadline:
            resp = client.call("plan_progress", "GET", f"/schedule/plan/progress/{entry['job']}/")
            found = resp is not None and re.search(r"/schedule/plan/([0-9a-f-]{36})/",
                                                   resp.headers.get("Location", ""))
            if found:
                entry["plan"] = found.group(1)
            else:
                client.call("jobs_page", "GET", "/jobs/")
                time.sleep(2)
        while entry["plan"] and not entry["applied"] and time.monotonic() < deadline:
            client.call("plan_detail", "GET", f"/schedule/plan/{entry['plan']}/")
            resp = client.call("plan_apply", "POST", f"/schedule/plan/{entry['plan']}/apply/")
            if ok(resp, 302) and "week=" in resp.headers.get("Location", ""):
                entry["applied"] = True
            else:
                time.sleep(2)
        log(f"director: week {week}: {entry}")


def faults(events: list[dict]) -> None:
    def at(t: float) -> bool:
        while time.monotonic() - T0 < t:
            if STOP.is_set():
                return False
            time.sleep(0.1)
        return True

    victim = "worker0"
    if at(T_KILL):
        victim, held = busy_worker()
        log(f"fault: SIGKILL web node 1 and {victim} (running the plan: {held})")
        events.append({"fault": f"sigkill web node 1 + {victim}", "worker_held_plan_job": held,
                       "t": round(time.monotonic() - T0, 2)})
        kill("web0")
        kill(victim)
    if at(T_RESTART_KILLED):
        start_web(0)
        start_worker(int(victim[-1]))
        log(f"restarted web node 1 and {victim}")
    if at(T_PG_RESTART):
        log("fault: pg_ctl restart -m fast")
        events.append({"fault": "postgresql restart", "t": round(time.monotonic() - T0, 2)})
        pg("pg_ctl", "-D", str(TMP / "pg"), "-l", str(TMP / "pg.log"), "-m", "fast", "-w",
           "-o", f"-p {PG_PORT} -k {TMP} -c listen_addresses=127.0.0.1 -c max_connections=150",
           "restart")
        log("postgresql is back")


def busy_worker() -> tuple[str, bool]:
    """The worker running the director's plan, when one is (the harder case), else worker0."""
    from django.db import connections

    from openiop.jobs.models import Job

    try:
        running = list(Job.objects.filter(state=Job.State.RUNNING, kind="plan_week")
                       .values_list("worker", flat=True))
    except Exception:  # the database is busy: any worker will do
        running = []
    connections.close_all()
    pids = {w.rsplit(":", 1)[-1] for w in running}
    held = [name for name in ("worker0", "worker1") if str(PROCS[name].pid) in pids]
    return (held[0], True) if held else ("worker0", False)


def next_mondays(count: int) -> list[str]:
    from django.utils import timezone

    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    return [(monday + timedelta(days=7 * (i + 1))).isoformat() for i in range(count)]


# --- afterwards ---------------------------------------------------------------------------

def drain_jobs(since: Any, timeout: float = 150) -> None:
    """Wait until no job started during the run is queued or running (a killed worker's job
    is queued again after OPENIOP_JOB_STALE_SECONDS)."""
    from django.db import connections

    from openiop.jobs.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            busy = Job.objects.filter(created_at__gte=since, state__in=(
                Job.State.QUEUED, Job.State.RUNNING)).count()
        except Exception:  # the database may still be coming back
            busy = -1
        connections.close_all()
        if busy == 0:
            return
        time.sleep(2)


def verify(since: Any) -> dict[str, Any]:
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from openiop.clinical.models import Note
    from openiop.finder.models import ContactRequest
    from openiop.jobs.models import Job
    from openiop.scheduling.models import Attendance, PlanRun

    lost: list[str] = []
    stored = dict(Attendance.objects.filter(booking__code__in=list(LEDGER.attendance_acked))
                  .values_list("booking__code", "status"))
    stored = {str(k): v for k, v in stored.items()}
    for booking, idx in LEDGER.attendance_acked.items():
        # The acknowledged status, or one sent after it whose answer was lost.
        if stored.get(booking) not in LEDGER.attendance[booking][idx:]:
            lost.append(f"attendance {booking}: acknowledged {LEDGER.attendance[booking][idx]}, "
                        f"stored {stored.get(booking)}")
    for note in Note.objects.filter(code__in=list(LEDGER.notes_acked)):
        text = json.dumps(note.sections)
        found = re.search(rf"cluster {RUN} autosave (\d+)", text)
        if not found or int(found.group(1)) < LEDGER.notes_acked[str(note.code)]:
            lost.append(f"note {note.code}: acknowledged autosave "
                        f"{LEDGER.notes_acked[str(note.code)]}, stored {found and found.group(1)}")
    counts = {}
    for marker in LEDGER.referrals:
        counts[marker] = ContactRequest.objects.filter(need=marker).count()
        if not counts[marker]:
            lost.append(f"referral {marker!r} missing")
    duplicate_writes = sum(c - 1 for c in counts.values() if c > 1)

    jobs = list(Job.objects.filter(created_at__gte=since))
    unfinished = [j for j in jobs if j.state in (Job.State.QUEUED, Job.State.RUNNING)]
    failed = [f"{j.kind}: {j.error}" for j in jobs if j.state == Job.State.FAILED]
    successes: dict[str, int] = {}
    for row in DBTaskResult.objects.filter(enqueued_at__gte=since).successful():
        code = (row.args_kwargs.get("args") or [None])[0]
        successes[code] = successes.get(code, 0) + 1
    duplicates = []
    plan_jobs = [j for j in jobs if j.kind == "plan_week"]
    for week in {p["week"] for p in LEDGER.plans}:
        asked = [j for j in plan_jobs if j.params.get("week_start") == week]
        runs = PlanRun.objects.filter(week_start=week, created_at__gte=since)
        if runs.count() > len(asked):
            duplicates.append(f"week {week}: {runs.count()} plans made for {len(asked)} jobs")
        applied = runs.filter(status=PlanRun.Status.APPLIED).count()
        acked = sum(1 for p in LEDGER.plans if p["week"] == week and p["applied"])
        if applied != acked:
            (duplicates if applied > acked else lost).append(
                f"week {week}: applied {applied} times, acknowledged {acked}")
    duplicates += [f"job {code}: {n} successful task runs" for code, n in successes.items() if n > 1]
    job_rows = [{"week": j.params.get("week_start"), "kind": j.kind, "state": j.state, "attempts": j.attempts, "worker": j.worker,
                 "seconds": round((j.finished_at - j.started_at).total_seconds(), 1)
                 if j.finished_at and j.started_at else None} for j in plan_jobs]
    connections.close_all()
    audit = manage("audit", "verify", timeout=120)
    return {
        "acknowledged_writes": {"attendance": len(LEDGER.attendance_acked),
                                "autosaves": sum(LEDGER.notes_acked.values()),
                                "notes_autosaved": len(LEDGER.notes_acked),
                                "referrals": len(LEDGER.referrals),
                                "plans_applied": sum(1 for p in LEDGER.plans if p["applied"])},
        "acknowledged_writes_lost": len(lost),
        "lost_detail": lost[:20],
        "duplicate_writes": duplicate_writes,
        "duplicate_task_runs": len(duplicates),
        "duplicate_detail": duplicates,
        "jobs": {"started": len(jobs), "unfinished": len(unfinished), "failed": failed,
                 "plan_jobs": job_rows},
        "jobs_lost": len(unfinished),
        "plans": LEDGER.plans,
        "autosave_conflicts": LEDGER.autosave_conflicts,
        "sessions": {"requests_moving_between_nodes": LEDGER.session_moves,
                     "signed_out": LEDGER.session_lost},
        "audit_verify": {"ok": audit.returncode == 0, "output": audit.stdout.strip()[-400:]},
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def latency_report(events: list[dict]) -> dict[str, Any]:
    kinds: dict[str, list[float]] = {}
    for _, kind, _, seconds in SAMPLES:
        kinds.setdefault(kind, []).append(seconds)
    pages = {k: {"requests": len(v), "p50_ms": percentile(v, .5), "p95_ms": percentile(v, .95),
                 "p99_ms": percentile(v, .99)} for k, v in sorted(kinds.items())}
    windows = [(e["t"], e["t"] + FAULT_WINDOW) for e in events]

    def is_error(status: int) -> bool:
        return status == 0 or status >= 500

    during = sum(1 for t, _, s, _ in SAMPLES if is_error(s) and any(a <= t < b for a, b in windows))
    before = sum(1 for t, _, s, _ in SAMPLES if is_error(s) and windows and t < windows[0][0])
    after = sum(1 for t, _, s, _ in SAMPLES if is_error(s) and windows and t >= windows[-1][1])
    for i, event in enumerate(events):
        # Failures from this fault until the next one (at most 60 s) are this fault's.
        end = min(event["t"] + 60, events[i + 1]["t"] if i + 1 < len(events) else float("inf"))
        errs = [t for t, _, s, _ in SAMPLES if is_error(s) and event["t"] <= t < end]
        event["errors"] = len(errs)
        # From the fault to the last failed request it caused.
        event["seconds_to_recover"] = round(max(errs) - event["t"], 2) if errs else 0.0
    statuses: dict[str, int] = {}
    for _, _, s, _ in SAMPLES:
        statuses[str(s or "no answer")] = statuses.get(str(s or "no answer"), 0) + 1
    return {"requests": len(SAMPLES), "statuses": statuses, "pages": pages,
            "errors": {"before_faults": before, "during_faults": during, "after_faults": after},
            "faults": events,
            "seconds_to_recover": max((e["seconds_to_recover"] for e in events), default=0.0)}


def main() -> int:
    global T0
    started = time.monotonic()

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        reap_stale_runs()
        django_setup()  # settings only (the migrations' names); it connects later
        log(f"temporary cluster in {TMP}: PostgreSQL on {PG_PORT}, web on {WEB_PORTS}")
        phases: dict[str, float] = {}
        build_cluster(phases)
        log(f"cluster up in {time.monotonic() - started:.0f} s: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()))
        from django.utils import timezone

        since = timezone.now()
        works, director_name, listings = discover()
        log(f"load: {len(works)} clinicians, director {director_name}, {len(listings)} listings, "
            f"{LOAD_SECONDS:.0f} s or {MAX_REQUESTS} requests")
        events: list[dict] = []
        T0 = time.monotonic()
        threads = [threading.Thread(target=clinician, args=(w, i), daemon=True)
                   for i, w in enumerate(works)]
        threads += [threading.Thread(target=referrer, args=(i, listings), daemon=True)
                    for i in range(REFERRERS)]
        # The first plan is running while a worker is killed; the second starts after the faults.
        plan_thread = threading.Thread(target=director, daemon=True,
                                       args=(director_name, next_mondays(2), [2.0, T_PG_RESTART + 8]))
        fault_thread = threading.Thread(target=faults, args=(events,), daemon=True)
        for t in [*threads, plan_thread, fault_thread]:
            t.start()
        time.sleep(LOAD_SECONDS)
        STOP.set()
        for t in [*threads, fault_thread]:
            t.join(timeout=30)
        plan_thread.join(timeout=240)
        phases["load"] = time.monotonic() - T0
        log(f"load done: {len(SAMPLES)} requests; waiting for jobs")
        mark = time.monotonic()
        drain_jobs(since)
        phases["drain_jobs"] = time.monotonic() - mark
        mark = time.monotonic()
        report = {"run": RUN, "load_seconds": LOAD_SECONDS, **latency_report(events),
                  **verify(since)}
        phases["verify"] = time.monotonic() - mark
        report["phase_seconds"] = {k: round(v, 1) for k, v in phases.items()}
        report["total_seconds"] = round(time.monotonic() - started, 1)
        out = ROOT / "var" / "bench" / "cluster.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"wrote {out.relative_to(ROOT)}")
        print(json.dumps({k: report[k] for k in (
            "requests", "errors", "seconds_to_recover", "acknowledged_writes",
            "acknowledged_writes_lost", "duplicate_writes", "duplicate_task_runs", "jobs_lost",
            "autosave_conflicts", "sessions", "audit_verify", "phase_seconds",
            "total_seconds")}, indent=2))
        failed = (report["acknowledged_writes_lost"] or report["duplicate_task_runs"]
                  or report["duplicate_writes"] or report["jobs_lost"]
                  or report["autosave_conflicts"]
                  or report["sessions"]["signed_out"] or not report["audit_verify"]["ok"])
        return 1 if failed else 0
    finally:
        log("stopping the cluster")
        for name in sorted(PROCS):
            if PROCS[name].poll() not in (None, 0, -15):
                log(f"{name} ended with {PROCS[name].returncode}")
        if os.environ.get("CLUSTER_KEEP_LOGS"):
            dest = ROOT / "var" / "bench" / "cluster-logs"
            dest.mkdir(parents=True, exist_ok=True)
            for f in TMP.glob("*.log"):
                shutil.copy(f, dest / f.name)
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
