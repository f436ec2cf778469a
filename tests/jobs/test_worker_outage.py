"""`openiop worker` survives a database restart instead of exiting."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError

from openiop.jobs.management.commands import jobs_worker


class FakeWorker:
    """Fails its loop with the given errors, then returns (as a signal stop does)."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = list(errors)
        self.running = True
        self.runs = 0

    def run(self) -> None:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)


def test_worker_loop_restarts_after_database_errors_with_growing_waits():
    worker = FakeWorker([OperationalError("server closed the connection"),
                         InterfaceError("connection already closed"),
                         OperationalError("the database system is shutting down")])
    with mock.patch.object(jobs_worker.time, "sleep") as sleep:
        jobs_worker.run_surviving_outages(worker, max_delay=3.0)
    assert worker.runs == 4
    assert [c.args[0] for c in sleep.call_args_list] == [1.0, 2.0, 3.0]


def test_worker_loop_stops_when_the_worker_was_told_to_stop():
    worker = FakeWorker([OperationalError("server closed the connection")])
    worker.running = False
    with mock.patch.object(jobs_worker.time, "sleep") as sleep:
        jobs_worker.run_surviving_outages(worker)
    assert worker.runs == 1
    sleep.assert_not_called()


def test_other_errors_still_stop_the_worker():
    worker = FakeWorker([ValueError("a bug")])
    with mock.patch.object(jobs_worker.time, "sleep"), pytest.raises(ValueError, match="a bug"):
        jobs_worker.run_surviving_outages(worker)
    assert worker.runs == 1
