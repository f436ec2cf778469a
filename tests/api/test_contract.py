"""The JSON API's contract: bounded numbers, every 4xx documented, CSRF documented and
enforced for cookie clients."""

from __future__ import annotations

import pytest
from django.test import Client

from openiop.api.api import api

SCHEMA = api.get_openapi_schema(path_prefix="/api")


@pytest.mark.parametrize("path", ["/api/participants/", "/api/intake/referrals"])
@pytest.mark.parametrize("offset", ["9223372036854775808", "1000001", "-1"])
def test_huge_or_negative_offsets_are_a_422_naming_the_field(world, as_director, path,
                                                              offset):
    if path not in {p for p in SCHEMA["paths"]}:
        pytest.skip(f"{path} is not an operation")
    response = as_director.get(path, {"offset": offset})
    assert response.status_code == 422
    assert "offset" in response.json()["detail"]


def test_every_operation_documents_its_errors():
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "422"} <= codes, (method, path)
            if method != "get":
                assert "409" in codes, (method, path)
                session = [e for e in operation["security"] if "SessionAuth" in e]
                assert session and all("CSRFToken" in e for e in session), path
                assert {"BearerToken": []} in operation["security"], path
            error = operation["responses"]["403"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    csrf = SCHEMA["components"]["securitySchemes"]["CSRFToken"]
    assert csrf["in"] == "header" and csrf["name"] == "X-CSRFToken"


def test_a_cookie_write_without_the_csrf_header_is_a_documented_403(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.director)
    response = client.post("/api/participants/", {"mrn": "C-1"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    client.get("/participants/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/participants/", {"mrn": "C-1", "legal_first_name": "Ana",
                                                  "legal_last_name": "Ruiz",
                                                  "date_of_birth": "1990-01-02"},
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_anonymous_gets_a_documented_401(db):
    response = Client().get("/api/participants/")
    assert response.status_code == 401 and response.json()["detail"]


def test_the_served_schema_has_no_duplicate_keys_swagger_would_refuse(client):
    """An operation's own 409 (an int key) and the documented one (a string) once became
    two "409" keys in the JSON, and Swagger UI showed nothing at /api/docs."""
    import json

    duplicates: list[str] = []

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _ in pairs]
        duplicates.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    raw = client.get("/api/openapi.json").content.decode()
    json.loads(raw, object_pairs_hook=pairs_hook)
    assert duplicates == []
