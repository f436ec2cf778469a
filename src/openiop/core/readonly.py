"""A read-only database (a failover to a standby, maintenance): say so, lose nothing.

When a write fails because the database is read-only, the request is answered with a 503
that says what happened and that nothing was saved (JSON on the API, a FHIR
OperationOutcome on FHIR, a plain page elsewhere; none of them touches the database), and
this process shows a banner on every page for the next BANNER_SECONDS. Pages that only read
keep working, with the banner (on PostgreSQL it shows before anyone tries to save: the
context processor asks the database every few seconds); pages whose reading is audited (a
chart, a participant's API data) need the audit write and answer a 503 that says the access
could not be recorded and nothing was shown, until the database takes writes again. A
failed session save never turns a page into an error (core/sessions.py). `/readyz` reports the database read-only
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


PROBE_SECONDS = 5.0
_probed_at = 0.0


def probe_read_only() -> bool:
    """On PostgreSQL, ask whether this connection's transactions are read-only (a standby,
    `default_transaction_read_only`), at most every PROBE_SECONDS per process, so the banner
    shows before anyone tries to save. The question goes through the driver's own cursor:
    it is not one of the page's queries (query counts in tests stay the same)."""
    global _probed_at
    from django.db import connection

    now = time.monotonic()
    if connection.vendor != "postgresql" or now - _probed_at < PROBE_SECONDS:
        return False
    _probed_at = now
    try:
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute("SHOW transaction_read_only")
            row = cursor.fetchone()
    except Exception:  # a probe; the page goes on without it
        return False
    if row and row[0] == "on":
        mark_read_only()
        return True
    return False


MESSAGE = ("The database is read-only for the moment (maintenance or a switch to the backup "
           "server), so nothing could be saved. Your text is still in the form: keep the page "
           "open and send it again in a few minutes.")
# A page that shows a health record must record who opened it (HIPAA audit controls,
# 45 CFR 164.312(b)); when that record cannot be written, the page is not shown.
READ_MESSAGE = ("This page could not be shown: every opening of a health record is recorded, "
                "and the database is read-only for the moment (maintenance or a switch to the "
                "backup server), so this access could not be recorded. Nothing was shown or "
                "changed. Try again in a few minutes; pages without health records still work.")


def read_only_response(request: HttpRequest) -> HttpResponse:
    reading = request.method in ("GET", "HEAD", "OPTIONS")
    message = READ_MESSAGE if reading else MESSAGE
    if request.path.startswith("/fhir/"):
        return JsonResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "transient", "diagnostics": message}]},
            status=503, content_type="application/fhir+json", headers={"Retry-After": "60"})
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=503, headers={"Retry-After": "60"})
    html = loader.get_template("503_read_only.html").render({
        "message": message, "reading": reading,
        "title": "This record cannot be opened right now" if reading else "Saving is paused"})
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
    """Context processor: show the banner while the database is, or was recently, read-only."""
    return {"db_read_only": recently_read_only() or probe_read_only()}
