"""What a signed-out browser's requests get: the page goes to sign-in; an htmx fragment
does not swap a sign-in form into the page; the background poll stays silent."""

from __future__ import annotations

from django.test import Client

from tests.conftest import login


def test_a_page_redirects_to_sign_in_and_comes_back(db):
    response = Client().get("/participants/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/participants/"


def test_an_htmx_request_sends_the_whole_page_to_sign_in(db):
    response = Client().get("/dashboard/count/", headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/notes/?page=2"})
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/notes/"
    assert response.content == b""


def test_the_background_poll_neither_navigates_nor_reads_the_messages(world):
    client = login(world.clinician)
    # The idle sign-out: its message waits in the (new, anonymous) session for sign-in.
    assert client.post("/accounts/logout/", {"reason": "idle"}).status_code == 302
    # A poll the old page sent before it navigated away.
    response = client.get("/dashboard/count/", headers={
        "HX-Request": "true", "X-OpenIOP-Background": "1"})
    assert response.status_code == 204
    assert "HX-Redirect" not in response
    assert response.content == b""
    page = client.get("/accounts/login/").content.decode()
    assert "You were signed out after" in page


def test_the_background_poll_does_not_write_the_session_back(world):
    """A poll that read the session before a form saved its message must not save its stale
    copy afterwards (the message would be lost), nor extend the idle limit."""
    from django.contrib.sessions.models import Session

    client = login(world.clinician)
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    response = client.get("/dashboard/count/", headers={
        "HX-Request": "true", "X-OpenIOP-Background": "1"})
    assert response.status_code == 200
    assert settings_cookie_name() not in response.cookies
    assert Session.objects.get(session_key=key).expire_date == before


def settings_cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME
