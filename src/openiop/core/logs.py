"""Logging: a request id on every line, JSON output, and no database row contents.

- `RequestIdMiddleware` takes a sane `X-Request-ID` from the proxy or makes one, keeps it for
  the request's log lines and returns it in the response header.
- `RequestIdFilter` adds `request_id` to every record; `JsonFormatter` writes one JSON object
  per line (time, level, logger, message, request id, exception).
- `ScrubDatabaseDetail` removes what database errors quote from rows: PostgreSQL's
  "Failing row contains (...)", "Key (...)=(...)" and any DETAIL line, from the message, its
  arguments and the formatted traceback. Clinical content must never reach a log.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_PATTERNS = (
    # PostgreSQL: DETAIL:  Failing row contains (...). / Key (email)=(x@y) already exists.
    (re.compile(r"DETAIL:.*?(?=\n|$)", re.DOTALL), "DETAIL: [removed]"),
    (re.compile(r"Failing row contains \(.*?\)(?=\.?\s*$|\.?\n)", re.DOTALL | re.MULTILINE),
     "Failing row contains ([removed])"),
    (re.compile(r"Key \((.*?)\)=\(.*?\)"), r"Key (\1)=([removed])"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubDatabaseDetail(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)
