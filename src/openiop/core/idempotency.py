"""Per-form idempotency keys: a create that is submitted twice happens once.

A form includes `{% idempotency_key %}` (a hidden `_idem` field with a fresh UUID each time
the form is shown); an API client sends an `Idempotency-Key: <uuid>` header. On POST, before the view runs, the middleware records the key for this
user (or anonymous session or address) and path in its own committed row:

- the first request runs; a 2xx/3xx answer is remembered (status and redirect target), a
  4xx/5xx forgets the key so the corrected form can be sent again;
- a repeat of a finished key is answered with the first answer's redirect (303), without
  running the view: the retry after a lost response, or a double click, writes nothing.
  When the first answer was a page fragment (htmx: an attendance row), the repeat asks
  htmx to reload the page (`HX-Refresh`), which then shows what was saved;
- the key covers the submission's content too: the same form sent again with other values
  (another button of an attendance row after a lost answer) is a new submission, not a
  repeat;
- a repeat while the first is still running gets 409 (wait and reload), and so does a key
  whose request died before answering, for STALE_AFTER, after which it may run again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone

from .http import client_ip
from .models import FormSubmission

FIELD = "_idem"
IGNORED = frozenset({FIELD, "csrfmiddlewaretoken"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
STALE_AFTER = timedelta(minutes=2)


def _content(request: HttpRequest) -> str:
    """A digest of what was submitted (without the CSRF token and the key itself)."""
    if request.content_type in FORM_TYPES:
        items = sorted((k, v) for k in request.POST if k not in IGNORED
                       for v in request.POST.getlist(k))
        text = repr(items)
    else:
        try:
            text = request.body.decode("utf-8", "replace")
        except RawPostDataException:
            text = ""
    return hashlib.sha256(text.encode()).hexdigest()


def _scope(request: HttpRequest, key: uuid.UUID) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        who = f"user:{user.pk}"
    elif getattr(request, "session", None) is not None and request.session.session_key:
        who = f"session:{request.session.session_key}"
    else:
        who = f"ip:{client_ip(request)}"
    return hashlib.sha256(f"{who}|{request.path}|{key}|{_content(request)}".encode()).hexdigest()


def _claim(scope: str) -> FormSubmission | None:
    """None when this request may run; else the earlier submission of the same key."""
    try:
        with transaction.atomic():
            FormSubmission.objects.create(scope=scope)
        return None
    except IntegrityError:
        earlier = FormSubmission.objects.filter(scope=scope).first()
        if earlier is None:
            return _claim(scope)
        if (earlier.state == FormSubmission.State.RUNNING
                and earlier.created_at < timezone.now() - STALE_AFTER):
            taken = FormSubmission.objects.filter(pk=earlier.pk, state=earlier.state,
                                                  created_at=earlier.created_at).update(
                created_at=timezone.now())
            return None if taken else FormSubmission.objects.get(pk=earlier.pk)
        return earlier


def _repeat(request: HttpRequest, earlier: FormSubmission) -> HttpResponse:
    api = request.path.startswith("/api/")
    if earlier.state == FormSubmission.State.DONE:
        if earlier.location:
            response = HttpResponseRedirect(earlier.location, status=303)
        elif request.headers.get("HX-Request"):
            # The first answer was a fragment we do not keep: reload the page, which shows
            # what the first submission saved.
            response = HttpResponse(status=200, headers={"HX-Refresh": "true"})
        elif api:
            response = JsonResponse({"detail": "Already done: this request was received "
                                               "before and not repeated."}, status=200)
        else:
            response = HttpResponse("Already saved: this form was received before; nothing "
                                    "was saved twice.", content_type="text/plain", status=200)
        response["Idempotent-Replayed"] = "true"
        return response
    message = ("This form is still being saved. Wait a moment, then reload the page to see "
               "the result; sending it again would not save it twice.")
    if api:
        return JsonResponse({"detail": message}, status=409)
    return HttpResponse(message, content_type="text/plain", status=409)


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        # A form's hidden field, or the API's Idempotency-Key header.
        raw = request.headers.get("Idempotency-Key") or (
            request.POST.get(FIELD) if request.content_type in FORM_TYPES else None)
        if not raw:
            return self.get_response(request)
        try:
            key = uuid.UUID(raw)
        except ValueError:
            return self.get_response(request)
        scope = _scope(request, key)
        try:
            earlier = _claim(scope)
        except DatabaseError as exc:
            from .readonly import is_read_only_error, mark_read_only, read_only_response

            if not is_read_only_error(exc):
                raise
            mark_read_only()
            return read_only_response(request)
        if earlier is not None:
            return _repeat(request, earlier)
        try:
            response = self.get_response(request)
        except BaseException:
            FormSubmission.objects.filter(scope=scope).delete()
            raise
        if response.status_code < 400:
            FormSubmission.objects.filter(scope=scope).update(
                state=FormSubmission.State.DONE, status_code=response.status_code,
                location=(response.get("Location") or "")[:500])
        else:
            FormSubmission.objects.filter(scope=scope).delete()
        return response
