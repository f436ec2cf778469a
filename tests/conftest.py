"""Shared fixtures: personas from STYLE.md (a clinician, a colleague on the same team,
an outsider from another organization, a participant).

The suite's clock: with OPENIOP_TEST_NOW set (an ISO instant, e.g.
`2026-03-08T01:30:00-05:00`), every test runs as if the wall clock had started at that
instant and kept ticking (`time-machine`). `make test-dates` runs the suite at a Sunday, a
Monday, the 2026 DST changes, New Year's Eve and 29 February 2028 this way, so no test can
depend on the day it happens to run.
"""

from __future__ import annotations

import os
import re
import unittest
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from openiop.accounts.models import Role, User
from openiop.care.models import EpisodeOfCare, Program, Track
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Participant

from . import factories as f
from . import template_db

template_db.install()


def _test_now() -> datetime | None:
    value = os.environ.get("OPENIOP_TEST_NOW", "").strip()
    if not value:
        return None
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:  # a local instant at the clinics' default zone
        when = when.replace(tzinfo=ZoneInfo(os.environ.get("OPENIOP_TIME_ZONE",
                                                           "America/New_York")))
    return when


_CLOCK: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _CLOCK
    when = _test_now()
    if when is not None and _CLOCK is None:
        _CLOCK = time_machine.travel(when, tick=True)
        _CLOCK.start()


def pytest_report_header(config: pytest.Config) -> str:
    when = _test_now()
    return f"clock: {'started at ' + when.isoformat() if when else 'real time'}"


def pytest_unconfigure(config: pytest.Config) -> None:
    global _CLOCK
    if _CLOCK is not None:
        _CLOCK.stop()
        _CLOCK = None


# Tests that cannot reach a database (no database fixture, no django_db mark, not a
# unittest TestCase, and a module that never mentions the database environment) give the
# same answer on SQLite and PostgreSQL. `make test` runs them on SQLite only
# (OPENIOP_SKIP_DATABASE_FREE=1 in its PostgreSQL run); `make test-dates` runs everything.
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server",
                      "django_db_serialized_rollback", "django_user_model"}
_DATABASE_WORDS = re.compile(r"DATABASE_URL|postgres|vendor|connection|subprocess|db_blocker",
                             re.I)


def _may_touch_database(item: pytest.Item, sources: dict[str, str]) -> bool:
    if set(getattr(item, "fixturenames", ())) & _DATABASE_FIXTURES:
        return True
    if item.get_closest_marker("django_db") is not None:
        return True
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, unittest.TestCase):
        return True
    path = str(item.fspath)
    if path not in sources:
        sources[path] = Path(path).read_text(encoding="utf-8")
    return bool(_DATABASE_WORDS.search(sources[path]))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("OPENIOP_SKIP_DATABASE_FREE") != "1":
        return
    sources: dict[str, str] = {}
    keep, skip = [], []
    for item in items:
        (keep if _may_touch_database(item, sources) else skip).append(item)
    if skip:
        config.hook.pytest_deselected(items=skip)
        items[:] = keep


def _flush_past_the_signed_note_guard() -> None:
    """Transactional tests end with `flush`, which on SQLite DELETEs every row; the
    signed-note triggers (clinical.signed_guard) rightly refuse to delete a signed note, so
    the suite's flush lifts them for itself and puts them back (PostgreSQL's flush
    TRUNCATEs, which the row triggers do not see).

    The flush also empties what a data migration loaded (the skills module library,
    skills/0002_load_library): it is loaded again, so the test after a transactional one
    finds the database as migrated, whatever the order."""
    from django.core.management.commands import flush

    original = flush.Command.handle

    def handle(self: flush.Command, **options: object) -> object:
        from django.db import connections

        from openiop.clinical import signed_guard
        from openiop.skills.library import library_sync

        conn = connections[str(options.get("database") or "default")]
        if conn.vendor != "sqlite":
            result = original(self, **options)
            library_sync()
            return result
        with conn.cursor() as cursor:
            for statement in signed_guard.drop_sqlite():
                cursor.execute(statement)
        try:
            result = original(self, **options)
        finally:
            with conn.cursor() as cursor:
                cursor.execute("PRAGMA table_info(clinical_note)")
                columns = [row[1] for row in cursor.fetchall()]
                for statement in signed_guard.sqlite_statements(columns):
                    cursor.execute(statement)
        library_sync()
        return result

    flush.Command.handle = handle  # type: ignore[method-assign]


