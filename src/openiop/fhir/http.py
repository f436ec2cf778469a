"""FHIR HTTP plumbing: JSON responses, OperationOutcome errors and the view decorator.

Every answer under /fhir/R4/ is `application/fhir+json`; every error is an
OperationOutcome (https://hl7.org/fhir/R4/http.html#2.21.0.4), including 401 (with a
`WWW-Authenticate` challenge, RFC 6750 section 3), 403, 404 and 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_records
from openiop.audit.vocabulary import Action, ObjectType

FHIR_JSON = "application/fhir+json"
READ_METHODS = ("GET", "HEAD")
# The 401 challenge (RFC 6750 section 3): OAuth2 bearer tokens (SMART on FHIR, see
# /fhir/R4/.well-known/smart-configuration); the browser session works too.
CHALLENGE = 'Bearer realm="openiop-fhir"'


class FhirError(Exception):
    """Raised anywhere below a FHIR view; becomes an OperationOutcome response."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: str = "") -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics, self.expression = (
            status, code, diagnostics, expression)


def respond(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None,
            ) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=FHIR_JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def outcome(status: int, code: str, diagnostics: str, expression: str = "",
            headers: dict[str, str] | None = None) -> HttpResponse:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return respond({"resourceType": "OperationOutcome", "issue": [issue]}, status, headers)


def unauthorized(diagnostics: str = "Sign in required.") -> HttpResponse:
    return outcome(401, "login", diagnostics,
                   headers={"WWW-Authenticate": CHALLENGE})


CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD",
    "Access-Control-Allow-Headers": "Authorization, Accept, Prefer, If-None-Match, "
                                    "If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, X-Redisclosure-Notice, X-Part2-Consent-Scope",
    "Access-Control-Max-Age": "600",
}


def allowed_origin(request: HttpRequest) -> str | None:
    """The request's Origin when a registered SMART app lists it (Application.allowed_origins,
    set on the directors' registration page); browsers then let that app read the answer."""
    from oauth2_provider.models import Application

    origin = request.headers.get("Origin", "")
    if not origin:
        return None
    for origins in Application.objects.exclude(allowed_origins="").values_list(
            "allowed_origins", flat=True):
        if origin in origins.split():
            return origin
    return None


def with_cors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """CORS for registered apps' origins: answers preflights, labels responses."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = allowed_origin(request)
        if request.method == "OPTIONS" and origin:
            response = HttpResponse(status=204)
        else:
            response = view(request, *args, **kwargs)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
            for key, value in CORS_HEADERS.items():
                response[key] = value
        return response

    return wrapped


def take_audit(request: Any) -> list[dict[str, Any]]:
    """The audit events the request still owes (a bearer token's use, see `fhir_view`), as
    `audit_records` entries, handed over once: the caller writes them first in its own batch,
    so that a search or read with a token writes one batch of events, not two."""
    pending: list[dict[str, Any]] = getattr(request, "_openiop_audit", None) or []
    if pending:
        request._openiop_audit = []
    return pending


def fhir_view(view: Callable[..., HttpResponse], methods: tuple[str, ...] = READ_METHODS,
              *, batched: bool = False) -> Callable[..., HttpResponse]:
    """Read-only FHIR endpoint for signed-in clinic staff (`methods` adds e.g. DELETE for
    the bulk export status URL).

    Other methods are a 405 OperationOutcome (this server supports no writes; exempt from
    the CSRF check so that a write is answered in FHIR, not with Django's HTML page);
    FhirError and Http404 become OperationOutcomes.

    A bearer token's use is audited for every request it makes. With `batched`, the view
    writes that event first in its own batch of audit events (`take_audit`; the engine's
    reads and searches do); whatever it leaves unwritten (a directory type, an empty page, a
    4xx, an error) is written when the view ends. Otherwise it is written before the view.
    """

    @csrf_exempt
    @with_cors
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in methods:
            return outcome(405, "not-supported", f"{request.method} is not supported: this "
                           "server is read-only (see /fhir/R4/metadata).",
                           headers={"Allow": ", ".join(methods)})
        request.smart_scopes = None  # type: ignore[attr-defined]
        request.smart_patient = None  # type: ignore[attr-defined]
        request.smart_system = False  # type: ignore[attr-defined]
        # The registered app a bearer token speaks for: an outside recipient
        # (participants.disclosure.request_party); None for the program's own staff.
        request.oauth_client = None  # type: ignore[attr-defined]
        request._openiop_audit = []  # type: ignore[attr-defined]
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            from .smart import bearer_token

            found = bearer_token(request)
            if found is None:
                return outcome(401, "login", "The bearer token is not valid (expired, revoked "
                               "or unknown).", headers={"WWW-Authenticate": CHALLENGE +
                                                        ', error="invalid_token"'})
            request.user = found.user
            request.smart_scopes = found.scopes  # type: ignore[attr-defined]
            request.smart_patient = found.patient  # type: ignore[attr-defined]
            request.smart_system = found.system  # type: ignore[attr-defined]
            request.oauth_client = found.client  # type: ignore[attr-defined]
            who = "backend service" if found.system else "client"
            request._openiop_audit = [dict(  # type: ignore[attr-defined]
                actor=found.user, action=Action.VIEW, object_type=ObjectType.OAUTH_TOKEN,
                object_id=found.client.client_id,
                organization=getattr(found.user, "staff_profile", None) and
                found.user.staff_profile.organization, request=request,
                participant=found.patient,
                reason=f"FHIR request with a token of {who} {found.client.name}"
                       f"{' (launched for one participant)' if found.patient else ''}"[:500])]
            if not batched:
                audit_records(take_audit(request))
        try:
            return _answer(view, request, *args, **kwargs)
        finally:
            audit_records(take_audit(request))  # the token's use, if the view did not write it

    return wrapped


def _answer(view: Callable[..., HttpResponse], request: HttpRequest, *args: Any,
            **kwargs: Any) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return unauthorized()
    if not user.is_clinic_staff or user.staff_organization_id is None or not has_perm(
        user, Perm.PARTICIPANT_VIEW
    ):
        return outcome(403, "forbidden", "Clinic staff only.")
    try:
        return view(request, *args, **kwargs)
    except FhirError as exc:
        return outcome(exc.status, exc.code, exc.diagnostics, exc.expression)
    except Http404:
        return outcome(404, "not-found", "No such resource.")
