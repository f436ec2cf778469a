"""Clinic administration (staff, by invitation) apart from platform administration
(Django's admin, superusers only, no secrets shown, every request audited)."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import Invitation, Role, User
from openiop.audit.models import AccessEvent
from tests import factories as f
from tests.conftest import login
from tests.factories import PASSWORD

NEW_PASSWORD = "a-long-and-unusual-passphrase"


def _invite(client: Client, **fields) -> str:
    data = {"username": "newbie", "first_name": "Nia", "last_name": "Park",
            "email": "", "title": "", "role": "clinician"} | fields
    response = client.post("/accounts/staff/invite/", data)
    assert response.status_code == 200, response.content.decode()[-600:]
    return re.search(r'id="setup-link">https?://[^/]+(/accounts/link/[^<]+/)<',
                     response.content.decode()).group(1)


def _accept(link: str) -> Client:
    client = Client()
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/"
    return client


def test_a_director_invites_a_colleague_who_sets_password_and_authenticator(
        world, as_director, settings):
    settings.OPENIOP_REQUIRE_MFA = True
    link = _invite(as_director)
    newbie = User.objects.get(username="newbie")
    assert newbie.staff_profile.organization == world.org and not newbie.has_usable_password()
    assert Invitation.objects.get(user=newbie).token_hash not in link
    client = _accept(link)
    client.get("/accounts/mfa/")
    device = TOTPDevice.objects.get(user=newbie)
    before = client.session.session_key
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    assert client.post("/accounts/mfa/", {"token": code}).status_code == 302
    # The session key changes once the second factor is verified.
    assert client.session.session_key != before
    assert client.get("/participants/").status_code == 200
    assert Client().get(link).status_code == 410
    event = AccessEvent.objects.get(object_type="staff", action="create")
    assert event.actor == world.director and event.organization_id == world.org.pk


def test_a_stolen_password_cannot_enrol_an_authenticator(world, settings):
    """An account with a password and no device is not enrolled on first use."""
    settings.OPENIOP_REQUIRE_MFA = True
    client = Client()
    client.post("/accounts/login/", {"username": "clin", "password": PASSWORD})
    page = client.get("/accounts/mfa/")
    assert page.status_code == 403
    assert b"no authenticator yet" in page.content and b"<svg" not in page.content
    assert client.post("/accounts/mfa/", {"token": "123456"}).status_code == 403
    assert not TOTPDevice.objects.filter(user=world.clinician).exists()
    assert client.get("/participants/").status_code == 302


def test_a_director_cannot_create_an_administrator_and_input_is_kept(world, as_director):
    response = as_director.post("/accounts/staff/invite/", {
        "username": "boss2", "first_name": "Bo", "last_name": "Sun", "role": "admin"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page and 'value="Bo"' in page
    assert not User.objects.filter(username="boss2").exists()


def test_the_staff_page_lists_only_the_own_organization_and_is_audited_once(world, as_director):
    for n in range(4):
        f.staff(world.org, Role.NURSE, username=f"nurse{n}")
    with CaptureQueriesContext(connection) as queries:
        page = as_director.get("/accounts/staff/").content.decode()
    assert "nurse3" in page and "clin" in page and "outsider" not in page
    assert len(queries) <= 14
    assert AccessEvent.objects.filter(object_type="staff_list").count() == 1
    assert as_director.get(f"/accounts/staff/{world.outsider.code}/reset/").status_code == 405
    assert as_director.post(f"/accounts/staff/{world.outsider.code}/reset/").status_code == 404
    assert as_director.post(f"/accounts/staff/{world.outsider.code}/deactivate/",
                            {"reason": "x", "confirm": "on"}).status_code == 404
    assert User.objects.get(pk=world.outsider.pk).is_active


def test_roles_without_staff_management_do_not_see_or_open_it(world, as_clinician):
    assert as_clinician.get("/accounts/staff/").status_code == 404
    assert "/accounts/staff/" not in as_clinician.get("/dashboard/").content.decode()
    assert "/accounts/staff/" in login(world.director).get("/dashboard/").content.decode()


def test_deactivation_needs_a_reason_and_confirmation_and_ends_sign_in(world, as_director):
    colleague = login(world.colleague)
    assert colleague.get("/participants/").status_code == 200
    url = f"/accounts/staff/{world.colleague.code}/deactivate/"
    as_director.post(url, {"reason": "", "confirm": ""})
    assert User.objects.get(pk=world.colleague.pk).is_active
    as_director.post(url, {"reason": "left the clinic", "confirm": "on"})
    assert not User.objects.get(pk=world.colleague.pk).is_active
    assert colleague.get("/participants/").status_code == 302
    event = AccessEvent.objects.get(object_type="staff", action="change")
    assert event.reason == "deactivated: left the clinic"
    as_director.post(f"/accounts/staff/{world.colleague.code}/reactivate/")
    assert User.objects.get(pk=world.colleague.pk).is_active


def test_a_reset_link_voids_the_password_and_the_authenticator(world, as_director):
    TOTPDevice.objects.create(user=world.colleague, name="phone", confirmed=True)
    page = as_director.post(f"/accounts/staff/{world.colleague.code}/reset/")
    assert b"setup-link" in page.content
    assert not TOTPDevice.objects.filter(user=world.colleague).exists()
    refused = Client().post("/accounts/login/", {"username": "colleague", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.wsgi_request.session


def test_django_admin_is_for_platform_operators_only(world):
    # A clinic administrator is not a platform operator.
    clinic_admin = f.staff(world.org, Role.ADMIN, username="clinicadmin")
    response = login(clinic_admin).get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_django_admin_shows_no_secrets_and_audits_reads(world):
    operator = User.objects.create_superuser("operator", "op@example.org", NEW_PASSWORD)
    TOTPDevice.objects.create(user=world.clinician, name="phone", confirmed=True)
    device = TOTPDevice.objects.get(user=world.clinician)
    client = login(operator)
    user_page = client.get(f"/admin/accounts/user/{world.clinician.pk}/change/")
    assert user_page.status_code == 200
    assert world.clinician.password.split("$")[-1] not in user_page.content.decode()
    assert b"argon2" not in user_page.content and b"pbkdf2" not in user_page.content
    assert client.get(f"/admin/accounts/user/{world.clinician.pk}/password/").status_code == 404
    device_page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert device_page.status_code == 200 and device.key not in device_page.content.decode()
    assert b"qrcode" not in device_page.content.lower()
    reads = AccessEvent.objects.filter(actor=operator, object_type__startswith="admin:")
    assert reads.count() == 3 and {e.chain for e in reads} == {0}
    assert {e.path for e in reads} >= {f"/admin/accounts/user/{world.clinician.pk}/change/"}
