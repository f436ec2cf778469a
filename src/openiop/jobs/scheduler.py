"""Enqueue due periodic jobs, exactly once per interval across all workers.

Each periodic job has a `PeriodicRun` row. A worker reads its `due_at`; when it has passed,
the worker moves it forward with an UPDATE guarded by the value it read. Only one worker's
UPDATE can match, and that worker starts the job in the same transaction (the job's key,
`periodic:<name>:<due_at>`, is unique: a second guard).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core.periodic import Periodic, registered

from .models import Job, PeriodicRun
from .services import reap_stale_jobs, start_job

# Successful scheduled runs (and their queue rows) are kept this long; failures are kept.
KEEP_SUCCEEDED = timedelta(days=7)

logger = logging.getLogger("openiop.jobs")


def _row(job: Periodic, now: datetime) -> PeriodicRun:
    row = PeriodicRun.objects.filter(name=job.name).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return PeriodicRun.objects.create(name=job.name, due_at=now)
    except IntegrityError:  # another worker created it first
        return PeriodicRun.objects.get(name=job.name)


def run_due(*, now: datetime | None = None, jobs: list[Periodic] | None = None) -> list[str]:
    """Start every periodic job that is due; return the names this call started."""
    now = now or timezone.now()
    started = []
    for job in jobs if jobs is not None else registered():
        try:
            if _start_if_due(job, now):
                started.append(job.name)
        except Exception as exc:
            logger.error("periodic job %s not started: %s", job.name, type(exc).__name__)
    return started


def _start_if_due(job: Periodic, now: datetime) -> bool:
    row = _row(job, now)
    if row.due_at > now:
        return False
    with transaction.atomic():
            won = PeriodicRun.objects.filter(pk=row.pk, due_at=row.due_at).update(
                due_at=now + job.every, last_enqueued_at=now)
            if not won:
                return False
            run = start_job(actor=None, kind=f"periodic:{job.name}"[:60],
                            label=f"Scheduled: {job.name.replace('-', ' ')}", handler=job.task,
                            key=f"periodic:{job.name}:{row.due_at.isoformat()}")
            PeriodicRun.objects.filter(pk=row.pk).update(last_job=run)
    return True


def housekeeping(*, now: datetime | None = None) -> dict[str, int]:
    """Re-queue jobs whose worker died; prune old successful scheduled runs and queue rows."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    counts = reap_stale_jobs(now=now)
    old = now - KEEP_SUCCEEDED
    counts["pruned"], _ = Job.objects.filter(kind__startswith="periodic:", state=Job.State.SUCCEEDED,
                                             finished_at__lt=old).delete()
    DBTaskResult.objects.successful().filter(finished_at__lt=old).delete()
    return counts
