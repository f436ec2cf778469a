"""Every search pages through everything with a real client (fhirpy's fetch_all against
a live server), and Bundle.total counts every match the user may see."""

from __future__ import annotations

import pytest
from django.test import Client
from fhirpy import SyncFHIRClient

from openiop.accounts.models import User
from openiop.audit.models import AccessEvent
from openiop.billing.models import Coverage, Diagnosis
from openiop.care.models import EpisodeOfCare, Program
from openiop.intake.models import MeasureResponse
from openiop.medications.models import MedicationOrder
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Consent, Participant
from openiop.scheduling.models import Booking

from .conftest import issue_token

CLINICAL = {
    "Patient": (Participant, "organization", ""),
    "EpisodeOfCare": (EpisodeOfCare, "participant__organization", "participant"),
    "Observation": (MeasureResponse, "participant__organization", "participant"),
    "Appointment": (Booking, "participant__organization", "participant"),
    "Encounter": (Booking, "participant__organization", "participant"),
    "MedicationRequest": (MedicationOrder, "participant__organization", "participant"),
    "Consent": (Consent, "participant__organization", "participant"),
    "Condition": (Diagnosis, "participant__organization", "participant"),
    "Coverage": (Coverage, "participant__organization", "participant"),
}


def expected_codes(world, withheld, rtype: str) -> set[str]:
    """What the database holds for the organization, minus the Part 2 records withheld."""
    if rtype in CLINICAL:
        model, org_path, person = CLINICAL[rtype]
        rows = model.objects.filter(**{org_path: world.org}).exclude(
            **{person or "pk": withheld.pk})
        if rtype == "Encounter":
            rows = rows.filter(attendance__status__in=("present", "late", "left_early"))
    else:
        rows = {
            "Practitioner": User.objects.filter(staff_profile__organization=world.org),
            "Organization": Organization.objects.filter(pk=world.org.pk),
            "Location": Site.objects.filter(organization=world.org),
            "HealthcareService": Program.objects.filter(organization=world.org),
        }[rtype]
    return {str(code) for code in rows.values_list("code", flat=True)}


@pytest.fixture
def fhir(transactional_db, world, live_server, hie):
    """The outside app `hie` (a bearer token), to which Part 2 records go only under
    consent."""
    token = issue_token(world.director, hie)
    return SyncFHIRClient(f"{live_server.url}/fhir/R4",
                          extra_headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def staff_fhir(transactional_db, world, live_server):
    """The program's own staff (a signed-in session): nothing is withheld from them."""
    client = Client()
    client.force_login(world.director)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return SyncFHIRClient(f"{live_server.url}/fhir/R4", extra_headers={"Cookie": cookie})


ALL_TYPES = [*CLINICAL, "Practitioner", "Organization", "Location", "HealthcareService"]


def test_fetch_all_pages_through_every_match(fhir, world, populated, subtests):
    # One live server and one populated database for every type (each is its own subtest):
    # a transactional set-up and flush per type cost more than the searches themselves.
    for rtype in ALL_TYPES:
        with subtests.test(rtype=rtype):
            expected = expected_codes(world, populated, rtype)
            assert len(expected) >= 1
            fetched = [r for r in fhir.resources(rtype).limit(7).fetch_all()
                       if r["resourceType"] == rtype]
            ids = [r["id"] for r in fetched]
            assert len(ids) == len(set(ids)), "a record appeared on two pages"
            assert set(ids) == expected
            first = fhir.execute(rtype, method="get", params={"_count": "7"})
            assert first["total"] == len(expected)
            assert ("next" in {link["relation"] for link in first["link"]}) == (
                len(expected) > 7)


def test_part2_records_without_consent_are_neither_returned_nor_counted(fhir, world,
                                                                         populated):
    bundle = fhir.execute("Observation", method="get", params={"_count": "1000"})
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"]
                if e["search"]["mode"] == "match"}
    assert f"Patient/{populated.code}" not in subjects
    assert bundle["total"] == len(subjects) == 24
    assert not [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    denied = AccessEvent.objects.get(action="denied", object_type="fhir.Observation")
    assert "1 record(s) withheld" in denied.reason and denied.recipient.startswith("app #")


def test_the_programs_staff_page_through_everything(staff_fhir, world, populated):
    bundle = staff_fhir.execute("Observation", method="get", params={"_count": "1000"})
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"]}
    assert f"Patient/{populated.code}" in subjects and bundle["total"] == 25
