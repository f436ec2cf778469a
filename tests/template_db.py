"""Test databases cloned from a migrated template instead of migrated once per worker.

Migrating OpenIOP's schema takes ~20 s of CPU; under pytest-xdist every worker of every run
used to pay it. Here the first worker to need a database migrates a *template* once, under
a lock, and every worker copies it (SQLite: the backup API into the usual in-memory test
database; PostgreSQL: `CREATE DATABASE ... TEMPLATE`, the same copy Django's own parallel
runner makes). The template is named after a hash of every migration file Django would
apply, so a changed, added or removed migration builds a new one; the copy is the result
of the same `migrate` the test runner would have run, so nothing differs but the time.

OPENIOP_TEST_TEMPLATE=0 turns it off (every worker migrates, as Django does by default).
Templates live in var/test-templates/ (SQLite) and as `openiop_tpl_<hash>` databases
(PostgreSQL). A stale template is never chosen again; `make clean-test-templates` removes
them all.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db.backends.base.creation import BaseDatabaseCreation

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "var" / "test-templates"
_LOCK_KEY = 0x0E1A7E  # pg_advisory_lock key shared by every run on the server
_original_create_test_db = BaseDatabaseCreation.create_test_db


def enabled() -> bool:
    return os.environ.get("OPENIOP_TEST_TEMPLATE", "1") != "0"


def migrations_key(connection: Any) -> str:
    """A hash of every migration file on disk (and Django's version and the vendor)."""
    import django
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(f"{django.get_version()}|{connection.vendor}".encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app_label, name in sorted(loader.disk_migrations):
        module = sys.modules[loader.disk_migrations[app_label, name].__module__]
        digest.update(f"{app_label}.{name}".encode())
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:20]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate_into(creation: Any, name: str, verbosity: int) -> None:
    """Run Django's own test-database creation (create, migrate, cache table) into `name`,
    leaving the connection's settings as they were."""
    from django.conf import settings

    conn = creation.connection
    saved_name = conn.settings_dict["NAME"]
    saved_test = dict(conn.settings_dict.get("TEST") or {})
    conn.settings_dict["TEST"] = {**saved_test, "NAME": name}
    try:
        _original_create_test_db(creation, verbosity=verbosity, autoclobber=True,
                                 serialize=False, keepdb=False)
    finally:
        conn.close()
        conn.settings_dict["TEST"] = saved_test
        conn.settings_dict["NAME"] = saved_name
        settings.DATABASES[conn.alias]["NAME"] = saved_name


def _point_at(creation: Any, test_name: str, serialize: bool) -> str:
    """Point the connection (and settings) at the copied test database, as Django's
    create_test_db does after migrating."""
    from django.conf import settings

    conn = creation.connection
    settings.DATABASES[conn.alias]["NAME"] = test_name
    conn.settings_dict["NAME"] = test_name
    conn.ensure_connection()
    if serialize:
        conn._test_serialized_contents = creation.serialize_db_to_string()
    return test_name


def _sqlite(creation: Any, key: str, verbosity: int, serialize: bool) -> str:
    test_name = creation._get_test_db_name()
    template = TEMPLATE_DIR / f"sqlite-{key}.sqlite3"
    with _file_lock(TEMPLATE_DIR / "sqlite.lock"):
        if not template.exists():
            building = template.with_name(f"{template.stem}.{os.getpid()}.building")
            _migrate_into(creation, str(building), verbosity)
            with sqlite3.connect(building) as db:  # one self-contained file
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA journal_mode=DELETE")
            os.replace(building, template)
    conn = creation.connection
    conn.close()  # the on-disk database it had open; an in-memory one lives while open
    if not creation.is_in_memory_db(test_name):  # a file (browser tests): copy the file
        for leftover in (test_name, f"{test_name}-wal", f"{test_name}-shm"):
            Path(leftover).unlink(missing_ok=True)
        shutil.copyfile(template, test_name)
    _point_at(creation, test_name, serialize=False)
    if creation.is_in_memory_db(test_name):
        source = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
        try:
            source.backup(conn.connection)
        finally:
            source.close()
    if serialize:
        conn._test_serialized_contents = creation.serialize_db_to_string()
    return test_name


def _postgres(creation: Any, key: str, verbosity: int, serialize: bool) -> str:
    conn = creation.connection
    test_name = creation._get_test_db_name()
    template = f"openiop_tpl_{key}"
    quote = conn.ops.quote_name
    with creation._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        try:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            if cursor.fetchone() is None:
                building = f"{template}_b{os.getpid()}"
                _migrate_into(creation, building, verbosity)
                cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
            cursor.execute(f"CREATE DATABASE {quote(test_name)} TEMPLATE {quote(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    conn.close()
    return _point_at(creation, test_name, serialize)


def create_test_db(self: Any, verbosity: int = 1, autoclobber: bool = False,
                   serialize: bool = True, keepdb: bool = False) -> str:
    vendor = self.connection.vendor
    if keepdb or not enabled() or vendor not in ("sqlite", "postgresql"):
        return _original_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
    key = migrations_key(self.connection)
    if vendor == "sqlite":
        return _sqlite(self, key, verbosity, serialize)
    return _postgres(self, key, verbosity, serialize)


def install() -> None:
    BaseDatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]
