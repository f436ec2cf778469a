"""The task queue and jobs at /metrics, read from the database at scrape time, so every web
node reports the same numbers whichever worker ran the tasks (registered in
`JobsConfig.ready()`; the /metrics page is `openiop.core.metrics`).

- `openiop_task_queue_depth` (gauge): tasks waiting to run.
- `openiop_task_queue_lag_seconds` (gauge): how long the oldest waiting task has waited.
- `openiop_jobs_failed` / `openiop_jobs_succeeded` (gauges): jobs finished in the last 24 h.
- `openiop_jobs_running` (gauge).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.db import Error as DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger("openiop.metrics")


_NAMES = ("openiop_task_queue_depth", "openiop_task_queue_lag_seconds", "openiop_jobs_running",
          "openiop_jobs_failed", "openiop_jobs_succeeded")


class QueueCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Registration asks for the names here instead of collecting (no query at start-up).
        for name in _NAMES:
            yield GaugeMetricFamily(name, name)

    def collect(self) -> Iterator[Metric]:
        from django_tasks_db.models import DBTaskResult

        from .models import Job

        try:
            ready = DBTaskResult.objects.ready()
            depth = ready.count()
            oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
            since = timezone.now() - timedelta(hours=24)
            finished = _finished(since)
            running = Job.objects.filter(state=Job.State.RUNNING).count()
        except DatabaseError as exc:
            logger.warning("queue metrics unavailable: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily("openiop_task_queue_depth", "Tasks waiting to run.", value=depth)
        lag = 0.0 if oldest is None else (timezone.now() - oldest).total_seconds()
        yield GaugeMetricFamily("openiop_task_queue_lag_seconds",
                                "Seconds the oldest waiting task has waited.", value=max(0.0, lag))
        yield GaugeMetricFamily("openiop_jobs_running", "Jobs running now.", value=running)
        yield GaugeMetricFamily("openiop_jobs_failed", "Jobs failed in the last 24 hours.",
                                value=finished.get("failed", 0))
        yield GaugeMetricFamily("openiop_jobs_succeeded", "Jobs done in the last 24 hours.",
                                value=finished.get("succeeded", 0))


def _finished(since: object) -> dict[str, int]:
    from django.db.models import Count

    from .models import Job

    return {row["state"]: row["n"] for row in Job.objects.filter(finished_at__gte=since)
            .values("state").annotate(n=Count("id"))}


_registered = False


def register_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(QueueCollector())
        _registered = True
