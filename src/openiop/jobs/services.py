"""Starting background jobs, reporting their progress, and running them.

A job is started by a service (`start_job`) in the same transaction as the request that
asks for it: the Job row, its audit event and the queued task commit together or not at
all. The worker runs `openiop.jobs.tasks.run_job`, which claims the Job with a guarded
UPDATE (QUEUED -> RUNNING): even if the queue delivered a task twice, the job runs once.
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from openiop.accounts.models import User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import DomainError

from .models import Job

logger = logging.getLogger("openiop.jobs")

# Transient database errors (a restart, a dropped connection, a serialization failure) are
# retried with exponential back-off; anything else fails the job at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
# A running job that reported nothing for this long lost its worker (killed, restarted).
STALE_AFTER = timedelta(seconds=settings.OPENIOP_JOB_STALE_SECONDS)


def start_job(*, actor: User, kind: str, label: str, handler: str, params: dict | None = None,
              organization: Any = None, key: str | None = None, payload: bytes | None = None,
              request: HttpRequest | None = None) -> Job:
    """Queue `handler(**params)` to run in a worker; return its Job.

    With a `key`, a second start for the same key returns the first job (no second run).
    """
    from .tasks import run_job

    import_string(handler)  # fail now, in the request, on a wrong path
    with transaction.atomic():
        if key is not None:
            existing = Job.objects.filter(key=key).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind, label=label[:200], handler=handler, params=params or {},
                    organization=organization, key=key, payload=payload,
                    started_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:
            # Another request started the same key a moment ago.
            return Job.objects.get(key=key)
        if job.started_by is not None:  # a person asked; the scheduler's runs are not audited
            audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.JOB, object_id=job.code,
                         organization=organization, request=request, reason=kind)
        enqueued = run_job.enqueue(str(job.code))
        Job.objects.filter(pk=job.pk).update(task_id=str(enqueued.id)[:64])
    job.refresh_from_db()
    return job


class Progress:
    """What a running job reports: phase, percent, a message, the best result so far.

    Writes are throttled (at most one every `interval` seconds unless `force=True`) and each
    write is a heartbeat. Called from another thread (the CP-SAT solution callback), it
    writes through that thread's own connection when the job runs in a worker, and keeps
    the values for the next write otherwise (inside a request's transaction).
    """

    def __init__(self, job: Job, *, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self._owner = threading.get_ident()
        self._cross_thread = not transaction.get_connection().in_atomic_block
        self._last = 0.0
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, *, phase: str | None = None, percent: int | None = None,
                 message: str | None = None, best: dict | None = None,
                 force: bool = False) -> None:
        with self._lock:
            if phase is not None:
                self._pending["phase"] = phase[:120]
            if percent is not None:
                self._pending["percent"] = max(0, min(100, int(percent)))
            if message is not None:
                self._pending["message"] = message[:300]
            if best is not None:
                self._pending["best"] = best
            now = time.monotonic()
            if not force and now - self._last < self.interval:
                return
            own_thread = threading.get_ident() == self._owner
            if not own_thread and not self._cross_thread:
                return
            fields, self._pending = self._pending, {}
            self._last = now
        for name, value in fields.items():
            setattr(self.job, name, value)
        try:
            Job.objects.filter(pk=self.job.pk).update(heartbeat_at=timezone.now(), **fields)
        except DatabaseError:
            if own_thread:
                raise
            logger.warning("job %s: progress not saved (database busy)", self.job.code)
        finally:
            if not own_thread:
                from django.db import connections

                connections.close_all()  # this thread's connections only


def report_detached(progress: Any, **fields: Any) -> None:
    """Report progress from inside a long transaction (building the demo): the write goes
    through a short-lived thread's own connection, so the jobs page sees it before the
    transaction ends. Inside a test's or a request's transaction it is kept for the end."""
    thread = threading.Thread(target=progress, kwargs={**fields, "force": True})
    thread.start()
    thread.join()


def plain_error(exc: BaseException, job: Job) -> str:
    """The failure in words a director can act on; never a traceback or a database detail."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(f"{k.replace('_', ' ').capitalize()}: {' '.join(v)}"
                            for k, v in exc.message_dict.items())[:500]
        return " ".join(exc.messages)[:500]
    if isinstance(exc, DomainError):
        return exc.message[:500]
    if isinstance(exc, TRANSIENT_ERRORS):
        return (f"The database was unavailable {MAX_ATTEMPTS} times in a row; nothing was "
                "changed. Start it again when the system is back.")
    return (f"An unexpected error stopped it (reference {job.code}); nothing was changed. "
            "Start it again; if it fails again, give the reference to support.")