_flush_past_the_signed_note_guard()


@pytest.fixture(autouse=True)
def _test_clock() -> object:
    """Each test starts at OPENIOP_TEST_NOW (when set), so none sees another's drift."""
    when = _test_now()
    if when is None:
        yield None
        return
    with time_machine.travel(when, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_mfa_by_default(settings):
    """Most tests are about other things; MFA tests turn it back on explicitly."""
    settings.OPENIOP_REQUIRE_MFA = False


@pytest.fixture(autouse=True)
def _audit_key_and_checkpoints(settings, tmp_path):
    """A fixed audit key (never the checkout's var/ key) and a private checkpoint folder."""
    settings.OPENIOP_AUDIT_KEY = "test-audit-key-" + "k" * 40
    settings.OPENIOP_AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """PostgreSQL: let the suite's database flush (transactional tests) truncate the audit
    table, which its trigger refuses otherwise (audit migration 0005); and commit without
    waiting for the disk (synchronous_commit off: what is committed is seen by every other
    connection at once, only a crash of the server could lose it - a throwaway test
    database's commits, flushes and live-server requests need not wait for fsync)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET openiop.allow_audit_truncate = 'on'")
                cursor.execute("SET openiop.allow_audit_truncate = 'on'")
                cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = 'off'")
                cursor.execute("SET synchronous_commit = 'off'")


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> object:
    """pytest-django's live server, whose request threads end with it (tests/live_server.py)."""
    from .live_server import live_server_address, start_live_server

    server = start_live_server(live_server_address(request.config))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _clear_axes_cache():
    from django.core.cache import cache

    cache.clear()


@dataclass
class World:
    org: Organization
    site: Site
    program: Program
    track: Track
    clinician: User
    colleague: User
    director: User
    participant: Participant
    episode: EpisodeOfCare
    outsider_org: Organization
    outsider: User
    outsider_participant: Participant


@pytest.fixture
def world(db) -> World:
    org = f.organization(name="Riverbend Test")
    s = f.site(org)
    prog = f.program(org, s)
    tr = f.track(prog)
    clinician = f.staff(org, Role.CLINICIAN, credentials=["LCSW"], username="clin")
    colleague = f.staff(org, Role.CLINICIAN, credentials=["LPC"], username="colleague")
    director = f.staff(org, Role.DIRECTOR, username="boss")
    p = f.participant(org, legal_first_name="Jamie", legal_last_name="Rivera")
    ep = f.episode(p, prog, therapist=clinician)
    f.enrollment(ep, tr)
    other = f.organization(name="Elsewhere Health")
    outsider = f.staff(other, Role.DIRECTOR, username="outsider")
    other_p = f.participant(other, legal_first_name="Other", legal_last_name="Person")
    return World(org, s, prog, tr, clinician, colleague, director, p, ep, other, outsider,
                 other_p)


def login(user: User) -> Client:
    """A client signed in as `user`, its session stamped as written now, as a sign-in through
    the sign-in page leaves it (openiop.core.sessions: the next minute's requests do not write
    the session again)."""
    client = Client()
    client.force_login(user)
    stamp_session(client)
    return client


def stamp_session(client: Client) -> None:
    from django.utils import timezone

    from openiop.core.sessions import WRITTEN_AT_KEY

    session = client.session
    session[WRITTEN_AT_KEY] = timezone.now().timestamp()
    session.save()


@pytest.fixture
def as_clinician(world: World) -> Client:
    return login(world.clinician)


@pytest.fixture
def as_outsider(world: World) -> Client:
    return login(world.outsider)


@pytest.fixture
def as_director(world: World) -> Client:
    return login(world.director)


@pytest.fixture
def run_worker(monkeypatch):
    """Run what is queued with django-tasks-db's worker, in this process and transaction."""
    from django_tasks_db.management.commands import db_worker

    # The worker closes stale connections between tasks; inside a test's transaction that
    # would roll the test back, so it is a no-op here.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(worker_id: str = "test-worker") -> int:
        worker = db_worker.Worker(queue_names=["default"], interval=0, batch=True,
                                  backend_name="default", startup_delay=False, max_tasks=None,
                                  worker_id=worker_id, excluded_queue_names=[])
        worker.run()
        return worker._run_tasks

    return run
