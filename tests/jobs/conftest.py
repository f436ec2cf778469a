from __future__ import annotations

import pytest

from . import handlers


@pytest.fixture(autouse=True)
def _reset_calls():
    handlers.CALLS.clear()
    yield
    handlers.CALLS.clear()


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
