"""Liveness (`/healthz`) and readiness (`/readyz`) for load balancers and orchestrators.

`/healthz` answers 200 while the process can answer at all (no database: a database outage
must not get every node restarted). `/readyz` (django-health-check) checks the database
(reachable and writable), the cache and the task queue's lag, and answers 503 when one
fails, so the load balancer stops sending traffic to the node. Messages carry no secrets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_state(alias: str) -> str | None:
    """None when the database answers and takes writes; else what is wrong, in words."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
                recovery, read_only = cursor.fetchone()
                if recovery or read_only == "on":
                    return "read-only"
    except DatabaseError as exc:
        return f"unreachable ({type(exc).__name__})"
    return None


@dataclasses.dataclass
class Database(HealthCheck):
    alias: str = "default"

    async def run(self) -> None:
        # thread_sensitive: the same thread (and connection) as the request.
        problem = await sync_to_async(_database_state, thread_sensitive=True)(self.alias)
        if problem:
            raise ServiceUnavailable(f"database {problem}")


def _queue_lag_seconds() -> float:
    from django_tasks_db.models import DBTaskResult

    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").values_list(
        "enqueued_at", flat=True).first()
    return 0.0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())


@dataclasses.dataclass
class QueueLag(HealthCheck):
    """The oldest task waiting longer than OPENIOP_QUEUE_LAG_SECONDS: no worker is keeping up."""

    async def run(self) -> None:
        try:
            lag = await sync_to_async(_queue_lag_seconds, thread_sensitive=True)()
        except DatabaseError as exc:
            raise ServiceUnavailable(f"queue unreadable ({type(exc).__name__})") from exc
        limit = float(getattr(settings, "OPENIOP_QUEUE_LAG_SECONDS", 300))
        if lag > limit:
            raise ServiceUnavailable(f"oldest queued task waited {lag:.0f} s (limit {limit:.0f} s)")


class ReadyView(HealthCheckView):
    checks = (
        Database,
        ("health_check.checks.Cache", {"timeout": datetime.timedelta(seconds=2)}),
        QueueLag,
    )

    async def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks()))
        # 503 Service Unavailable: the load balancer takes the node out until it recovers.
        return self.render_to_response_json(503 if any(r.error for r in self.results) else 200)


readyz = ReadyView.as_view()
