"""Directors register their organization's SMART apps; nobody else can."""

from __future__ import annotations

from oauth2_provider.models import Application

from openiop.audit.models import AccessEvent
from tests.conftest import login


def test_a_director_registers_a_public_and_a_confidential_app(world, as_director):
    page = as_director.get("/o/clients/")
    assert page.status_code == 200 and "No apps yet" in page.content.decode()
    public = as_director.post("/o/clients/", {"name": "Synthetic Tracker",
                                              "redirect_uris": "https://tracker.example/cb"})
    assert public.status_code == 200
    app = Application.objects.get(name="Synthetic Tracker")
    assert app.client_type == "public" and app.client_id in public.content.decode()
    server = as_director.post("/o/clients/", {
        "name": "Synthetic Registry", "confidential": "on",
        "redirect_uris": "https://registry.example/cb\nhttp://localhost:9000/cb"})
    secret = server.context["created"][1]
    registry = Application.objects.get(name="Synthetic Registry")
    assert registry.client_type == "confidential" and secret in server.content.decode()
    assert registry.client_secret != secret  # stored hashed
    assert registry.redirect_uris.split() == ["https://registry.example/cb",
                                              "http://localhost:9000/cb"]
    listing = as_director.get("/o/clients/").content.decode()
    assert "Synthetic Tracker" in listing and secret not in listing
    assert AccessEvent.objects.filter(object_type="oauth.client", action="create").count() == 2


def test_an_unsafe_redirect_is_refused_naming_the_field(world, as_director):
    response = as_director.post("/o/clients/", {"name": "Leaky",
                                                "redirect_uris": "http://leaky.example/cb"})
    assert response.status_code == 422
    assert "Redirect URIs" in response.content.decode()
    assert "http://leaky.example/cb" in response.content.decode()  # what was typed stays
    assert not Application.objects.exists()


def test_other_roles_cannot_register_apps(world, as_clinician):
    assert as_clinician.get("/o/clients/").status_code == 404
    assert as_clinician.post("/o/clients/", {"name": "X", "redirect_uris":
                                             "https://x.example/cb"}).status_code == 404
    assert not Application.objects.exists()
    outsider_view = login(world.outsider).get("/o/clients/")
    assert outsider_view.status_code == 200 and "No apps yet" in outsider_view.content.decode()
