"""One permission decision for every channel: for every role and every resource type, a
FHIR read and search succeed exactly when the staff page showing the same records does.

The pages are requested for real (their own decorators and selectors decide); the FHIR
side must agree. Part 2 consent is present here so that only role and organization
decide; the Part 2 gate has its own tests.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.billing.models import Coverage, Diagnosis, Payer
from openiop.intake.models import MeasureResponse
from openiop.medications.models import MedicationOrder
from tests import factories as f
from tests.conftest import login

from .conftest import part2_consent

# resource type -> (URL name of the page showing the same records, takes the participant)
PAGES = {
    "Patient": ("participants:chart", True),
    "EpisodeOfCare": ("care:participant_care", True),
    "Observation": ("outcomes:participant_measures", True),
    "Appointment": ("scheduling:participant_schedule", True),
    "Encounter": ("scheduling:participant_schedule", True),
    "MedicationRequest": ("medications:participant_medications", True),
    "Consent": ("clinical:participant_notes", True),
    "Condition": ("billing:participant_diagnoses", True),
    "Coverage": ("billing:participant_billing", True),
    "Practitioner": ("care:programs", False),
    "Organization": ("care:programs", False),
    "Location": ("care:programs", False),
    "HealthcareService": ("care:programs", False),
}


@pytest.fixture
def records(world):
    """One record of every type about (or around) the world's participant."""
    p = world.participant
    consent = part2_consent(p, world.clinician)
    booking = f.booking(f.session(world.program), p)
    f.attendance(booking, "present")
    score = MeasureResponse.objects.create(participant=p, instrument="phq9", answers={"q1": 1},
                                           total=5, band="mild", completed_at=timezone.now())
    order = MedicationOrder.objects.create(
        participant=p, name="Sertraline", catalog_key="sertraline", dose=Decimal("50"),
        unit="mg", route="oral", frequency="daily", prescriber=world.clinician,
        start_date=timezone.localdate() - timedelta(days=3))
    payer = Payer.objects.create(organization=world.org, name="Acme Health", kind="commercial",
                                 rule_set="per_diem", per_diem_code="S9480")
    coverage = Coverage.objects.create(participant=p, payer=payer, member_id="M1",
                                       effective_on=timezone.localdate() - timedelta(days=30))
    diagnosis = Diagnosis.objects.create(participant=p, icd_code="F33.1", description="MDD",
                                         code_set_version="ICD-10-CM FY2026", billable=True,
                                         recorded_by=world.clinician)
    return {"Patient": p, "EpisodeOfCare": world.episode, "Observation": score,
            "Appointment": booking, "Encounter": booking, "MedicationRequest": order, "Consent": consent,
            "Condition": diagnosis, "Coverage": coverage,
            "Practitioner": world.clinician, "Organization": world.org,
            "Location": world.site, "HealthcareService": world.program}


def page_status(client, world, rtype: str) -> int:
    name, per_participant = PAGES[rtype]
    args = [world.participant.code] if per_participant else []
    return client.get(reverse(name, args=args)).status_code


def search_query(world, rtype: str) -> str:
    if rtype == "Patient":
        return f"?_id={world.participant.code}"
    return f"?patient={world.participant.code}" if PAGES[rtype][1] else ""


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_fhir_access_matches_page_access_for_every_type(world, records, role):
    if role in (Role.PARTICIPANT, Role.FAMILY):
        from openiop.accounts.models import User

        user = User.objects.create(username=f"u-{role}", role=role)
    else:
        user = f.staff(world.org, role)
    client = login(user)
    allowed_somewhere = False
    for rtype, obj in records.items():
        page = page_status(client, world, rtype)
        read = client.get(f"/fhir/R4/{rtype}/{obj.code}")
        found = client.get(f"/fhir/R4/{rtype}{search_query(world, rtype)}")
        assert page in (200, 404, 302), (rtype, page)
        if page == 200:
            allowed_somewhere = True
            assert read.status_code == 200, (role, rtype, read.content)
            ids = [e["resource"]["id"] for e in found.json().get("entry", [])]
            assert found.status_code == 200 and str(obj.code) in ids, (role, rtype)
        else:
            assert read.status_code in (403, 404), (role, rtype, read.status_code)
            assert read.json()["resourceType"] == "OperationOutcome"
            # A search is a list: refused outright (no such page for the role), or, where
            # the role reaches such records but not this participant's (a Part 2 record
            # outside the care team, openiop.access), answered without them.
            ids = [e["resource"].get("id") for e in found.json().get("entry", [])]
            assert found.status_code in (403, 404) or (
                found.status_code == 200 and str(obj.code) not in ids), (role, rtype)
    assert allowed_somewhere == (role not in (Role.PARTICIPANT, Role.FAMILY))


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING, Role.INTAKE])
def test_roles_without_clinical_pages_cannot_reach_scores_through_includes(world, records,
                                                                           role):
    client = login(f.staff(world.org, role))
    response = client.get(f"/fhir/R4/Patient?_id={world.participant.code}"
                          "&_revinclude=Observation:patient")
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"


def test_another_organization_reads_nothing_of_any_type(world, records, as_outsider):
    for rtype, obj in records.items():
        assert as_outsider.get(f"/fhir/R4/{rtype}/{obj.code}").status_code == 404, rtype
        found = as_outsider.get(f"/fhir/R4/{rtype}{search_query(world, rtype)}")
        assert found.status_code == 404 or str(obj.code) not in {
            e["resource"]["id"] for e in found.json().get("entry", [])}, rtype
