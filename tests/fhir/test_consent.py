"""FHIR Consent (participants.Consent): mapping, active/inactive, search, organization
scoping, audit, Part 2 labels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent

from openiop.audit.models import AccessEvent
from openiop.participants.models import Consent, DisclosurePurpose
from tests import factories as f

from .conftest import part2_consent


def read(client, c):
    return client.get(f"/fhir/R4/Consent/{c.code}")


def search(client, participant, query=""):
    return client.get(f"/fhir/R4/Consent?patient=Patient/{participant.code}{query}")


def ids(response) -> list[str]:
    bundle = Bundle.model_validate(response.json())
    return [e.resource.id for e in bundle.entry or [] if e.search.mode == "match"]


def test_part2_tpo_consent_maps_scope_category_policy_and_purpose(mh, world, as_clinician):
    c = part2_consent(world.participant, world.clinician, text="Synthetic consent wording")
    response = read(as_clinician, c)
    assert response.status_code == 200
    resource = FhirConsent.model_validate(response.json())
    assert resource.status == "active"
    assert (resource.scope.coding[0].system, resource.scope.coding[0].code) == (
        "http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")
    assert (resource.category[0].coding[0].system, resource.category[0].coding[0].code) == (
        "http://loinc.org", "59284-0")
    assert resource.patient.reference == f"Patient/{world.participant.code}"
    assert resource.policyRule.coding[0].code == "42CFRPart2"
    assert {p.code for p in resource.provision.purpose} == {"TREAT", "HPAYMT", "HOPERAT"}
    assert resource.provision.type == "permit"
    assert resource.provision.period.start is not None and resource.provision.period.end is None
    assert resource.provision.actor[0].reference.display == "Riverbend and payers"
    assert resource.dateTime is not None
    assert "Synthetic consent wording" not in response.content.decode()


def test_revoked_and_expired_consents_are_inactive_until_then(mh, world, as_clinician):
    now = timezone.now()
    revoked = part2_consent(world.participant, granted_at=now - timedelta(days=30),
                            expires_at=now + timedelta(days=300),
                            revoked_at=now - timedelta(hours=1))
    expired = part2_consent(world.participant, granted_at=now - timedelta(days=30),
                            expires_at=now - timedelta(days=1))
    for c, end in ((revoked, revoked.revoked_at), (expired, expired.expires_at)):
        resource = FhirConsent.model_validate(read(as_clinician, c).json())
        assert resource.status == "inactive"
        assert resource.provision.period.end == end


def test_family_access_consent_carries_its_kind(mh, world, as_clinician):
    c = Consent.objects.create(participant=world.participant, kind=Consent.Kind.FAMILY_ACCESS,
                               scopes=["family_schedule"])
    resource = FhirConsent.model_validate(read(as_clinician, c).json())
    assert resource.policyRule.text == "Family member portal access"
    assert resource.category[0].text == "Family member portal access"
    assert resource.policy is None and resource.provision.purpose is None


def test_search_by_patient_and_status(mh, world, as_clinician):
    now = timezone.now()
    active = part2_consent(world.participant, granted_at=now - timedelta(days=2))
    old = part2_consent(world.participant, granted_at=now - timedelta(days=40),
                        revoked_at=now - timedelta(days=3))
    future = part2_consent(world.participant, granted_at=now + timedelta(days=2))
    f.participant(world.org)  # someone else's consents never appear
    assert ids(search(as_clinician, world.participant)) == [
        str(future.code), str(active.code), str(old.code)]
    assert ids(search(as_clinician, world.participant, "&status=active")) == [str(active.code)]
    assert ids(search(as_clinician, world.participant, "&status=inactive")) == [
        str(future.code), str(old.code)]
    assert FhirConsent.model_validate(read(as_clinician, future).json()).status == "inactive"


def test_read_and_search_are_audited_once_each(mh, world, as_clinician):
    c = part2_consent(world.participant)
    read(as_clinician, c)
    search(as_clinician, world.participant)
    events = AccessEvent.objects.filter(object_type="fhir.Consent")
    assert [(e.action, e.participant) for e in events] == [("view", world.participant)] * 2


def test_part2_participant_consent_is_labelled(world, as_hie, hie):
    """A Part 2 participant's consent record is itself a Part 2 record."""
    now = timezone.now()
    revoked = part2_consent(world.participant, granted_at=now - timedelta(days=9),
                            revoked_at=now - timedelta(days=1))
    assert read(as_hie, revoked).status_code == 404
    part2_consent(world.participant, world.clinician, app=hie)
    response = read(as_hie, revoked)
    assert response.status_code == 200 and "X-Redisclosure-Notice" in response
    assert {"42CFRPart2", "ETH"} <= {s["code"] for s in response.json()["meta"]["security"]}
    assert len(ids(search(as_hie, world.participant))) == 2


