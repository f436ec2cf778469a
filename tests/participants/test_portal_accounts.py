"""Portal accounts from the chart: invite the participant or a family member (under a
family-access consent) by a one-time link, a new link, deactivate with a confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.models import AccessEvent
from openiop.participants.models import Consent, RelatedPerson

PASSWORD = "a-long-and-unusual-passphrase"


def _base(world):
    return f"/participants/{world.participant.code}/portal-accounts/"


def _link(response) -> str:
    assert response.status_code == 200, response.content.decode()[-500:]
    return re.search(r'id="setup-link">https?://[^/]+(/accounts/link/[^<]+/)<',
                     response.content.decode()).group(1)


def _accept(link: str) -> Client:
    client = Client()
    done = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/portal/"
    return client


def test_a_participant_is_invited_and_signs_in_to_the_portal(world, as_clinician):
    link = _link(as_clinician.post(_base(world) + "invite/", {
        "who": "participant", "username": "jamie", "email": ""}))
    world.participant.refresh_from_db()
    account = world.participant.user
    assert account.username == "jamie" and account.role == "participant"
    assert not account.has_usable_password()
    portal = _accept(link)
    assert portal.get("/portal/").status_code == 200
    assert AccessEvent.objects.filter(object_type="portal_account", action="create",
                                      participant=world.participant).count() == 1


def test_a_family_member_needs_a_consent_before_an_invitation(world, as_clinician):
    mom = RelatedPerson.objects.create(participant=world.participant, name="Pat Parent",
                                       relationship="parent")
    refused = as_clinician.post(_base(world) + "invite/", {
        "who": str(mom.code), "username": "patp"})
    assert refused.status_code == 400
    assert "family-access consent for this person first" in refused.content.decode()
    assert 'value="patp"' in refused.content.decode()
    assert not User.objects.filter(username="patp").exists()
    Consent.objects.create(participant=world.participant, kind="family_access",
                           related_person=mom, scopes=["family_schedule"],
                           granted_at=timezone.now() - timedelta(days=1))
    link = _link(as_clinician.post(_base(world) + "invite/", {
        "who": str(mom.code), "username": "patp"}))
    family = _accept(link)
    assert family.get("/portal/family/schedule/").status_code == 200
    assert User.objects.get(username="patp").role == "family"


def test_deactivating_a_portal_account_asks_first_and_stops_sign_in(world, as_clinician):
    link = _link(as_clinician.post(_base(world) + "invite/", {
        "who": "participant", "username": "jamie"}))
    portal = _accept(link)
    url = _base(world) + "participant/deactivate/"
    ask = as_clinician.post(url)
    assert ask.status_code == 200 and "Stop" in ask.content.decode()
    assert User.objects.get(username="jamie").is_active
    as_clinician.post(url, {"reason": "asked to close the account", "confirm": "on"})
    assert not User.objects.get(username="jamie").is_active
    assert portal.get("/portal/").status_code == 302
    as_clinician.post(_base(world) + "participant/reactivate/")
    assert User.objects.get(username="jamie").is_active


def test_a_new_link_replaces_the_password(world, as_clinician):
    _accept(_link(as_clinician.post(_base(world) + "invite/", {
        "who": "participant", "username": "jamie"})))
    link = _link(as_clinician.post(_base(world) + "participant/link/"))
    assert not User.objects.get(username="jamie").has_usable_password()
    _accept(link)


def test_front_desk_and_other_organizations_cannot_manage_portal_accounts(world, as_outsider):
    from openiop.accounts.models import Role
    from tests import factories as f
    from tests.conftest import login

    desk = login(f.staff(world.org, Role.FRONT_DESK))
    for client in (desk, as_outsider):
        assert client.post(_base(world) + "invite/", {
            "who": "participant", "username": "jamie"}).status_code == 404
    assert not User.objects.filter(username="jamie").exists()
