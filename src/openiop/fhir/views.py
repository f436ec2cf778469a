"""FHIR R4 REST endpoints under /fhir/R4/ (read, search, JSON); see engine.py for the rules.

42 CFR Part 2 records are returned only under an active consent, labelled, with the
redisclosure notice in the `X-Redisclosure-Notice` header, and recorded as a disclosure.
Errors are OperationOutcome resources (http.py).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from . import engine
from .http import FhirError, fhir_view, outcome, respond
from .mapping.capability import capability_statement
from .versions import not_modified, validators


def metadata(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return outcome(405, "not-supported", "The CapabilityStatement is read-only.",
                       headers={"Allow": "GET, HEAD"})
    return respond(capability_statement(request.build_absolute_uri("/fhir/R4/")))


@fhir_view
def read(request: HttpRequest, resource_type: str, code: str) -> HttpResponse:
    spec = engine.spec_for(resource_type)
    try:
        uuid.UUID(code)
    except ValueError as exc:
        raise FhirError(404, "not-found", f"No {resource_type} with id {code}.") from exc
    row = engine.read_row(request, spec, code)
    resource = engine.render(spec, row)
    headers = validators(resource) | engine.notice_headers([resource])
    if not_modified(request, resource):
        response = HttpResponse(status=304)
        for key, value in headers.items():
            response[key] = value
        return response
    return respond(resource, headers=headers)


@fhir_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    return engine.search(request, engine.spec_for(resource_type))


@fhir_view
def unknown_resource(request: HttpRequest, rest: str = "") -> HttpResponse:
    return outcome(404, "not-supported", "This server does not support that resource or "
                   "interaction; see /fhir/R4/metadata.")