def _call(func: Any, job: Job, progress: Progress) -> Any:
    from django_tasks.base import Task

    target = func.func if isinstance(func, Task) else func
    wanted = inspect.signature(target).parameters
    kwargs = dict(job.params)
    if "job" in wanted:
        kwargs["job"] = job
    if "progress" in wanted:
        kwargs["progress"] = progress
    return target(**kwargs)


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


sleep: Callable[[float], None] = time.sleep  # replaced in tests


def execute(job_code: str) -> str:
    """Run one queued job; return its final state. The worker's task calls this."""
    now = timezone.now()
    claimed = Job.objects.filter(code=job_code, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1,
        worker=worker_label(),
    )
    job = Job.objects.filter(code=job_code).first()
    if job is None:
        return "missing"
    if not claimed:
        logger.warning("job %s: already %s, not run again", job.code, job.state)
        return job.state
    progress = Progress(job)
    in_request = transaction.get_connection().in_atomic_block
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            func = import_string(job.handler)
            if in_request:  # immediate backend: keep a failure from breaking the request
                with transaction.atomic():
                    result = _call(func, job, progress)
            else:
                result = _call(func, job, progress)
        except TRANSIENT_ERRORS as exc:
            logger.warning("job %s: transient database error (%s), attempt %d of %d",
                           job.code, type(exc).__name__, attempt, MAX_ATTEMPTS)
            if attempt == MAX_ATTEMPTS:
                return _fail(job, exc)
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            if not in_request:
                from django.db import close_old_connections

                close_old_connections()
        except Exception as exc:
            return _fail(job, exc)
        else:
            # What the job reported last and could not write yet (from another thread inside
            # a transaction), then the outcome: the outcome wins where both name a field.
            Job.objects.filter(pk=job.pk).update(**{
                **progress._pending, "state": Job.State.SUCCEEDED, "finished_at": timezone.now(),
                "percent": 100, "result": result if isinstance(result, dict) else {},
                "heartbeat_at": timezone.now()})
            return Job.State.SUCCEEDED
    return job.state  # unreachable: the loop returns


def _fail(job: Job, exc: BaseException) -> str:
    # The exception's text can carry database row contents: log its class only.
    logger.error("job %s (%s) failed: %s", job.code, job.kind, type(exc).__name__)
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, finished_at=timezone.now(),
                                         error=plain_error(exc, job))
    return Job.State.FAILED


def reap_stale_jobs(*, now: Any = None) -> dict[str, int]:
    """Jobs whose worker died: queue them again (up to MAX_ATTEMPTS runs), else fail them."""
    from .tasks import run_job

    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    stale = Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    for job in stale:
        with transaction.atomic():
            if job.attempts < MAX_ATTEMPTS:
                moved = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING,
                                           heartbeat_at=job.heartbeat_at).update(
                    state=Job.State.QUEUED, message="Started again: its worker stopped.")
                if moved:
                    run_job.enqueue(str(job.code))
                    counts["requeued"] += 1
            else:
                moved = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                    state=Job.State.FAILED, finished_at=now,
                    error="Its worker stopped before it finished, three times; nothing more "
                          "will be tried. Start it again.")
                counts["failed"] += moved
    return counts
