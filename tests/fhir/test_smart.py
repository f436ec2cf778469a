"""SMART on FHIR with django-oauth-toolkit: discovery, authorization code with PKCE,
refresh, revocation; bearer tokens on the FHIR API with scopes that narrow (never widen)
what the user may see; every token use audited with the client's name."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import Application

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.intake.models import MeasureResponse
from tests import factories as f
from tests.conftest import login

REDIRECT = "http://localhost:8765/callback"


@pytest.fixture
def app(world):
    return Application.objects.create(
        name="Synthetic Outcomes App", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT, user=world.director, algorithm="")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(browser: Client, app, scope: str) -> dict:
    """The user approves the app in the browser; the app swaps the code for tokens."""
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
              "scope": scope, "state": "st-1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = browser.get("/o/authorize/", params)
    assert page.status_code == 200 and app.name in page.content.decode()
    approved = browser.post("/o/authorize/", params | {"allow": "Authorize"})
    assert approved.status_code == 302
    query = parse_qs(urlparse(approved["Location"]).query)
    assert query["state"] == ["st-1"]
    token = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT, "client_id": app.client_id, "code_verifier": verifier})
    assert token.status_code == 200, token.content
    return token.json()


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def score(world):
    return MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                          answers={"q1": 1}, total=5, band="mild",
                                          completed_at=world.episode.created_at)


def test_discovery_documents_the_endpoints(db, client):
    config = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert config["authorization_endpoint"].endswith("/o/authorize/")
    assert config["token_endpoint"].endswith("/o/token/")
    assert "S256" in config["code_challenge_methods_supported"]
    assert "user/Observation.rs" in config["scopes_supported"]
    statement = client.get("/fhir/R4/metadata").json()
    service = statement["rest"][0]["security"]["service"][0]["coding"][0]
    assert service["code"] == "SMART-on-FHIR"


def test_a_token_reads_within_its_scopes_and_is_audited(mh, world, app):
    m = score(world)
    tokens = authorize(login(world.clinician), app, "openid user/Patient.rs user/Observation.r")
    api = bearer(tokens["access_token"])
    assert api.get(f"/fhir/R4/Patient/{world.participant.code}").status_code == 200
    assert api.get(f"/fhir/R4/Observation/{m.code}").status_code == 200
    refused = api.get(f"/fhir/R4/Observation?patient={world.participant.code}")
    assert refused.status_code == 403 and "scopes" in refused.json()["issue"][0]["diagnostics"]
    assert api.get(f"/fhir/R4/EpisodeOfCare/{world.episode.code}").status_code == 403
    uses = AccessEvent.objects.filter(object_type="oauth.token", actor=world.clinician)
    assert uses.count() == 4 and all(app.name in e.reason for e in uses)


def test_a_tokens_use_is_written_with_the_answers_events_and_without_them(mh, world, app):
    """The token's use goes in the same batch as the events of what it read (one lock and
    one insert, first in the chain); a search that finds nothing, a directory type, a 400
    and a 404 have no events of their own, and still write it."""
    from uuid import uuid4

    m = score(world)
    tokens = authorize(login(world.clinician), app, "user/*.rs")
    api = bearer(tokens["access_token"])
    before = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    assert api.get(f"/fhir/R4/Observation?patient={world.participant.code}").status_code == 200
    batch = list(AccessEvent.objects.filter(seq__gt=before).order_by("chain_seq"))
    assert [(e.object_type, e.action) for e in batch] == [
        ("oauth.token", "view"), ("fhir.Observation", "disclose")]
    token_use, read = batch
    assert app.name in token_use.reason and read.object_id == str(world.participant.code)
    assert token_use.occurred_at == read.occurred_at  # one batch
    assert read.chain_seq == token_use.chain_seq + 1 and read.prev_hash == token_use.hash
    answers = {
        "empty search": api.get(f"/fhir/R4/Observation?_id={uuid4()}"),
        "directory": api.get("/fhir/R4/Practitioner"),
        "bad parameter": api.get("/fhir/R4/Observation?unknown=1"),
        "missing record": api.get(f"/fhir/R4/Observation/{uuid4()}"),
        "read": api.get(f"/fhir/R4/Observation/{m.code}"),
    }
    assert [r.status_code for r in answers.values()] == [200, 200, 400, 404, 200]
    assert "entry" not in answers["empty search"].json()
    uses = AccessEvent.objects.filter(object_type="oauth.token", actor=world.clinician,
                                      seq__gt=before)
    assert uses.count() == 1 + len(answers) and all(app.name in e.reason for e in uses)


def test_scopes_never_widen_the_role(mh, world, app):
    m = score(world)
    desk = f.staff(world.org, Role.FRONT_DESK)
    tokens = authorize(login(desk), app, "user/*.rs")
    response = bearer(tokens["access_token"]).get(f"/fhir/R4/Observation/{m.code}")
    assert response.status_code == 403
    assert "role" in response.json()["issue"][0]["diagnostics"]


def test_refresh_and_revocation(mh, world, app):
    tokens = authorize(login(world.clinician), app, "user/Patient.rs offline_access")
    refreshed = Client().post("/o/token/", {"grant_type": "refresh_token",
                                            "refresh_token": tokens["refresh_token"],
                                            "client_id": app.client_id})
    assert refreshed.status_code == 200
    fresh = refreshed.json()["access_token"]
    path = f"/fhir/R4/Patient/{world.participant.code}"
    assert bearer(fresh).get(path).status_code == 200
    revoked = Client().post("/o/revoke_token/", {"token": fresh, "client_id": app.client_id})
    assert revoked.status_code == 200
    after = bearer(fresh).get(path)
    assert after.status_code == 401 and 'error="invalid_token"' in after["WWW-Authenticate"]
    assert after.json()["resourceType"] == "OperationOutcome"


def test_pkce_is_required(mh, world, app):
    browser = login(world.clinician)
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
              "scope": "user/Patient.rs", "state": "s"}
    response = browser.get("/o/authorize/", params)
    location = response.get("Location", "")
    assert response.status_code in (200, 302, 400)
    assert "code=" not in location


def test_the_json_api_takes_read_tokens_for_every_type_only(mh, world, app):
    wide = authorize(login(world.clinician), app, "user/*.rs")["access_token"]
    listing = bearer(wide).get("/api/participants/")
    assert listing.status_code == 200
    assert str(world.participant.code) in {r["code"] for r in listing.json()["results"]}
    write = bearer(wide).post("/api/participants/", {"mrn": "X"},
                              content_type="application/json")
    assert write.status_code == 403 and write.json()["detail"]
    narrow = authorize(login(world.clinician), app, "user/Patient.rs")["access_token"]
    assert bearer(narrow).get("/api/participants/").status_code == 403
    assert bearer("not-a-token").get("/api/participants/").status_code == 401
    assert AccessEvent.objects.filter(object_type="oauth.token",
                                      reason__contains="API request").exists()
