"""The chart's Consents tab: Part 2 consents with every element 42 CFR 2.31 requires,
family-access consents with scopes, revoke with confirmation and reason, give again,
print; all audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.participants.models import Consent, RelatedPerson
from tests import factories as f
from tests.conftest import login

NOW = datetime(2026, 4, 6, 15, 0, tzinfo=timezone.get_fixed_timezone(0))
PART2 = {"kind": "part2_disclosure", "disclosing_party": "", "information":
         "Attendance and diagnosis, last 90 days", "recipient": "Dr. Lee, Harbor Clinic",
         "recipient_kind": "person", "purpose_code": "treatment",
         "purpose": "Coordination of care", "signed_by_name": "Jamie Rivera",
         "signer_relationship": "", "signed_on": "2026-04-06", "expires_on": "2026-10-06",
         "expiry_event": ""}


@pytest.fixture(autouse=True)
def _at_now():
    """The clock is at NOW before any fixture signs someone in: a session started at the
    suite's clock (OPENIOP_TEST_NOW) would have ended by NOW when that instant is earlier."""
    with time_machine.travel(NOW, tick=False):
        yield


def _url(world, tail=""):
    return f"/participants/{world.participant.code}/consents/{tail}"


@time_machine.travel(NOW, tick=False)
def test_a_part2_consent_is_recorded_with_every_required_element(world, as_clinician):
    response = as_clinician.post(_url(world, "new/part2/"), PART2)
    assert response.status_code == 302
    consent = Consent.objects.get(participant=world.participant)
    assert consent.kind == "part2_disclosure" and consent.recorded_by == world.clinician
    assert consent.disclosing_party == world.org.name
    assert consent.signed_on == date(2026, 4, 6) and consent.is_active_at(NOW)
    for element in ("Jamie Rivera", "Dr. Lee, Harbor Clinic", "Coordination of care",
                    "Attendance and diagnosis", "until October 6, 2026",
                    "may revoke this consent at any time", "42 CFR part 2"):
        assert element in consent.text, element
    assert (consent.recipient_kind, consent.purpose_code) == ("person", "treatment")
    event = AccessEvent.objects.get(object_type="consent", action="create")
    assert event.participant == world.participant and event.actor == world.clinician


