"""`openiop worker`: run background jobs, and the periodic scheduler beside them.

One process runs django-tasks-db's worker loop (claiming one queued task at a time with
SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an exclusive transaction on SQLite) and a
scheduler thread that enqueues due periodic jobs every `--tick` seconds. Start as many
worker processes as you like: no task runs twice and no periodic job is enqueued twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.crypto import get_random_string

from openiop.jobs.scheduler import housekeeping, run_due

logger = logging.getLogger("openiop.jobs")


def scheduler_loop(stop: threading.Event, tick: float) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            run_due()
            housekeeping()
        except Exception as exc:
            logger.warning("scheduler tick failed: %s", type(exc).__name__)
        finally:
            connections.close_all()  # this thread's connections
        stop.wait(tick)


def run_surviving_outages(worker: Any, *, max_delay: float = 30.0) -> None:
    """Run the worker loop; when the database goes away (a restart, a failover) wait and
    start the loop again instead of exiting, so a database restart does not leave the
    cluster without workers. A job interrupted by the outage is retried by the job runner
    or, if its worker state was lost, queued again by the scheduler's housekeeping."""
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            worker.run()
            return  # stopped by a signal, or --batch found the queue empty
        except (OperationalError, InterfaceError) as exc:
            if not worker.running:
                return
            if time.monotonic() - started > 2 * max_delay:
                delay = 1.0  # a new outage after a good run starts from a short wait
            logger.warning("worker: the database is unavailable (%s); trying again in %.0f s",
                           type(exc).__name__, delay)
        connections.close_all()
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


class Command(BaseCommand):
    help = "Run background jobs and the periodic scheduler (Ctrl-C to stop)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds between looks at an empty queue (default 1).")
        parser.add_argument("--tick", type=float, default=15.0,
                            help="Seconds between scheduler ticks (default 15).")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="Run jobs only; another process schedules.")
        parser.add_argument("--batch", action="store_true",
                            help="Run what is queued, then exit (no scheduler).")
        parser.add_argument("--worker-id", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        stop = threading.Event()
        if not options["no_scheduler"] and not options["batch"]:
            threading.Thread(target=scheduler_loop, args=(stop, options["tick"]),
                             name="openiop-scheduler", daemon=True).start()
        worker = Worker(
            queue_names=["default"], interval=options["interval"], batch=options["batch"],
            backend_name="default", startup_delay=not options["batch"], max_tasks=None,
            worker_id=(options["worker_id"] or get_random_string(32))[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        self.stdout.write(f"OpenIOP worker {worker.worker_id} started.")
        try:
            run_surviving_outages(worker)
        finally:
            stop.set()
