"""SMART Backend Services: a registered service gets a five-minute token with system/
scopes by signing a JWT with its private key (RS384 or ES384); expired, foreign-key,
replayed and wrongly addressed assertions are refused; the token acts as the service's
named actor (its role, its organization), every use audited with the client's name; Bulk
$export runs with it end to end."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import Application

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.fhir.clients import backend_register
from openiop.fhir.models import AssertionJti, ClientRegistration
from openiop.fhir.oauth import JWT_BEARER, remove_spent_jtis
from openiop.intake.models import MeasureResponse
from tests.conftest import login

from .test_bulk_export import ASYNC, IMMEDIATE
from .test_smart import REDIRECT, authorize, bearer  # noqa: F401

TOKEN_URL = "http://testserver/o/token/"


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")


@pytest.fixture(scope="module")
def ec_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-1")


def public_set(*keys: jwk.JWK) -> str:
    return json.dumps({"keys": [json.loads(k.export_public()) for k in keys]})


@pytest.fixture
def service(mh, rsa_key, ec_key) -> Application:
    return backend_register(actor=mh.director, name="Synthetic Registry Feed",
                            jwks=public_set(rsa_key, ec_key), role=Role.CLINICIAN)


def assertion(app: Application, key: jwk.JWK, *, alg: str = "RS384", aud: str = TOKEN_URL,
              exp_in: int = 240, jti: str | None = None, **claims) -> str:
    now = int(timezone.now().timestamp())
    token = jwt.JWT(header={"alg": alg, "kid": key.get("kid"), "typ": "JWT"},
                    claims={"iss": app.client_id, "sub": app.client_id, "aud": aud,
                            "exp": now + exp_in, "jti": jti or str(uuid.uuid4())} | claims)
    token.make_signed_token(key)
    return token.serialize()


def ask(signed: str, scope: str = "system/*.rs", **extra):
    return Client().post("/o/token/", {
        "grant_type": "client_credentials", "scope": scope,
        "client_assertion_type": JWT_BEARER, "client_assertion": signed, **extra})


def test_a_signed_assertion_gets_a_short_system_token_acting_as_the_service(
        mh, service, rsa_key, ec_key):
    response = ask(assertion(service, rsa_key))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "system/*.rs"
    assert 0 < body["expires_in"] <= 300 and "refresh_token" not in body
    api = bearer(body["access_token"])
    patients = api.get("/fhir/R4/Patient").json()
    assert str(mh.participant.code) in {e["resource"]["id"] for e in patients["entry"]}
    assert str(mh.outsider_participant.code) not in {e["resource"]["id"]
                                                       for e in patients["entry"]}
    actor = ClientRegistration.objects.get(application=service).actor
    use = AccessEvent.objects.get(object_type="oauth.token")
    assert use.actor == actor and "Synthetic Registry Feed" in use.reason
    assert AccessEvent.objects.filter(object_type="fhir.Patient", actor=actor,
                                      participant=mh.participant).exists()
    es = ask(assertion(service, ec_key, alg="ES384"))
    assert es.status_code == 200, es.content


@pytest.mark.parametrize(("case", "expected"), [
    ("expired", "expired"),
    ("too_long", "five minutes"),
    ("wrong_key", "signature"),
    ("wrong_audience", "aud"),
    ("hs256", "RS384"),
    ("sub_differs", "iss and sub"),
])
def test_bad_assertions_are_refused(mh, service, rsa_key, case, expected):
    stranger = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")  # same kid, other key
    signed = {
        "expired": lambda: assertion(service, rsa_key, exp_in=-5),
        "too_long": lambda: assertion(service, rsa_key, exp_in=3600),
        "wrong_key": lambda: assertion(service, stranger),
        "wrong_audience": lambda: assertion(service, rsa_key,
                                            aud="https://elsewhere.example/token"),
        "hs256": lambda: _hs256(service),
        "sub_differs": lambda: assertion(service, rsa_key, sub="someone-else"),
    }[case]()
    response = ask(signed)
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_client" and expected in body["error_description"]
    assert not AccessEvent.objects.filter(object_type="oauth.token").exists()


def _hs256(app: Application) -> str:
    key = jwk.JWK.generate(kty="oct", size=256)
    token = jwt.JWT(header={"alg": "HS256"}, claims={
        "iss": app.client_id, "sub": app.client_id, "aud": TOKEN_URL,
        "exp": int(timezone.now().timestamp()) + 60, "jti": "x"})
    token.make_signed_token(key)
    return token.serialize()


def test_a_replayed_jti_is_refused_and_spent_jtis_are_forgotten(mh, service, rsa_key):
    signed = assertion(service, rsa_key, jti="once-only")
    assert ask(signed).status_code == 200
    replay = ask(signed)
    assert replay.status_code == 401 and "already used" in replay.json()["error_description"]
    fresh = assertion(service, rsa_key, jti="once-only")  # a new assertion, the same jti
    assert ask(fresh).status_code == 401
    assert remove_spent_jtis(now=timezone.now() + timedelta(minutes=6)) == 1
    assert not AssertionJti.objects.exists()


def test_a_service_asks_for_system_scopes_only_and_never_with_its_secret(mh, service, rsa_key):
    user_scope = ask(assertion(service, rsa_key), scope="user/*.rs")
    assert user_scope.status_code == 400 and user_scope.json()["error"] == "invalid_scope"
    with_secret = Client().post("/o/token/", {"grant_type": "client_credentials",
                                              "scope": "system/*.rs",
                                              "client_id": service.client_id,
                                              "client_secret": "guess"})
    assert with_secret.status_code == 401


def test_system_scopes_narrow_and_the_role_still_decides(mh, rsa_key):
    desk = backend_register(actor=mh.director, name="Synthetic Desk Feed",
                            jwks=public_set(rsa_key), role=Role.FRONT_DESK)
    m = MeasureResponse.objects.create(participant=mh.participant, instrument="phq9",
                                       answers={"q1": 1}, total=5, band="mild",
                                       completed_at=timezone.now())
    token = ask(assertion(desk, rsa_key), scope="system/*.rs").json()["access_token"]
    refused = bearer(token).get(f"/fhir/R4/Observation/{m.code}")
    assert refused.status_code == 403 and "role" in refused.json()["issue"][0]["diagnostics"]
    narrow = backend_register(actor=mh.director, name="Synthetic Patient Feed",
                              jwks=public_set(rsa_key), role=Role.CLINICIAN)
    token = ask(assertion(narrow, rsa_key), scope="system/Patient.rs").json()["access_token"]
    assert bearer(token).get(f"/fhir/R4/Observation/{m.code}").status_code == 403
    assert bearer(token).get(f"/fhir/R4/Patient/{mh.participant.code}").status_code == 200
    # the JSON API serves staff members' user/*.rs tokens only
    assert bearer(token).get("/api/participants/").status_code in (401, 403)


def test_user_apps_cannot_get_system_scopes(mh, app_for_staff):
    browser = login(mh.clinician)
    page = browser.get("/o/authorize/", {
        "response_type": "code", "client_id": app_for_staff.client_id, "scope": "system/*.rs",
        "redirect_uri": REDIRECT, "code_challenge": "x" * 43, "code_challenge_method": "S256"})
    assert page.status_code in (302, 400)
    assert "code=" not in page.get("Location", "")


@pytest.fixture
def app_for_staff(world):
    return Application.objects.create(
        name="Synthetic Staff App", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT, user=world.director, algorithm="")


def test_a_system_token_runs_a_bulk_export_end_to_end(mh, service, rsa_key, settings,
                                                      tmp_path):
    settings.OPENIOP_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = IMMEDIATE
    MeasureResponse.objects.create(participant=mh.participant, instrument="phq9",
                                   answers={"q1": 1}, total=8, band="mild",
                                   completed_at=timezone.now())
    token = ask(assertion(service, rsa_key)).json()["access_token"]
    api = bearer(token)
    kickoff = api.get("/fhir/R4/$export", {"_type": "Patient,Observation"}, headers=ASYNC)
    assert kickoff.status_code == 202, kickoff.content
    status = api.get(kickoff["Content-Location"])
    assert status.status_code == 200, status.content
    manifest = status.json()
    files = {}
    for item in manifest["output"]:
        response = api.get(item["url"])
        assert response.status_code == 200
        lines = b"".join(response.streaming_content).decode().splitlines()
        files[item["type"]] = [json.loads(line) for line in lines]
    assert [p["id"] for p in files["Patient"]] == [str(mh.participant.code)]
    assert [o["valueQuantity"]["value"] for o in files["Observation"]] == [8]
    actor = ClientRegistration.objects.get(application=service).actor
    export = AccessEvent.objects.get(object_type="fhir.$export", action="export")
    assert export.actor == actor and "Patient 1" in export.reason
    # another service's token cannot see this export
    other = backend_register(actor=mh.director, name="Synthetic Other Feed",
                             jwks=public_set(rsa_key), role=Role.CLINICIAN)
    stranger = bearer(ask(assertion(other, rsa_key)).json()["access_token"])
    assert stranger.get(kickoff["Content-Location"]).status_code == 404


def test_directors_register_a_service_with_public_keys_only(mh, rsa_key):
    page = login(mh.director)
    private = json.dumps({"keys": [json.loads(rsa_key.export_private())]})
    refused = page.post("/o/clients/", {"kind": "backend", "name": "Leaky Feed",
                                        "jwks": private, "role": Role.CLINICIAN})
    assert refused.status_code == 422 and "private key" in refused.content.decode()
    broken = page.post("/o/clients/", {"kind": "backend", "name": "Broken Feed",
                                       "jwks": "{not json", "role": Role.CLINICIAN})
    assert broken.status_code == 422 and "Public keys" in broken.content.decode()
    assert not Application.objects.exists()
    created = page.post("/o/clients/", {"kind": "backend", "name": "Synthetic Feed",
                                        "jwks": public_set(rsa_key), "role": Role.NURSE})
    assert created.status_code == 200
    registration = ClientRegistration.objects.select_related("actor", "application").get()
    assert registration.application.authorization_grant_type == "client-credentials"
    robot = registration.actor
    assert robot.role == Role.NURSE and not robot.has_usable_password()
    assert robot.staff_profile.organization == mh.org and not robot.staff_profile.is_active
    assert "Backend service" in page.get("/o/clients/").content.decode()
    assert AccessEvent.objects.filter(object_type="oauth.client",
                                      reason__contains="Synthetic Feed").exists()


def test_discovery_and_capability_statement_describe_both_launches_and_services(db, client):
    config = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert "client_credentials" in config["grant_types_supported"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert {"RS384", "ES384"} <= set(config["token_endpoint_auth_signing_alg_values_supported"])
    for capability in ("launch-standalone", "launch-ehr", "context-standalone-patient",
                       "client-confidential-asymmetric", "permission-v2",
                       "permission-patient"):
        assert capability in config["capabilities"]
    for scope in ("patient/*.rs", "system/*.rs", "launch", "launch/patient",
                  "patient/Observation.rs"):
        assert scope in config["scopes_supported"]
    security = client.get("/fhir/R4/metadata").json()["rest"][0]["security"]
    assert "system" in security["description"] and "patient" in security["description"]
