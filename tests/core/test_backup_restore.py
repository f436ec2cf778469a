"""A backup is only as good as its restore: pg_dump the test database, restore it into a
fresh database, and run `openiop audit verify` there (docs/deploy.md, "Backups")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore"),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools"),
]
ROOT = Path(__file__).resolve().parents[2]


def _url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgresql://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _verify(url: str) -> subprocess.CompletedProcess:
    from django.conf import settings

    # The restored chain was keyed with this test run's audit key: the command must use it.
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src"),
           "DJANGO_SETTINGS_MODULE": "openiop.settings",
           "OPENIOP_AUDIT_KEY": settings.OPENIOP_AUDIT_KEY,
           "OPENIOP_AUDIT_CHECKPOINT_DIR": str(settings.OPENIOP_AUDIT_CHECKPOINT_DIR)}
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.run([sys.executable, "-m", "openiop.cli", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_dump_restores_into_a_fresh_database_whose_audit_chain_verifies(world, tmp_path):
    for _ in range(5):
        audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                     participant=world.participant)
    source = connection.settings_dict["NAME"]
    target = f"{source}_restore"
    dump = tmp_path / "openiop.dump"
    # The documented backup command: custom format, no owners (restorable as another role).
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}",
                    _url(source)], check=True, timeout=300)
    admin = _url("postgres")
    subprocess.run(["psql", admin, "-q", "-c", f'DROP DATABASE IF EXISTS "{target}"'], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f'CREATE DATABASE "{target}"'], check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_url(target)}",
                        str(dump)], check=True, timeout=300)
        done = _verify(_url(target))
        assert done.returncode == 0, done.stderr[-2000:]
        events = connection.cursor()
        events.execute("SELECT COUNT(*) FROM audit_accessevent")
        total = events.fetchone()[0]
        assert f"Audit chain intact: {total} events verified." in done.stdout
        # The restored copy is a real, independent database: tampering with it is caught.
        # (Sequence numbers depend on what ran before in this database: take the first.)
        events.execute("SELECT MIN(seq) FROM audit_accessevent")
        first = events.fetchone()[0]
        seq = int(first)  # an integer read from the database, not input
        tamper = f"SET session_replication_role = replica; UPDATE audit_accessevent SET reason = 'edited' WHERE seq = {seq}"  # noqa: S608
        subprocess.run(["psql", _url(target), "-q", "-c", tamper], check=True)
        broken = _verify(_url(target))
        assert broken.returncode != 0 and f"BROKEN at event #{first}" in broken.stderr
    finally:
        subprocess.run(["psql", admin, "-q", "-c", f'DROP DATABASE IF EXISTS "{target}"'])
