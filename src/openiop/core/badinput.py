"""Refuse text with a NUL character at the door, for every page, form and API call.

No field of OpenIOP can hold U+0000 (PostgreSQL text cannot store it, and it is never
typed), so a query parameter, form field or JSON string containing one is answered with a
400 naming the field, before any view runs and before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

NUL = "\x00"
RULE = "must not contain the NUL character (U+0000)"


def _json_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield child
            yield from _json_paths(item, child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_paths(item, f"{path}[{i}]" if path else f"[{i}]")


def nul_field(request: HttpRequest) -> str | None:
    """The first field whose value holds a NUL, or None."""
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return key.replace(NUL, "")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.POST.lists():
            if NUL in key or any(NUL in v for v in values):
                return key.replace(NUL, "")
    elif content_type.endswith("json"):
        body = request.body
        if b"\x00" in body or b"\\u0000" in body.lower():
            try:
                return next(_json_paths(json.loads(body)), "body")
            except ValueError:
                return "body"
    return None


def refusal(request: HttpRequest, field: str) -> HttpResponse:
    message = f"{field}: text {RULE}."
    if request.path.startswith("/fhir/"):
        return JsonResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": message,
             "expression": [field]}]}, status=400, content_type="application/fhir+json")
    if request.path.startswith("/api/") or (request.content_type or "").endswith("json"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(loader.get_template("400.html").render({"message": message}), status=400)


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is not None:
            return refusal(request, field)
        return self.get_response(request)
