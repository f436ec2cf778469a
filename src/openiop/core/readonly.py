"""A read-only database (a failover to a standby, maintenance): say so, lose nothing.

When a write fails because the database is read-only, the request is answered with a 503
that says what happened and that nothing was saved (JSON on the API, a FHIR
OperationOutcome on FHIR, a plain page elsewhere; none of them touches the database), and
this process shows a banner on every page for the next BANNER_SECONDS. Pages that only read
keep working; pages whose reading is audited (a chart) need the audit write and answer the
same 503 until the database takes writes again. `/readyz` reports the database read-only
so the load balancer can prefer nodes that reach the primary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

BANNER_SECONDS = 60.0
_lock = threading.Lock()
_seen_at = 0.0


def is_read_only_error(exc: BaseException) -> bool:
    """PostgreSQL's read_only_sql_transaction (SQLSTATE 25006), or SQLite's read-only file."""
    current: BaseException | None = exc
    while current is not None:
        if getattr(current, "sqlstate", None) == "25006":
            return True
        text = str(current).lower()
        if "read-only transaction" in text or "readonly database" in text:
            return True
        current = current.__cause__
    return False


def mark_read_only() -> None:
    global _seen_at
    with _lock:
        _seen_at = time.monotonic()


def recently_read_only() -> bool:
    return _seen_at > 0 and time.monotonic() - _seen_at < BANNER_SECONDS


MESSAGE = ("The database is read-only for the moment (maintenance or a switch to the backup "
           "server), so nothing could be saved. Your text is still in the form: keep the page "
           "open and send it again in a few minutes.")


def read_only_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/fhir/"):
        return JsonResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "transient", "diagnostics": MESSAGE}]},
            status=503, content_type="application/fhir+json", headers={"Retry-After": "60"})
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=503, headers={"Retry-After": "60"})
    html = loader.get_template("503_read_only.html").render({"message": MESSAGE})
    return HttpResponse(html, status=503, headers={"Retry-After": "60"})


class ReadOnlyDatabaseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DatabaseError) and is_read_only_error(exception):
            mark_read_only()
            return read_only_response(request)
        return None


def read_only_banner(request: HttpRequest) -> dict[str, bool]:
    """Context processor: show the banner while the database was recently read-only."""
    return {"db_read_only": recently_read_only()}
