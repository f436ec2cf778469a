"""The JSON API (django-ninja). OpenAPI schema at /api/openapi.json, docs at /api/docs.

One router module per app (api/<app>.py); register it in ROUTERS below.
Authentication: the browser session (with CSRF on writes). Errors are JSON 4xx with a
`detail` naming the field and the rule; never a 500 for bad input. The OpenAPI schema
documents every 4xx an operation can answer (`ERROR_RESPONSES`) and the CSRF header.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, DomainError, InvalidTransition, NotPermitted

WRITE_METHODS = ("post", "put", "patch", "delete")

# Every answer other than success, documented on every operation (writes add 409).
ERROR_RESPONSES: dict[str, str] = {
    "400": "The request cannot be carried out as asked (a rule of the domain, or a number "
           "out of the range the database can hold).",
    "401": "Not signed in.",
    "403": "Signed in, but your role may not do this; or, on a write with the session "
           "cookie, the CSRF check failed (send the X-CSRFToken header).",
    "404": "No such record in your organization.",
    "422": "A field is missing or invalid; `errors` names each field and the rule.",
}
CONFLICT = "Someone changed the record since you read it, or the change is not allowed in " \
           "its current state."
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error", "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What was wrong, naming the field."},
        "field": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"field": {"type": "string"},
                                             "message": {"type": "string"}}}},
    },
}
CSRF_DESCRIPTION = (
    "Browser-session clients send the `csrftoken` cookie's value in the `X-CSRFToken` header "
    "on every POST, PUT, PATCH and DELETE (Django's CSRF protection); without it a write "
    "answers 403."
)


class OpenIOPAPI(NinjaAPI):
    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        # Kept on the request so that api.disclose can attach the 42 CFR 2.32 notice.
        response = super().create_temporal_response(request)
        request._openiop_response = response  # type: ignore[attr-defined]
        return response

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        schemes = components.setdefault("securitySchemes", {})
        schemes["CSRFToken"] = {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                                "description": CSRF_DESCRIPTION}
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for item in schema["paths"].values():
            for method, operation in item.items():
                if method not in ("get", *WRITE_METHODS):
                    continue
                # Status codes as strings: an operation's own (int) 409 and ours must not
                # become two "409" keys in the JSON (Swagger UI refuses a duplicate key).
                responses = {str(code): response for code, response
                             in operation.get("responses", {}).items()}
                operation["responses"] = responses
                codes = dict(ERROR_RESPONSES)
                if method in WRITE_METHODS:
                    codes["409"] = CONFLICT
                    operation["security"] = [
                        {name: [], "CSRFToken": []} if name == "SessionAuth" else {name: []}
                        for entry in operation.get("security", [])
                        for name in entry]
                for code, description in codes.items():
                    responses.setdefault(code, {"description": description, **error})
        return schema


class BearerToken(HttpBearer):
    """OAuth2 bearer tokens (the same tokens as the FHIR API, openiop.fhir.smart).

    Reads only, and only with a scope covering every type (`user/*.rs` or `user/*.read`):
    the JSON API is not split by FHIR resource type, so nothing narrower can be honoured.
    Each use is audited with the client's name.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from openiop.audit.services import audit_record
        from openiop.fhir.smart import allows, bearer_user

        found = bearer_user(request)
        if found is None:
            return None
        user, scopes, client = found
        if request.method not in ("GET", "HEAD") or not allows(scopes, "*", "r") or \
                not allows(scopes, "*", "s"):
            raise HttpError(403, "Tokens may only read through this API, with the scope "
                                 "user/*.rs.")
        request.user = user
        # An outside recipient: what it receives is decided by participants.disclosure.
        request.oauth_client = client  # type: ignore[attr-defined]
        audit_record(actor=user, action=Action.VIEW, object_type=ObjectType.OAUTH_TOKEN,
                     object_id=client.client_id, request=request,
                     organization=getattr(getattr(user, "staff_profile", None),
                                          "organization", None),
                     reason=f"API request with a token of client {client.name}"[:500])
        return user


api = OpenIOPAPI(
    title="OpenIOP API",
    version="1",
    description="Programs, participants and clinical workflow of an Intensive Outpatient "
    "Program. Every read of a participant's record is audited.",
    docs_url="/docs",
    auth=[django_auth, BearerToken()],
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


@api.exception_handler(DataError)
def data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    return api.create_response(request, {"detail": "A value is out of the range the database "
                                                   "can hold."}, status=400)


@api.exception_handler(OverflowError)
def overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    return api.create_response(request, {"detail": "A number is out of the range the "
                                                   "database can hold."}, status=400)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Sign in required"}, status=401)


def _register_routers() -> None:
    from . import (
        billing,
        clinical,
        finder,
        intake,
        medications,
        participants,
        scheduling,
        scheduling_plans,
    )

    api.add_router("/participants/", participants.router)
    api.add_router("/intake/", intake.router)
    api.add_router("/medications/", medications.router)
    api.add_router("/finder/", finder.router)
    api.add_router("/clinical/", clinical.router)
    api.add_router("/scheduling/", scheduling.router)
    api.add_router("/scheduling/", scheduling_plans.router)
    api.add_router("/billing/", billing.router)


_register_routers()