def test_another_organization_gets_not_found(mh, world, as_outsider):
    c = part2_consent(world.participant)
    assert read(as_outsider, c).status_code == 404
    assert search(as_outsider, world.participant).status_code == 404


@pytest.mark.parametrize("path, status", [
    ("Consent/abc", 404), ("Consent?_sort=date", 400), ("Consent?patient=Patient/", 400),
    ("Consent?patient={p}&status=revoked", 400), ("Consent?patient={p}&category=x", 400),
    ("Consent?patient={p}&_count=1001", 400),
])
def test_bad_input_gets_operation_outcomes(mh, world, as_clinician, path, status):
    response = as_clinician.get("/fhir/R4/" + path.format(p=world.participant.code))
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


def test_search_query_count_does_not_grow_with_consents(mh, world, as_clinician):
    part2_consent(world.participant)
    with CaptureQueriesContext(connection) as one:
        assert len(ids(search(as_clinician, world.participant))) == 1
    for kind in ("family_access", "family_involvement", "release", "part2_disclosure"):
        Consent.objects.create(participant=world.participant, kind=kind, recipient="Synthetic")
    with CaptureQueriesContext(connection) as five:
        response = search(as_clinician, world.participant)
    assert len(ids(response)) == 5
    for entry in response.json()["entry"]:
        FhirConsent.model_validate(entry["resource"])
    assert len(five) == len(one)


def _disclosure_consent(world, **kw) -> Consent:
    """A Part 2 consent to a named recipient (synthetic)."""
    return Consent.objects.create(participant=world.participant,
                                  kind=Consent.Kind.PART2_DISCLOSURE,
                                  **({"recipient": "Synthetic Clinic",
                                      "recipient_kind": "organization"} | kw))


@pytest.mark.parametrize(("kind", "fhir_type"), [
    ("person", "Practitioner"), ("organization", "Organization"), ("app", "Device"),
    ("class", "Group"),
])
def test_the_recipient_is_the_provision_actor_with_its_kind(mh, world, as_clinician, kind,
                                                            fhir_type):
    c = _disclosure_consent(world, recipient="Synthetic Recipient", recipient_kind=kind,
                            purpose_code=DisclosurePurpose.TREATMENT)
    actor = FhirConsent.model_validate(read(as_clinician, c).json()).provision.actor
    assert len(actor) == 1
    assert (actor[0].role.coding[0].system, actor[0].role.coding[0].code) == (
        "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")
    assert (actor[0].reference.type, actor[0].reference.display) == (
        fhir_type, "Synthetic Recipient")


@pytest.mark.parametrize(("purpose", "codes"), [
    (DisclosurePurpose.TREATMENT, {"TREAT"}),
    (DisclosurePurpose.PAYMENT, {"HPAYMT"}),
    (DisclosurePurpose.OPERATIONS, {"HOPERAT"}),
    (DisclosurePurpose.TPO, {"TREAT", "HPAYMT", "HOPERAT"}),
    (DisclosurePurpose.RESEARCH, {"HRESCH"}),
    (DisclosurePurpose.PATIENT_REQUEST, {"PATRQT"}),
])
def test_the_coded_purpose_is_the_provision_purpose(mh, world, as_clinician, purpose, codes):
    c = _disclosure_consent(world, purpose_code=purpose)
    resource = FhirConsent.model_validate(read(as_clinician, c).json())
    assert {p.system for p in resource.provision.purpose} == {
        "http://terminology.hl7.org/CodeSystem/v3-ActReason"}
    assert {p.code for p in resource.provision.purpose} == codes


def test_a_purpose_in_words_only_sends_no_purpose_code(mh, world, as_clinician):
    c = _disclosure_consent(world, purpose_code=DisclosurePurpose.OTHER,
                            purpose="Synthetic court matter")
    response = read(as_clinician, c)
    assert FhirConsent.model_validate(response.json()).provision.purpose is None
    assert "Synthetic court matter" not in response.content.decode()


def test_a_family_access_consent_names_the_related_person(mh, world, as_clinician):
    from openiop.participants.models import RelatedPerson

    person = RelatedPerson.objects.create(participant=world.participant, name="Pat Parent",
                                          relationship="parent")
    c = Consent.objects.create(participant=world.participant, kind=Consent.Kind.FAMILY_ACCESS,
                               related_person=person, scopes=["family_schedule"])
    actor = FhirConsent.model_validate(read(as_clinician, c).json()).provision.actor
    assert (actor[0].reference.type, actor[0].reference.display) == ("RelatedPerson",
                                                                     "Pat Parent")
