"""Sign-in security: lockout, two-factor for staff, idle logoff, headers."""

from __future__ import annotations

import re

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def _login(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_lockout_after_repeated_failed_logins(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "clin", "wrong-password").status_code == 200
    # The failure that reaches the limit locks the account ...
    assert _login(client, "clin", "wrong-password").status_code == 429
    # ... and then even the right password is refused.
    locked = _login(client, "clin", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_a_correct_password_before_the_limit_signs_in(world):
    client = Client()
    _login(client, "clin", "wrong-password")
    assert _login(client, "clin", PASSWORD).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_staff_must_verify_a_second_factor_when_mfa_is_required(world, settings):
    from openiop.accounts.services import staff_reset_link

    settings.OPENIOP_REQUIRE_MFA = True
    token = staff_reset_link(actor=world.director, user=world.clinician)
    client = Client()
    # The one-time link sets the password and signs in ...
    client.post(f"/accounts/link/{token}/", {"new_password1": "another-long-passphrase",
                                            "new_password2": "another-long-passphrase"})
    response = client.get(f"/participants/{world.participant.code}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/")
    # ... and only that session may enrol: a QR code and an unconfirmed device.
    page = client.get("/accounts/mfa/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=world.clinician)
    assert not device.confirmed
    token = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    done = client.post("/accounts/mfa/", {"token": token, "next": "/participants/"})
    assert done.status_code == 302 and done["Location"] == "/participants/"
    assert client.get(f"/participants/{world.participant.code}/").status_code == 200


def test_wrong_totp_code_is_refused_with_a_message(world, settings):
    settings.OPENIOP_REQUIRE_MFA = True
    TOTPDevice.objects.create(user=world.clinician, name="phone", confirmed=True)
    client = Client()
    _login(client, "clin", PASSWORD)
    client.get("/accounts/mfa/")
    response = client.post("/accounts/mfa/", {"token": "12345a"})
    assert b"The code is 6 digits, numbers only." in response.content
    assert client.get("/participants/").status_code == 302


def test_api_answers_401_json_without_second_factor(world, settings):
    settings.OPENIOP_REQUIRE_MFA = True
    client = Client()
    _login(client, "clin", PASSWORD)
    response = client.get("/api/participants/")
    assert response.status_code == 401 and response.json()["detail"]


def test_without_mfa_setting_staff_go_straight_in(world, settings):
    settings.OPENIOP_REQUIRE_MFA = False
    client = Client()
    _login(client, "clin", PASSWORD)
    assert client.get("/participants/").status_code == 200


def test_idle_logoff_is_fifteen_minutes_by_default(settings):
    from openiop.core.sessions import WRITE_SLACK_SECONDS

    assert settings.OPENIOP_IDLE_MINUTES == 15
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    # Renewed by openiop.core.sessions when stale, not written by every request.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert WRITE_SLACK_SECONDS == 60


def test_passwords_are_hashed_with_argon2(world):
    assert world.clinician.password.startswith("argon2")


def test_security_headers_and_csp(world, as_clinician):
    response = as_clinician.get("/participants/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("style-src-attr")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_csrf_is_enforced(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.clinician)
    response = client.post("/participants/new/", {"mrn": "X"})
    assert response.status_code == 403


def test_a_session_idle_longer_than_the_setting_is_signed_out(world, settings):
    """Activity keeps the session alive; OPENIOP_IDLE_MINUTES of silence ends it."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    settings.SESSION_COOKIE_AGE = settings.OPENIOP_IDLE_MINUTES * 60
    client = Client()
    assert _login(client, "clin", PASSWORD).status_code == 302
    start = timezone.now()

    def at(minutes: float):
        return mock.patch("django.utils.timezone.now",
                          return_value=start + timedelta(minutes=minutes))

    idle = settings.OPENIOP_IDLE_MINUTES
    with at(idle - 1):  # still inside the window: the request also renews the session
        assert client.get("/participants/").status_code == 200
    with at(2 * idle - 2):  # idle again, but less than the limit since the last request
        assert client.get("/participants/").status_code == 200
    with at(3 * idle):  # more than the limit since the last request
        response = client.get("/participants/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_pages_tell_the_browser_when_to_sign_out_an_idle_screen(world, as_clinician, settings):
    """No later than the server may have ended the session: it is written at most once a
    minute, so at the default 15 minutes the screen signs out after 14."""
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    response = as_clinician.get("/participants/")
    assert b'data-idle-seconds="840"' in response.content
    settings.SESSION_COOKIE_AGE = 8  # a session of seconds (tests) is written every time
    assert b'data-idle-seconds="6"' in as_clinician.get("/participants/").content


def test_admin_and_api_docs_are_served_under_the_csp(world, settings):
    from tests.conftest import login

    world.director.is_staff = world.director.is_superuser = True
    world.director.save()
    client = login(world.director)
    for url in ("/admin/", "/admin/audit/accessevent/", "/api/docs"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "script-src 'self'" in response["Content-Security-Policy"], url
    docs = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    # Every script and stylesheet is served by the app: no other host (a CDN). Checked on
    # the URLs themselves: the page also carries random tokens, which may spell "cdn".
    assets = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", docs)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets


def test_a_participant_signing_in_lands_on_the_portal(world):
    from tests.skills.helpers import portal_user

    user = portal_user(world.participant)
    response = _login(Client(), user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_the_session_key_changes_when_the_second_factor_is_verified(world, settings):
    # Session fixation (OWASP ASVS 3.2.1): the key a client held after the password step
    # (which an attacker may have planted) is not the key of the fully signed-in session.
    settings.OPENIOP_REQUIRE_MFA = True
    device = TOTPDevice.objects.create(user=world.clinician, name="phone", confirmed=True)
    client = Client()
    _login(client, "clin", PASSWORD)
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    token = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    done = client.post("/accounts/mfa/", {"token": token, "next": "/participants/"})
    assert done.status_code == 302
    after_mfa = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_mfa != after_password
    assert client.get("/participants/").status_code == 200
    # The key from before the second factor opens nothing.
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = after_password
    assert stale.get("/participants/").status_code == 302


def _session_row(client: Client, settings):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_two_quick_requests_write_the_session_once(world, settings):
    """The first request renews the session (its expiry moves); the next, seconds later,
    neither writes it nor sends the cookie again - no session queries at all."""
    from datetime import timedelta

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        assert _login(client, "clin", PASSWORD).status_code == 302
        signed_in = _session_row(client, settings)
        clock.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as first:
            assert client.get("/participants/").status_code == 200
        clock.shift(timedelta(seconds=5))
        with CaptureQueriesContext(connection) as second:
            response = client.get("/participants/")
        assert response.status_code == 200
    # Stamped at sign-in, 30 s ago: neither request is past the slack, neither writes.
    after = _session_row(client, settings)
    assert (after.expire_date, after.session_data) == (
        signed_in.expire_date, signed_in.session_data)
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    session_writes = [q["sql"] for q in (*first, *second)
                      if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert session_writes == []


def test_a_request_past_the_slack_writes_the_session_once(world, settings):
    from datetime import timedelta

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from openiop.core.sessions import WRITE_SLACK_SECONDS

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        assert _login(client, "clin", PASSWORD).status_code == 302
        clock.shift(timedelta(seconds=WRITE_SLACK_SECONDS + 1))
        with CaptureQueriesContext(connection) as first:
            assert client.get("/participants/").status_code == 200
        renewed = _session_row(client, settings)
        clock.shift(timedelta(seconds=2))
        with CaptureQueriesContext(connection) as second:
            assert client.get("/participants/").status_code == 200

    def writes(queries):
        return [q["sql"] for q in queries if q["sql"].startswith("UPDATE")
                and "django_session" in q["sql"]]

    assert len(writes(first)) == 1 and writes(second) == []
    # The first renewed the idle expiry from its own moment; the second left it there.
    moment = start + timedelta(seconds=WRITE_SLACK_SECONDS + 1)
    assert renewed.expire_date == moment + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert _session_row(client, settings).expire_date == renewed.expire_date


def test_the_idle_logoff_keeps_to_fifteen_minutes_within_the_slack(world, settings):
    """14 minutes after the last request the session is alive; 16 minutes after, it is over
    (and a request inside the slack does not push the end later)."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from openiop.core.sessions import WRITE_SLACK_SECONDS

    idle = settings.OPENIOP_IDLE_MINUTES
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        assert _login(client, "clin", PASSWORD).status_code == 302
        clock.shift(timedelta(minutes=idle - 1))
        assert client.get("/participants/").status_code == 200  # 14 min idle: alive
        clock.shift(timedelta(seconds=WRITE_SLACK_SECONDS - 1))
        assert client.get("/participants/").status_code == 200  # inside the slack: no write
        clock.shift(timedelta(minutes=idle - 1))  # 14 min after that request: still alive
        assert client.get("/participants/").status_code == 200
        clock.shift(timedelta(minutes=idle + 1))  # 16 min idle: signed out
        response = client.get("/participants/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signing_out_leaves_no_session_behind(world, settings):
    """The renewal stamp never brings an ended session back: not the signed-out one, and a
    request with its stale cookie creates no session (a row holding only the stamp)."""
    from django.contrib.sessions.models import Session

    client = Client()
    assert _login(client, "clin", PASSWORD).status_code == 302
    stale = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=stale).exists()
    # What is left is the "You are signed out" message's, for nobody.
    left = Session.objects.count()
    assert all("_auth_user_id" not in s.get_decoded() for s in Session.objects.all())
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = stale
    response = other.get("/participants/")
    assert response.status_code == 302
    assert Session.objects.count() == left
    assert settings.SESSION_COOKIE_NAME not in response.cookies or not response.cookies[
        settings.SESSION_COOKIE_NAME].value
