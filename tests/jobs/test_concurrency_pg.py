"""Several workers on PostgreSQL: no task runs twice, no periodic job is enqueued twice.

django-tasks-db claims a task with SELECT ... FOR UPDATE SKIP LOCKED inside a transaction
and marks it RUNNING before committing, so two workers never claim the same row; the job
runner's guarded QUEUED -> RUNNING update is a second guard. (On SQLite the claim runs in
an exclusive transaction: one writer at a time, the same outcome; `make run` uses one
worker.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from openiop.core.periodic import Periodic
from openiop.jobs.models import Job
from openiop.jobs.scheduler import run_due
from openiop.jobs.services import start_job

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL row locking"),
]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_two_worker_processes_never_run_the_same_task_twice(tmp_path):
    log = tmp_path / "runs.txt"
    jobs = [start_job(actor=None, kind="test", label=f"job {i}", handler="tests.jobs.handlers.record",
                      params={"path": str(log), "tag": f"t{i}", "pause": 0.15}) for i in range(24)]
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
           "DJANGO_SETTINGS_MODULE": "openiop.settings"}
    env.pop("TEST_DATABASE_NAME", None)
    workers = [subprocess.Popen([sys.executable, "-m", "django", "jobs_worker", "--batch",
                                 "--worker-id", f"w{n}"], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for n in (1, 2)]
    for w in workers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0, out.decode()[-2000:]
    lines = log.read_text().split("\n")[:-1]
    tags = sorted(line.split()[0] for line in lines)
    assert tags == sorted(f"t{i}" for i in range(24))  # each ran exactly once
    assert len({line.split()[1] for line in lines}) == 2  # and both workers took some
    tasks = DBTaskResult.objects.filter(id__in=[j.task_id for j in jobs])
    assert {t.status for t in tasks} == {"SUCCESSFUL"}
    assert all(len(t.worker_ids) == 1 for t in tasks)
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}


def test_two_schedulers_ticking_at_the_same_instant_enqueue_once():
    job = Periodic("test-race", timedelta(minutes=1), "tests.jobs.handlers.count_to")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    run_due(now=now - timedelta(minutes=1), jobs=[job])  # the row exists; due at `now`
    barrier = threading.Barrier(4)
    started: list[list[str]] = []

    def tick() -> None:
        try:
            barrier.wait()
            started.append(run_due(now=now, jobs=[job]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(started) == [[], [], [], ["test-race"]]
    assert Job.objects.filter(kind="periodic:test-race").count() == 2
