"""FHIR R4 REST endpoints under /fhir/R4/ (read, search, JSON); see engine.py for the rules.

42 CFR Part 2 records go as participants.disclosure decides (engine.py), labelled, with the
redisclosure notice in the `X-Redisclosure-Notice` header, and recorded as a disclosure.
Errors are OperationOutcome resources (http.py).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import engine, history
from .http import FhirError, fhir_view, outcome, respond, with_cors
from .mapping.capability import capability_statement
from .resources import Spec
from .versions import not_modified, validators

# The engine writes a bearer token's use in the same batch as the answer's own audit events.
engine_view = partial(fhir_view, batched=True)


@csrf_exempt
@with_cors
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return outcome(405, "not-supported", "The CapabilityStatement is read-only.",
                       headers={"Allow": "GET, HEAD"})
    return respond(capability_statement(request.build_absolute_uri("/fhir/R4/")))


def _row(request: HttpRequest, resource_type: str, code: str) -> tuple[Spec, Any]:
    spec = engine.spec_for(resource_type)
    try:
        uuid.UUID(code)
    except ValueError as exc:
        raise FhirError(404, "not-found", f"No {resource_type} with id {code}.") from exc
    return spec, engine.read_row(request, spec, code)


def _answer(request: HttpRequest, resource: dict[str, Any]) -> HttpResponse:
    headers = validators(resource) | engine.notice_headers(request, [resource])
    if not_modified(request, resource):
        response = HttpResponse(status=304)
        for key, value in headers.items():
            response[key] = value
        return response
    return respond(resource, headers=headers)


@engine_view
def read(request: HttpRequest, resource_type: str, code: str) -> HttpResponse:
    spec, row = _row(request, resource_type, code)
    return _answer(request, engine.render(spec, row))


@engine_view
def vread(request: HttpRequest, resource_type: str, code: str, vid: str) -> HttpResponse:
    spec, row = _row(request, resource_type, code)
    for version in history.versions(spec, row):
        resource = engine.render(spec, version)
        if resource["meta"]["versionId"] == vid:
            return _answer(request, resource)
    raise FhirError(404, "not-found", f"{resource_type}/{code} has no version {vid}.")


@engine_view
def instance_history(request: HttpRequest, resource_type: str, code: str) -> HttpResponse:
    """`<Type>/<id>/_history`: every version, newest first (a history Bundle)."""
    spec, row = _row(request, resource_type, code)
    url = request.build_absolute_uri(f"/fhir/R4/{resource_type}/{code}")
    entries = []
    for number, version in reversed(list(enumerate(history.versions(spec, row)))):
        resource = engine.render(spec, version)
        tags = validators(resource)
        entries.append({
            "fullUrl": url, "resource": resource,
            "request": {"method": "PUT" if number else "POST",
                        "url": f"{resource_type}/{code}" if number else resource_type},
            "response": {"status": "200 OK" if number else "201 Created",
                         "etag": tags["ETag"], "lastModified": resource["meta"]["lastUpdated"]},
        })
    bundle = {"resourceType": "Bundle", "type": "history", "total": len(entries),
              "link": [{"relation": "self", "url": request.build_absolute_uri()}],
              "entry": entries}
    return respond(bundle, headers=engine.notice_headers(request, (e["resource"] for e in entries)))


@engine_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    return engine.search(request, engine.spec_for(resource_type))


@fhir_view
def unknown_resource(request: HttpRequest, rest: str = "") -> HttpResponse:
    return outcome(404, "not-supported", "This server does not support that resource or "
                   "interaction; see /fhir/R4/metadata.")
