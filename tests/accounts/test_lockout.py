"""Failed sign-ins lock the username from every address and the address for every
username; the client address comes from X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

from django.test import Client, RequestFactory

from openiop.core.http import client_ip
from tests.factories import PASSWORD


def _login(username: str, password: str, ip: str, forwarded: str = ""):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/accounts/login/", {"username": username, "password": password},
                         **extra)


def test_a_locked_username_stays_locked_from_another_address(world, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login("clin", "wrong-password", f"198.51.100.{n + 1}")
    refused = _login("clin", PASSWORD, "203.0.113.77")
    assert refused.status_code == 429
    # Another account is not affected.
    assert _login("colleague", PASSWORD, "203.0.113.77").status_code == 302


def test_an_address_spraying_usernames_is_locked(world, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(f"nobody{n}", "wrong-password", "198.51.100.9")
    assert _login("clin", PASSWORD, "198.51.100.9").status_code == 429
    assert _login("clin", PASSWORD, "198.51.100.10").status_code == 302


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(settings):
    rf = RequestFactory()
    settings.OPENIOP_TRUSTED_PROXIES = []
    spoof = rf.get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(spoof) == "203.0.113.5"
    settings.OPENIOP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    via_proxy = rf.get("/", REMOTE_ADDR="10.0.0.2",
                       HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5, 10.0.0.7")
    # Right to left, past the trusted proxies: the client the first proxy saw. The
    # left-most value is whatever the client wrote and is not believed.
    assert client_ip(via_proxy) == "203.0.113.5"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2",
                            HTTP_X_FORWARDED_FOR="not-an-address")) == "10.0.0.2"
    assert client_ip(rf.get("/", REMOTE_ADDR="")) is None
    assert client_ip(None) is None


def test_behind_a_trusted_proxy_clients_are_locked_one_by_one(world, settings):
    settings.OPENIOP_TRUSTED_PROXIES = ["10.0.0.1"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(f"nobody{n}", "wrong-password", "10.0.0.1", forwarded="198.51.100.20")
    assert _login("clin", PASSWORD, "10.0.0.1", forwarded="198.51.100.20").status_code == 429
    # Another client behind the same proxy is not locked out with it.
    assert _login("clin", PASSWORD, "10.0.0.1", forwarded="198.51.100.21").status_code == 302


def test_the_audit_trail_records_the_address_the_proxy_saw(world, settings):
    from openiop.audit.models import AccessEvent
    from tests.conftest import login

    settings.OPENIOP_TRUSTED_PROXIES = ["10.0.0.1"]
    login(world.clinician).get(f"/participants/{world.participant.code}/",
                               REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.30")
    assert AccessEvent.objects.get(action="view", participant=world.participant
                                   ).client_ip == "198.51.100.30"