@time_machine.travel(NOW, tick=False)
def test_a_part2_consent_can_name_a_registered_app_and_a_tpo_consent_is_always_tpo(
        world, as_clinician):
    from tests.fhir.conftest import registered_app

    app = registered_app(world.director)
    other_org_app = registered_app(world.outsider, name="Elsewhere app")
    data = PART2 | {"kind": "part2_tpo", "recipient_kind": "app", "recipient": "",
                    "recipient_app": str(app.pk), "purpose_code": "research"}
    assert as_clinician.post(_url(world, "new/part2/"), data).status_code == 302
    consent = Consent.objects.get(participant=world.participant)
    assert consent.recipient_app == app and consent.recipient == app.name
    assert consent.purpose_code == "tpo"
    refused = as_clinician.post(_url(world, "new/part2/"),
                                data | {"recipient_app": str(other_org_app.pk)})
    assert refused.status_code == 400 and Consent.objects.count() == 1


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("change", "field", "message"), [
    ({"recipient": ""}, "recipient", "Name the recipient"),
    ({"recipient_kind": ""}, "recipient_kind", "This field is required"),
    ({"recipient_kind": "app"}, "recipient_app", "registered apps"),
    ({"purpose_code": ""}, "purpose_code", "This field is required"),
    ({"purpose_code": "other", "purpose": ""}, "purpose", "Describe the purpose"),
    ({"information": "   "}, "information", "This field is required"),
    ({"expires_on": ""}, "expires_on", "expiry date or the event"),
    ({"signed_on": "2026-05-01"}, "signed_on", "cannot be in the future"),
])
def test_a_part2_consent_missing_an_element_is_refused_keeping_the_input(
        world, as_clinician, change, field, message):
    response = as_clinician.post(_url(world, "new/part2/"), PART2 | change)
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert f'id="id_{field}"' in page and 'value="Jamie Rivera"' in page
    assert not Consent.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_family_access_then_revoke_with_confirmation_and_give_again(world, as_clinician):
    mom = RelatedPerson.objects.create(participant=world.participant, name="Pat Parent",
                                       relationship="parent")
    as_clinician.post(_url(world, "new/family/"), {
        "related_person": mom.pk, "scopes": ["shared_notes", "family_schedule"],
        "signed_by_name": "Jamie Rivera", "signed_on": "2026-04-06",
        "expiry_event": "discharge from the program"})
    consent = Consent.objects.get(kind="family_access")
    assert consent.recipient == "Pat Parent" and consent.is_active_at(NOW)
    assert consent.scopes == ["shared_notes", "family_schedule"]
    revoke = _url(world, f"{consent.code}/revoke/")
    ask = as_clinician.post(revoke)
    assert ask.status_code == 200 and "Revocation takes effect now" in ask.content.decode()
    refused = as_clinician.post(revoke, {"reason": "by phone", "confirm": ""})
    assert refused.status_code == 400 and 'value="by phone"' in refused.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_at is None
    as_clinician.post(revoke, {"reason": "revoked by the participant by phone",
                               "confirm": "on"})
    consent.refresh_from_db()
    assert consent.revoked_at == NOW and consent.revoked_by == world.clinician
    assert consent.revocation_reason == "revoked by the participant by phone"
    tab = as_clinician.get(_url(world), {"again": str(consent.code)}).content.decode()
    assert "Record again" in tab and f'value="{consent.code}"' in tab
    as_clinician.post(_url(world, "new/family/"), {
        "related_person": mom.pk, "scopes": ["shared_notes"], "signed_by_name": "Jamie Rivera",
        "signed_on": "2026-04-06", "expiry_event": "discharge",
        "replaces": str(consent.code)})
    again = Consent.objects.get(kind="family_access", revoked_at__isnull=True)
    assert again.replaces == consent and again.scopes == ["shared_notes"]
    assert AccessEvent.objects.filter(object_type="consent").count() == 3


def test_the_consent_prints_and_the_print_is_audited(world, as_clinician):
    consent = Consent.objects.create(
        participant=world.participant, kind="part2_tpo", recipient="My health plan",
        purpose="payment", text="I, Jamie Rivera, authorize ...\n\nI understand that I may "
        "revoke ...", signed_by_name="Jamie Rivera", signed_on=date(2026, 1, 2),
        granted_at=timezone.now() - timedelta(days=1))
    page = as_clinician.get(_url(world, f"{consent.code}/print/")).content.decode()
    assert "I, Jamie Rivera, authorize" in page and world.participant.mrn in page
    assert AccessEvent.objects.filter(object_type="consent", action="print").count() == 1


def test_roles_without_admit_see_the_tab_but_not_its_controls(world):
    Consent.objects.create(participant=world.participant, kind="part2_tpo",
                           recipient="My health plan", purpose="payment")
    billing = login(f.staff(world.org, Role.BILLING))
    page = billing.get(_url(world)).content.decode()
    assert "My health plan" in page and "Revoke" not in page and "Record a signed" not in page
    consent = Consent.objects.get()
    assert billing.post(_url(world, f"{consent.code}/revoke/"), {
        "reason": "x", "confirm": "on"}).status_code == 404
    assert billing.post(_url(world, "new/part2/"), PART2).status_code == 404
    assert Consent.objects.get().revoked_at is None


def test_another_organization_gets_404(world, as_outsider):
    consent = Consent.objects.create(participant=world.participant, kind="part2_tpo",
                                     recipient="My health plan", purpose="payment")
    assert as_outsider.get(_url(world)).status_code == 404
    assert as_outsider.get(_url(world, f"{consent.code}/print/")).status_code == 404
