"""Directors register their organization's SMART apps; nobody else can."""

from __future__ import annotations

from oauth2_provider.models import Application

from openiop.audit.models import AccessEvent
from tests.conftest import login


def test_a_director_registers_a_public_and_a_confidential_app(world, as_director):
    page = as_director.get("/o/clients/")
    assert page.status_code == 200 and "No apps yet" in page.content.decode()
    public = as_director.post("/o/clients/", {"purpose_code": "treatment", "name": "Synthetic Tracker",
                                              "redirect_uris": "https://tracker.example/cb"})
    assert public.status_code == 200
    app = Application.objects.get(name="Synthetic Tracker")
    assert app.client_type == "public" and app.client_id in public.content.decode()
    server = as_director.post("/o/clients/", {
        "name": "Synthetic Registry", "confidential": "on", "purpose_code": "payment",
        "redirect_uris": "https://registry.example/cb\nhttp://localhost:9000/cb"})
    secret = server.context["created"][1]
    registry = Application.objects.get(name="Synthetic Registry")
    assert registry.client_type == "confidential" and secret in server.content.decode()
    assert registry.client_secret != secret  # stored hashed
    assert registry.openiop_purpose.purpose_code == "payment"  # its declared purpose of use
    assert registry.redirect_uris.split() == ["https://registry.example/cb",
                                              "http://localhost:9000/cb"]
    listing = as_director.get("/o/clients/").content.decode()
    assert "Synthetic Tracker" in listing and secret not in listing
    assert AccessEvent.objects.filter(object_type="oauth.client", action="create").count() == 2


def test_an_unsafe_redirect_is_refused_naming_the_field(world, as_director):
    response = as_director.post("/o/clients/", {"purpose_code": "treatment", "name": "Leaky",
                                                "redirect_uris": "http://leaky.example/cb"})
    assert response.status_code == 422
    assert "Redirect URIs" in response.content.decode()
    assert "http://leaky.example/cb" in response.content.decode()  # what was typed stays
    assert not Application.objects.exists()


def test_other_roles_cannot_register_apps(world, as_clinician):
    assert as_clinician.get("/o/clients/").status_code == 404
    assert as_clinician.post("/o/clients/", {"purpose_code": "treatment", "name": "X", "redirect_uris":
                                             "https://x.example/cb"}).status_code == 404
    assert not Application.objects.exists()
    outsider_view = login(world.outsider).get("/o/clients/")
    assert outsider_view.status_code == 200 and "No apps yet" in outsider_view.content.decode()


def test_registered_browser_origins_get_cors_and_others_do_not(world, as_director, client):
    as_director.post("/o/clients/", {"purpose_code": "treatment", "name": "Synthetic Web App",
                                     "redirect_uris": "https://web.example/cb",
                                     "allowed_origins": "https://web.example"})
    preflight = client.options("/fhir/R4/Patient", headers={"Origin": "https://web.example"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://web.example"
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    read = client.get("/fhir/R4/metadata", headers={"Origin": "https://web.example"})
    assert read["Access-Control-Allow-Origin"] == "https://web.example"
    assert "ETag" in read["Access-Control-Expose-Headers"]
    stranger = client.get("/fhir/R4/metadata", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger
    assert client.options("/fhir/R4/Patient",
                          headers={"Origin": "https://evil.example"}).status_code == 405
    bad = as_director.post("/o/clients/", {"purpose_code": "treatment", "name": "Bad", "redirect_uris": "https://b.example/cb",
                                           "allowed_origins": "http://b.example"})
    assert bad.status_code == 422 and "Allowed origins" in bad.content.decode()
