"""Family access is decided by the access module: the participant's family-access consent
gives the scope, the policy table the record kinds; the portal's family pages ask it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.access.decisions import family_allows, scope
from openiop.access.policy import FAMILY_SCOPE_KINDS, TABLE, Kind
from openiop.accounts.models import Role
from openiop.participants.consents import FAMILY_SCOPES
from openiop.portal.models import SharedNote
from openiop.scheduling.models import Booking
from tests import factories as f
from tests.conftest import login
from tests.portal.helpers import family_member


def _note(participant, title: str) -> SharedNote:
    return SharedNote.objects.create(participant=participant, title=title, body="Synthetic",
                                     shared_at=timezone.now())


def test_every_consent_scope_is_declared_in_the_policy():
    assert set(FAMILY_SCOPE_KINDS) == set(FAMILY_SCOPES)


def test_family_allows_only_the_consented_scopes_until_revoked(world):
    mom, consent = family_member(world.participant, ["shared_notes"])
    p = world.participant
    assert family_allows(mom, p, "shared_notes")
    assert not family_allows(mom, p, "family_schedule")
    assert not family_allows(mom, world.outsider_participant, "shared_notes")
    assert not family_allows(world.clinician, p, "shared_notes")
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    assert not family_allows(mom, p, "shared_notes")


def test_scope_gives_a_family_member_the_consented_participants_rows(world):
    mom, _ = family_member(world.participant, ["shared_notes"])
    other = f.participant(world.org, legal_last_name="Other")
    mine, theirs = _note(world.participant, "Mine"), _note(other, "Theirs")
    assert list(scope(SharedNote.objects.all(), mom, Kind.MESSAGES)) == [mine]
    assert theirs.pk not in scope(SharedNote.objects.all(), mom, Kind.MESSAGES).values_list(
        "pk", flat=True)
    # No schedule scope: no booking of anyone.
    s = f.session(world.program)
    f.booking(s, world.participant)
    assert not scope(Booking.objects.all(), mom, Kind.SCHEDULE).exists()


def test_the_family_portal_follows_the_policy_table(world, monkeypatch):
    """With the consent in force, the family notes page opens; take the family row out of
    the table and the same consent no longer opens it (the portal asks the access module)."""
    mom, _ = family_member(world.participant, ["shared_notes"])
    _note(world.participant, "FAMILY-NOTE")
    client = login(mom)
    page = client.get("/portal/family/notes/")
    assert page.status_code == 200 and b"FAMILY-NOTE" in page.content
    monkeypatch.setitem(TABLE[Kind.MESSAGES], Role.FAMILY, {})
    assert client.get("/portal/family/notes/").status_code == 404


@pytest.mark.parametrize("scopes, url, status", [
    (["family_schedule"], "/portal/family/schedule/", 200),
    (["shared_notes"], "/portal/family/schedule/", 404),
    (["family_education"], "/portal/family/education/", 200),
    ([], "/portal/family/education/", 404),
])
def test_family_pages_open_by_consent_scope(world, scopes, url, status):
    mom, _ = family_member(world.participant, scopes)
    assert login(mom).get(url).status_code == status
