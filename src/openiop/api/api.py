"""The JSON API (django-ninja). OpenAPI schema at /api/openapi.json, docs at /api/docs.

One router module per app (api/<app>.py); register it in ROUTERS below.
Authentication: the browser session (with CSRF on writes). Errors are JSON 4xx with a
`detail` naming the field and the rule; never a 500 for bad input.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from openiop.core.exceptions import Conflict, DomainError, InvalidTransition, NotPermitted

api = NinjaAPI(
    title="OpenIOP API",
    version="1",
    description="Programs, participants and clinical workflow of an Intensive Outpatient "
    "Program. Every read of a participant's record is audited.",
    docs_url="/docs",
    auth=django_auth,
    urls_namespace="api",
)


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": " ".join(m for e in errors for m in e.messages)}
            for field, errors in exc.error_dict.items()
        ]
    return [{"field": "", "message": m} for m in exc.messages]


@api.exception_handler(ValidationError)
def django_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = _field_errors(exc)
    detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                       for e in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(NinjaValidationError)
def ninja_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or str(e.get("loc", [""])[0]),
         "message": e.get("msg", "invalid")}
        for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(NotPermitted)
def not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=403)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=409)


@api.exception_handler(InvalidTransition)
def invalid_transition(request: HttpRequest, exc: InvalidTransition) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=409)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=400)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Sign in required"}, status=401)


def _register_routers() -> None:
    from . import clinical, finder, intake, medications, participants, scheduling

    api.add_router("/participants/", participants.router)
    api.add_router("/intake/", intake.router)
    api.add_router("/medications/", medications.router)
    api.add_router("/finder/", finder.router)
    api.add_router("/clinical/", clinical.router)
    api.add_router("/scheduling/", scheduling.router)


_register_routers()
