"""Job handlers the tests queue (importable by dotted path, also from a worker process)."""

from __future__ import annotations

import os
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError

CALLS: list[str] = []


def count_to(*, n: int, progress) -> dict:
    for i in range(1, n + 1):
        progress(phase="Counting", percent=i * 100 // n, message=f"{i} of {n}",
                 best={"reached": i}, force=True)
    CALLS.append(f"count_to:{n}")
    return {"counted": n}


def flaky(*, failures: int, job) -> dict:
    """Fails with a transient database error on the first `failures` calls."""
    CALLS.append("flaky")
    if CALLS.count("flaky") <= failures:
        raise OperationalError("server closed the connection unexpectedly")
    return {"ok": True, "calls": CALLS.count("flaky")}


def refuse() -> None:
    raise ValidationError({"week_start": "A week starts on a Monday."})


def leak_row() -> None:
    raise IntegrityError('new row violates check constraint "dose_positive" DETAIL: Failing '
                         "row contains (17, sertraline, oral, depression).")


def record(*, path: str, tag: str, pause: float = 0.02) -> dict:
    """Append the tag to a file: the test counts how often each job really ran."""
    time.sleep(pause)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{tag} {os.getpid()}\n")
    return {"tag": tag}


from django_tasks import task  # noqa: E402


@task()
def a_django_task() -> dict:
    """The shape other apps' periodic targets take (a django-tasks @task)."""
    CALLS.append("a_django_task")
    return {"ran": True}


def tick() -> dict:
    """A periodic target: takes no arguments."""
    CALLS.append("tick")
    return {"ticked": True}
