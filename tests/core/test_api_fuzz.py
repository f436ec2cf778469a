"""Fuzz the JSON API from its own OpenAPI schema: bad input gets a 4xx, never a 500, and
every status code answered is documented for the operation (schemathesis'
status_code_conformance).

Schemathesis generates valid (positive) and invalid (negative) requests for every
operation in /api/openapi.json, whichever app registered it. Each request is sent through
Django's test client as a signed-in director of the `world` organization. The run is
bounded (OPENIOP_FUZZ_EXAMPLES examples per operation and mode, 12 by default) so CI stays
fast; raise it locally to search harder.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from openiop.api.api import api

MAX_EXAMPLES = int(os.environ.get("OPENIOP_FUZZ_EXAMPLES", "12"))
SCHEMA = api.get_openapi_schema(path_prefix="/api")
OPERATIONS = [
    (path, method)
    for path, item in sorted(SCHEMA["paths"].items())
    for method in sorted(item)
    if method in {"get", "post", "put", "patch", "delete"}
]


def _send(client: Client, case: Any) -> Any:
    path = case.formatted_path
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    method = case.method.lower()
    body = case.body
    has_body = body is not None and type(body).__name__ != "NotSet"
    if method == "get":
        return client.get(path, query)
    if not has_body:
        payload: Any = ""
    elif isinstance(body, bytes | str):
        payload = body  # negative cases may send a body that is not JSON at all
    else:
        payload = json.dumps(body)
    url = f"{path}?{urlencode(query, doseq=True)}" if query else path
    return getattr(client, method)(url, payload, content_type="application/json")


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in ("participants_participant", "participants_relatedperson",
                      "participants_availability"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed table names
            counts[table] = cursor.fetchone()[0]
    return counts


def test_the_schema_lists_operations_to_fuzz():
    assert ("/api/participants/", "get") in OPERATIONS or any(
        p.startswith("/api/participants") for p, _ in OPERATIONS
    )


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_api_never_answers_500(path, method, mode, world):
    client = Client(raise_request_exception=False)
    client.force_login(world.director)
    schema = schemathesis.openapi.from_dict(SCHEMA)
    operation = schema[path][method.upper()]
    seen: list[int] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        before = _row_counts()
        response = _send(client, case)
        seen.append(response.status_code)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r} "
            f"answered {response.status_code}"
        )
        documented = SCHEMA["paths"][path][method]["responses"]
        assert str(response.status_code) in documented, (
            f"{case.method} {case.formatted_path} answered {response.status_code}, which its "
            f"OpenAPI operation does not document ({sorted(documented)})"
        )
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json")
            assert response.json().get("detail"), "a 4xx must say what was wrong"
            assert _row_counts() == before, "a refused request changed stored data"

    check()
    assert seen, "no request was sent"
