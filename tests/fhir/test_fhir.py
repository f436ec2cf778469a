"""FHIR R4 read/search: valid resources, organization scoping, audit, 42 CFR Part 2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.patient import Patient

from openiop.audit.models import AccessEvent
from openiop.participants.disclosure import NOTICE_ABBREVIATED, NOTICE_FULL
from tests import factories as f

from .conftest import part2_consent, registered_app


@pytest.fixture
def mh(world):
    """The world's program treats mental health only: not a Part 2 record."""
    world.program.focus = "mh"
    world.program.save()
    return world


@pytest.fixture
def part2_world(world):
    """A participant in a substance-use program (a Part 2 record)."""
    su = f.program(world.org, world.site, name="SU IOP", focus="su")
    p = f.participant(world.org, legal_first_name="Casey", legal_last_name="Moss", mrn="SU-1")
    f.episode(p, su, therapist=world.clinician)
    return p


def test_metadata_is_a_valid_capability_statement(client, db):
    response = client.get("/fhir/R4/metadata")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} >= {"Patient", "EpisodeOfCare"}


def test_patient_read_is_valid_and_audited(mh, world, as_clinician):
    response = as_clinician.get(f"/fhir/R4/Patient/{world.participant.code}")
    assert response.status_code == 200
    resource = Patient.model_validate(response.json())
    assert resource.name[0].family == "Rivera"
    assert resource.identifier[0].value == world.participant.mrn
    assert "X-Redisclosure-Notice" not in response
    event = AccessEvent.objects.get(participant=world.participant, object_type="fhir.Patient")
    assert event.action == "view" and event.actor == world.clinician


def test_another_organization_gets_not_found(world, as_outsider):
    response = as_outsider.get(f"/fhir/R4/Patient/{world.participant.code}")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unauthenticated_gets_401_operation_outcome(world):
    response = Client().get(f"/fhir/R4/Patient/{world.participant.code}")
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


def test_part2_record_without_consent_is_not_found_for_an_app_and_audited(part2_world, as_hie,
                                                                         hie):
    response = as_hie.get(f"/fhir/R4/Patient/{part2_world.code}")
    missing = as_hie.get("/fhir/R4/Patient/00000000-0000-4000-8000-000000000000")
    assert response.status_code == missing.status_code == 404
    assert response.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"]
    assert "Part 2" not in response.content.decode()
    event = AccessEvent.objects.get(participant=part2_world, action="denied")
    assert event.recipient == f"app #{hie.pk}: {hie.name}" and event.purpose == "treatment"


def test_the_programs_own_staff_read_a_part2_record_labelled_with_the_notice(part2_world,
                                                                            as_clinician):
    """Within the program it is not a disclosure (42 CFR 2.12(c)(3)): no consent needed."""
    response = as_clinician.get(f"/fhir/R4/Patient/{part2_world.code}")
    assert response.status_code == 200
    assert "42CFRPart2" in {s["code"] for s in response.json()["meta"]["security"]}
    assert response["X-Redisclosure-Notice"] == NOTICE_FULL
    event = AccessEvent.objects.get(participant=part2_world, object_type="fhir.Patient")
    assert event.action == "view"


def test_part2_record_under_consent_is_labelled_with_notice(part2_world, as_hie, hie, world):
    consent = part2_consent(part2_world, world.clinician, app=hie)
    response = as_hie.get(f"/fhir/R4/Patient/{part2_world.code}")
    assert response.status_code == 200
    codes = {s["code"] for s in response.json()["meta"]["security"]}
    assert {"R", "42CFRPart2", "ETH", "NORDSCLCD"} <= codes
    assert response["X-Redisclosure-Notice"] == NOTICE_FULL
    event = AccessEvent.objects.get(participant=part2_world, action="disclose")
    assert str(consent.code) in event.reason and event.recipient.endswith(hie.name)


def test_the_abbreviated_notice_when_the_program_chose_it(part2_world, as_hie, hie, world):
    world.org.part2_notice = "abbreviated"
    world.org.save()
    part2_consent(part2_world, world.clinician, app=hie)
    response = as_hie.get(f"/fhir/R4/Patient/{part2_world.code}")
    assert response["X-Redisclosure-Notice"] == NOTICE_ABBREVIATED


def test_revoked_or_expired_consent_no_longer_permits(part2_world, as_hie, hie, world):
    now = timezone.now()
    part2_consent(part2_world, app=hie, granted_at=now - timedelta(days=30),
                  revoked_at=now - timedelta(hours=1))
    part2_consent(part2_world, app=hie, granted_at=now - timedelta(days=30),
                  expires_at=now - timedelta(days=1))
    assert as_hie.get(f"/fhir/R4/Patient/{part2_world.code}").status_code == 404


