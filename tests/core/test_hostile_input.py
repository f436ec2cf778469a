"""Hostile values in every API operation and at the HTML boundary: a 4xx naming the field,
never a 500, nothing stored.

Each operation in /api/openapi.json gets a plausible request built from its schema, then
one field at a time is replaced by a hostile value: a NUL character in text, numbers far
beyond any column (10**30), a float too small to store (3.78e-285), and a value of the wrong
type (a non-UUID id, an object where a number belongs). This is deterministic, unlike the
schemathesis fuzzing in test_api_fuzz.py, so each known failure stays covered.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from openiop.api.api import api

from .test_api_fuzz import _row_counts

SCHEMA = api.get_openapi_schema(path_prefix="/api")
COMPONENTS = SCHEMA.get("components", {}).get("schemas", {})
NUL_TEXT = "before\x00after"
HUGE = 10**30
TINY = 3.78e-285


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        options = [_resolve(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return options[0] if options else {"type": "null"}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def _example(schema: dict) -> Any:
    schema = _resolve(schema)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string":
        return {"date": "2030-01-07", "date-time": "2030-01-07T15:00:00Z",
                "uuid": str(uuid.uuid4()), "time": "10:00:00"}.get(fmt, "a")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema:
        return {k: _example(v) for k, v in schema.get("properties", {}).items()}
    return "a"


def _hostile(schema: dict) -> list[Any]:
    kind = _resolve(schema).get("type")
    if kind == "integer":
        return [HUGE, -HUGE, "x"]
    if kind == "number":
        return [TINY, 1e308, {"x": 1}]
    if kind == "string":
        return [NUL_TEXT, {"x": 1}]
    return [NUL_TEXT]


def _cases(world) -> list[tuple[str, str, str, dict, Any]]:
    """(label, method, path, query, body) for every operation and hostile value."""
    cases = []
    for path, item in sorted(SCHEMA["paths"].items()):
        for method, op in sorted(item.items()):
            params = op.get("parameters", [])
            path_values = {p["name"]: (str(world.participant.code) if "participants/{code}" in path
                                       and p["name"] == "code" else str(uuid.uuid4()))
                           for p in params if p["in"] == "path"}
            query = {p["name"]: _example(p["schema"]) for p in params if p["in"] == "query"
                     and p.get("required")}
            body_schema = (op.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema"))
            body = _example(body_schema) if body_schema else None

            def url(values: dict, path: str = path) -> str:
                out = path
                for name, value in values.items():
                    out = out.replace("{" + name + "}", value)
                return out

            for p in params:
                if p["in"] == "path":
                    for bad in ("not-a-uuid", "a%00b"):
                        cases.append((f"{method} {path} path {p['name']}={bad!r}", method,
                                      url({**path_values, p["name"]: bad}), query, body))
                elif p["in"] == "query":
                    for bad in _hostile(p["schema"]):
                        if isinstance(bad, dict):
                            continue
                        cases.append((f"{method} {path} ?{p['name']}={bad!r}", method,
                                      url(path_values), {**query, p["name"]: bad}, body))
            if isinstance(body, dict):
                props = _resolve(body_schema).get("properties", {})
                for name, prop in props.items():
                    for bad in _hostile(prop):
                        cases.append((f"{method} {path} body {name}={bad!r}", method,
                                      url(path_values), query, {**body, name: bad}))
    return cases


def _send(client: Client, method: str, path: str, query: dict, body: Any) -> Any:
    if method == "get":
        return client.get(path, query)
    from urllib.parse import urlencode

    target = f"{path}?{urlencode(query, doseq=True)}" if query else path
    payload = json.dumps(body) if body is not None else ""
    return getattr(client, method)(target, payload, content_type="application/json")


@pytest.mark.django_db
def test_every_api_operation_refuses_hostile_values_with_a_4xx(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.director)
    cases = _cases(world)
    assert len(cases) > 100
    failures = []
    for label, method, path, query, body in cases:
        before = _row_counts()
        response = _send(client, method, path, query, body)
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code}")
            continue
        if response.status_code >= 400:
            if not response["Content-Type"].startswith(("application/json", "application/fhir+json")):
                failures.append(f"{label}: {response.status_code} is not JSON")
            elif not response.json().get("detail"):
                failures.append(f"{label}: {response.status_code} without a detail")
            if _row_counts() != before:
                failures.append(f"{label}: refused but stored data changed")
    assert failures == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/participants/", "/api/intake/referrals",
                                  "/api/billing/claims", "/api/billing/charges"])
def test_an_offset_beyond_any_list_is_a_422_naming_offset(as_director, path):
    response = as_director.get(path, {"offset": 10**19})
    assert response.status_code == 422 and "offset" in json.dumps(response.json())
    assert as_director.get(path, {"offset": 1_000_000}).status_code == 200


@pytest.mark.django_db
def test_a_dose_too_small_to_store_is_refused_before_the_database(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.director)
    before = _row_counts()
    response = client.post(f"/api/medications/participants/{world.participant.code}/orders",
                           json.dumps({"name": "Example", "dose": "3.78e-285", "unit": "mg",
                                       "route": "oral", "frequency": "daily",
                                       "start_date": "2030-01-07"}),
                           content_type="application/json")
    assert response.status_code == 422 and "dose" in json.dumps(response.json())
    assert _row_counts() == before


# --- the HTML side: pages, forms and FHIR -----------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("path", "params"), [
    ("/participants/", {"q": "\x00"}),
    ("/fhir/R4/Patient", {"name": "\x00"}),
    ("/find/", {"zip": "1\x002"}),
    ("/api/participants/", {"q": "a\x00"}),
])
def test_a_nul_in_a_query_is_a_400_naming_the_parameter(as_director, path, params):
    response = as_director.get(path, params)
    assert response.status_code == 400
    name = next(iter(params))
    assert f"{name}: text must not contain the NUL character" in response.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_form_post_is_a_400_before_any_view_runs(world, as_clinician):
    """A note autosave (htmx form post): refused at the door with the field named, so no
    view, service or database sees it; the page keeps the text (htmx swaps nothing on 4xx)."""
    from openiop.audit.models import AccessEvent

    events = AccessEvent.objects.count()
    response = as_clinician.post(f"/notes/{uuid.uuid4()}/save/",
                                 {"version": 1, "data": "felt better\x00"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "data: text must not contain the NUL character" in response.content.decode()
    assert AccessEvent.objects.count() == events


@pytest.mark.django_db
def test_a_nul_in_a_json_body_names_the_field_and_stores_nothing(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.director)
    before = _row_counts()
    response = client.post("/api/participants/", json.dumps(
        {"legal_first_name": "Ann\x00", "legal_last_name": "Lee", "date_of_birth": "1990-01-01"}),
        content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("legal_first_name: text must not contain")
    assert _row_counts() == before


@pytest.mark.django_db
def test_comparing_programs_by_ids_that_are_not_codes_is_a_400(client):
    response = client.get("/find/compare/", {"id": ["x", "y"]})
    assert response.status_code == 400
    assert "not a program code" in response.content.decode()


def _form_classes() -> list[type]:
    import importlib
    import inspect
    import pkgutil

    from django import forms

    import openiop

    found = []
    for info in pkgutil.walk_packages(openiop.__path__, "openiop."):
        if info.name.rsplit(".", 1)[-1] != "forms" and ".forms." not in info.name:
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_number_in_every_form_refuses_values_no_column_can_hold():
    from django import forms

    classes = _form_classes()
    assert len(classes) > 20
    accepted = []
    for cls in classes:
        for name, field in cls.base_fields.items():
            if not isinstance(field, forms.IntegerField):  # Decimal and Float fields too
                continue
            for value in (str(HUGE), str(-HUGE), "3.78e-285", "1e308", "NaN", "x"):
                try:
                    field.clean(value)
                except forms.ValidationError:
                    continue
                accepted.append(f"{cls.__module__}.{cls.__name__}.{name}={value}")
    assert accepted == []


def test_every_text_field_in_every_form_refuses_a_nul():
    from django import forms

    accepted = []
    for cls in _form_classes():
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.CharField):
                try:
                    field.clean(NUL_TEXT)
                except forms.ValidationError:
                    continue
                accepted.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert accepted == []
