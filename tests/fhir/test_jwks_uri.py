"""SMART Backend Services with a `jwks_uri`: the service publishes its JWK Set at a URL
(here a local HTTP server thread; http is allowed on localhost only with
OPENIOP_JWKS_HTTP_LOCALHOST), the key is picked by `kid`, the set is cached and fetched
again when a new `kid` appears, and an unreachable URL or an unknown `kid` is a clear
`invalid_client`."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import Application

from openiop.accounts.models import Role
from openiop.fhir import jwks
from openiop.fhir.clients import backend_register
from openiop.fhir.models import ClientRegistration
from tests.conftest import login

from .test_backend_services import TOKEN_URL, ask, assertion
from .test_smart import bearer


class KeyServer:
    """Serves `body` at /jwks.json; counts the requests it answered."""

    def __init__(self) -> None:
        self.body: dict | str = {"keys": []}
        self.status = 200
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                time.sleep(server.delay)
                payload = (server.body if isinstance(server.body, str)
                           else json.dumps(server.body)).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *keys: jwk.JWK) -> None:
        self.body = {"keys": [json.loads(k.export_public()) for k in keys]}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def keyserver(settings) -> Iterator[KeyServer]:
    settings.OPENIOP_JWKS_HTTP_LOCALHOST = True
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys() -> dict[str, jwk.JWK]:
    return {"rsa": jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1"),
            "ec": jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-1"),
            "next": jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-2")}


@pytest.fixture
def service(mh, keyserver, keys) -> Application:
    keyserver.publish(keys["rsa"], keys["ec"])
    return backend_register(actor=mh.director, name="Synthetic Rotating Feed",
                            jwks_uri=keyserver.url, role=Role.CLINICIAN)


def refused(response, expected: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_client", body
    assert expected in body["error_description"], body["error_description"]


def test_the_key_is_picked_by_kid_from_the_published_set_and_cached(
        mh, service, keyserver, keys):
    registration = ClientRegistration.objects.get(application=service)
    assert registration.jwks is None and registration.jwks_uri == keyserver.url
    assert keyserver.hits == 1  # read once at registration
    rsa = ask(assertion(service, keys["rsa"]))
    assert rsa.status_code == 200, rsa.content
    ec = ask(assertion(service, keys["ec"], alg="ES384"))
    assert ec.status_code == 200, ec.content
    assert keyserver.hits == 1  # both answered from the cache
    patients = bearer(rsa.json()["access_token"]).get("/fhir/R4/Patient").json()
    assert str(mh.participant.code) in {e["resource"]["id"] for e in patients["entry"]}


def test_a_rotated_key_is_fetched_again_and_an_unknown_kid_is_refused(
        mh, service, keyserver, keys, monkeypatch):
    keyserver.publish(keys["ec"], keys["next"])  # the service rotated its RSA key out
    # within REFRESH_SECONDS of the last fetch, the cached set is kept
    refused(ask(assertion(service, keys["next"], alg="ES384")), "kid 'ec-2'")
    assert keyserver.hits == 1
    monkeypatch.setattr(jwks, "REFRESH_SECONDS", 0)
    rotated = ask(assertion(service, keys["next"], alg="ES384"))
    assert rotated.status_code == 200, rotated.content
    assert keyserver.hits == 2
    refused(ask(assertion(service, keys["rsa"])), "kid 'rsa-1'")  # no longer published
    stranger = jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-1")  # a known kid, other key
    refused(ask(assertion(service, stranger, alg="ES384")), "signature does not match")


@pytest.mark.parametrize(("case", "expected"), [
    ("server_error", "HTTP 500"),
    ("redirect", "HTTP 302"),
    ("not_json", "did not answer JSON"),
    ("private_key", "private key"),
    ("too_slow", "could not be reached"),
    ("down", "could not be reached"),
])
def test_an_unusable_jwks_uri_is_a_clear_invalid_client(
        mh, service, keyserver, keys, monkeypatch, case, expected):
    jwks.forget(keyserver.url)
    if case == "server_error":
        keyserver.status = 500
    elif case == "redirect":
        keyserver.status = 302
        keyserver.headers = {"Location": "http://127.0.0.1:9/elsewhere.json"}
    elif case == "not_json":
        keyserver.body = "<html>maintenance</html>"
    elif case == "private_key":
        keyserver.body = {"keys": [json.loads(keys["rsa"].export_private())]}
    elif case == "too_slow":
        monkeypatch.setattr(jwks, "FETCH_TIMEOUT_SECONDS", 0.2)
        keyserver.delay = 1.0
    elif case == "down":
        keyserver.stop()
    response = ask(assertion(service, keys["rsa"]))
    refused(response, "jwks_uri are unavailable")
    refused(response, expected)


def test_no_store_keys_are_fetched_for_every_assertion(mh, service, keyserver, keys):
    keyserver.headers = {"Cache-Control": "no-store"}
    jwks.forget(keyserver.url)
    for _ in range(2):
        assert ask(assertion(service, keys["rsa"])).status_code == 200
    assert keyserver.hits == 3  # registration (cached), then two uncached reads


def test_a_jku_header_must_be_the_registered_uri(mh, service, keys):
    refused(ask(assertion_with_header(service, keys["rsa"], jku="https://evil.example/k")),
            "jku")


def assertion_with_header(app, key, **header) -> str:
    now = int(timezone.now().timestamp())
    token = jwt.JWT(header={"alg": "RS384", "kid": key.get("kid"), **header},
                    claims={"iss": app.client_id, "sub": app.client_id, "aud": TOKEN_URL,
                            "exp": now + 60, "jti": str(uuid.uuid4())})
    token.make_signed_token(key)
    return token.serialize()


def test_registration_takes_an_https_uri_publishing_public_keys(mh, keyserver, keys, settings):
    def register(**kw):
        return backend_register(actor=mh.director, name="Synthetic Feed",
                                role=Role.CLINICIAN, **kw)

    keyserver.publish(keys["rsa"])
    for kwargs, field, words in [
        ({"jwks_uri": "http://feed.example/jwks.json"}, "jwks_uri", "https"),
        ({"jwks_uri": "file:///etc/passwd"}, "jwks_uri", "https"),
        ({}, "jwks", "one of the two"),
        ({"jwks_uri": keyserver.url, "jwks": json.dumps(keyserver.body)}, "jwks",
         "one of the two"),
    ]:
        with pytest.raises(ValidationError) as caught:
            register(**kwargs)
        assert words in " ".join(caught.value.message_dict[field])
    keyserver.body = {"keys": [json.loads(keys["rsa"].export_private())]}
    with pytest.raises(ValidationError) as caught:
        register(jwks_uri=keyserver.url)
    assert "private key" in caught.value.message_dict["jwks_uri"][0]
    settings.OPENIOP_JWKS_HTTP_LOCALHOST = False  # production: loopback http is refused too
    keyserver.publish(keys["rsa"])
    with pytest.raises(ValidationError) as caught:
        register(jwks_uri=keyserver.url)
    assert "https" in caught.value.message_dict["jwks_uri"][0]
    assert not Application.objects.exists()


def test_directors_register_a_service_by_its_jwks_uri_on_the_page(mh, keyserver, keys):
    keyserver.publish(keys["ec"])
    page = login(mh.director)
    created = page.post("/o/clients/", {"kind": "backend", "name": "Synthetic URL Feed",
                                        "jwks_uri": keyserver.url, "role": Role.NURSE})
    assert created.status_code == 200, created.content
    assert ClientRegistration.objects.get().jwks_uri == keyserver.url
    assert f"Keys at {keyserver.url}" in page.get("/o/clients/").content.decode()
    keyserver.status = 404
    jwks.forget(keyserver.url)
    broken = page.post("/o/clients/", {"kind": "backend", "name": "Synthetic Gone Feed",
                                       "jwks_uri": keyserver.url, "role": Role.NURSE})
    assert broken.status_code == 422 and "HTTP 404" in broken.content.decode()