def test_a_consent_to_another_recipient_does_not_permit(part2_world, as_hie, world):
    other = registered_app(world.director, name="Another app")
    part2_consent(part2_world, app=other)
    part2_consent(part2_world)  # a class of recipients that does not name the app
    assert as_hie.get(f"/fhir/R4/Patient/{part2_world.code}").status_code == 404


def test_patient_search_withholds_part2_records_without_consent(part2_world, world, as_hie):
    f.participant(world.org, legal_first_name="Casey", legal_last_name="Open", mrn="MH-9")
    response = as_hie.get("/fhir/R4/Patient?name=Casey")
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    matches = [e for e in bundle.entry if e.search.mode == "match"]
    assert [e.resource.name[0].family for e in matches] == ["Open"]
    assert bundle.total == 1
    assert not any(e.search.mode == "outcome" for e in bundle.entry)  # nothing hints at it


def test_patient_search_by_identifier(mh, world, as_clinician):
    response = as_clinician.get(f"/fhir/R4/Patient?identifier={world.participant.mrn}")
    bundle = Bundle.model_validate(response.json())
    assert bundle.total == 1 and bundle.entry[0].resource.id == str(world.participant.code)


@pytest.mark.parametrize("query, expression", [
    ("_count=-1&name=a", "_count"), ("_count=abc&name=a", "_count"), ("_count=1001&name=a", "_count"),
])
def test_bad_search_parameters_get_400_naming_the_parameter(world, as_clinician, query,
                                                            expression):
    response = as_clinician.get(f"/fhir/R4/Patient?{query}")
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]


def test_unsupported_search_parameter_and_resource(world, as_clinician):
    assert as_clinician.get("/fhir/R4/Patient?deceased=true").status_code == 400
    response = as_clinician.get("/fhir/R4/Claim/123")
    assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"


def test_episode_of_care_read_and_search(mh, world, as_clinician):
    response = as_clinician.get(f"/fhir/R4/EpisodeOfCare/{world.episode.code}")
    assert response.status_code == 200
    episode = EpisodeOfCare.model_validate(response.json())
    assert episode.status == "active"
    assert episode.patient.reference == f"Patient/{world.participant.code}"
    found = as_clinician.get(f"/fhir/R4/EpisodeOfCare?patient=Patient/{world.participant.code}")
    assert Bundle.model_validate(found.json()).total == 1
    bad = as_clinician.get(f"/fhir/R4/EpisodeOfCare?patient={world.participant.code}&status=x")
    assert bad.status_code == 400


def test_organization_location_practitioner_service(world, as_clinician, as_outsider):
    for path in (f"Organization/{world.org.code}", f"Location/{world.site.code}",
                 f"Practitioner/{world.clinician.code}",
                 f"HealthcareService/{world.program.code}"):
        response = as_clinician.get(f"/fhir/R4/{path}")
        assert response.status_code == 200, path
        assert response.json()["id"] == path.split("/")[1]
        assert as_outsider.get(f"/fhir/R4/{path}").status_code == 404, path


def test_observation_of_a_phq9_score_carries_its_loinc_code(mh, world, as_clinician):
    from fhir.resources.R4B.observation import Observation

    from openiop.intake.measures import measure_record

    m = measure_record(actor=world.clinician, participant=world.participant, instrument="phq9",
                       answers=[2, 2, 1, 1, 1, 1, 1, 1, 0], context="intake")
    response = as_clinician.get(f"/fhir/R4/Observation/{m.code}")
    assert response.status_code == 200
    obs = Observation.model_validate(response.json())
    assert obs.code.coding[0].code == "44261-6"
    assert obs.valueQuantity.value == 10
    assert obs.subject.reference == f"Patient/{world.participant.code}"
    series = as_clinician.get(
        f"/fhir/R4/Observation?patient=Patient/{world.participant.code}"
        "&code=http://loinc.org|44261-6")
    assert Bundle.model_validate(series.json()).total == 1
    assert as_clinician.get(
        f"/fhir/R4/Observation?patient={world.participant.code}&code=999-9").status_code == 400


def test_metadata_lists_appointment_medication_request_and_consent(client, db):
    statement = CapabilityStatement.model_validate(client.get("/fhir/R4/metadata").json())
    resources = {r.type: r for r in statement.rest[0].resource}
    expected = {"Appointment": {"patient": "reference", "date": "date"},
                "MedicationRequest": {"patient": "reference", "status": "token"},
                "Consent": {"patient": "reference", "status": "token"}}
    for rtype, params in expected.items():
        entry = resources[rtype]
        versioned = {"vread", "history-instance"} if rtype != "Appointment" else set()
        assert {i.code for i in entry.interaction} == {"read", "search-type"} | versioned
        assert entry.conditionalRead == "full-support" and entry.versioning == "versioned"
        declared = {p.name: p.type for p in entry.searchParam}
        assert params.items() <= declared.items(), rtype
