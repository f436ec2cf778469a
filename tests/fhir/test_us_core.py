"""US Core 6.1 content the profiles ask for: a Patient's administrative sex, sex assigned
at birth and gender identity (with the "asked but declined" answers), and the LOINC codes
of screening scores (DAST-10 coded; the C-SSRS screen as text only, having no total-score
code)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.intake.models import MeasureResponse
from openiop.participants.models import Participant

from .test_validation import assert_valid

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def extensions(resource: dict) -> dict[str, dict]:
    return {e["url"].removeprefix(US_CORE): e for e in resource.get("extension", [])}


@pytest.mark.parametrize(("sex", "birth", "identity", "expected_identity"), [
    ("female", "F", "446141000124107", ("http://snomed.info/sct", "446141000124107")),
    ("unknown", "ASKU", "ASKU",
     ("http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "ASKU")),
])
def test_patient_carries_sex_birth_sex_and_gender_identity(mh, world, as_clinician, sex, birth,
                                                           identity, expected_identity):
    Participant.objects.filter(pk=world.participant.pk).update(
        administrative_sex=sex, sex_at_birth=birth, gender_identity=identity)
    patient = as_clinician.get(f"/fhir/R4/Patient/{world.participant.code}").json()
    assert_valid(patient)
    assert patient["meta"]["profile"] == [US_CORE + "us-core-patient"]
    assert patient["gender"] == sex
    found = extensions(patient)
    assert found["us-core-birthsex"]["valueCode"] == birth
    coding = found["us-core-genderIdentity"]["valueCodeableConcept"]["coding"][0]
    assert (coding["system"], coding["code"]) == expected_identity


def test_patient_without_answers_has_unknown_gender_and_no_extensions(mh, world, as_clinician):
    Participant.objects.filter(pk=world.participant.pk).update(
        administrative_sex="unknown", sex_at_birth="", gender_identity="")
    patient = as_clinician.get(f"/fhir/R4/Patient/{world.participant.code}").json()
    assert patient["gender"] == "unknown" and "extension" not in patient


@pytest.mark.parametrize(("instrument", "loinc"), [
    ("phq9", "44261-6"), ("gad7", "70274-6"), ("auditc", "75626-2"), ("dast10", "82667-7"),
    ("cssrs", None)])
def test_screening_scores_carry_their_loinc_code_or_text_only(mh, world, as_clinician,
                                                              instrument, loinc):
    score = MeasureResponse.objects.create(
        participant=world.participant, instrument=instrument, answers={"q1": 1}, total=2,
        band="low", completed_at=timezone.now())
    observation = as_clinician.get(f"/fhir/R4/Observation/{score.code}").json()
    assert_valid(observation)
    assert observation["meta"]["profile"] == [
        US_CORE + "us-core-observation-screening-assessment"]
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    if loinc:
        assert observation["code"]["coding"] == [
            {"system": "http://loinc.org", "code": loinc,
             "display": observation["code"]["text"]}]
    else:  # the C-SSRS screen has no total-score code: text only
        assert "coding" not in observation["code"] and observation["code"]["text"]


def test_the_capability_statement_says_which_profiles_are_validated(db, client):
    """The profiles are declared (US Core canonical URLs, no version) with a statement of
    what is validated: base R4, and US Core 6.1.0 for every type with a supportedProfile
    (test_validation_medplum checks exactly those types against the 6.1.0 package), and
    what is not (terminology bindings)."""
    statement = client.get("/fhir/R4/metadata").json()
    rest = statement["rest"][0]
    note = rest["documentation"]
    assert "mapped to US Core 6.1.0" in note
    assert ("every resource type with a supportedProfile against that profile's "
            "StructureDefinition in the US Core 6.1.0 package (hl7.fhir.us.core#6.1.0)") in note
    assert "Not checked: terminology bindings" in note
    assert "5.0.1" not in note
    profiles = {p for r in rest["resource"] for p in r.get("supportedProfile", [])}
    assert US_CORE + "us-core-patient" in profiles
    assert all(p.startswith(US_CORE) and "|" not in p for p in profiles)
