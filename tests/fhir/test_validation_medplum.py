"""A second, independent validator: Medplum's (`@medplum/core` validateResource, in
Node.js, tools/fhir-validate/) checks every resource the server emits against the base R4
structure definitions, and every resource that names a US Core profile against that
profile's StructureDefinition from HL7's US Core 6.1.0 package (hl7.fhir.us.core#6.1.0,
vendored in tools/fhir-validate/us-core-6.1.0/ with its source in the README there). Its
code shares nothing with the Python libraries (fhir.resources, the JSON schema) the other
tests use. What it does not check (terminology bindings, referenced resources' profiles)
is listed in docs/FHIR.md."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from openiop.billing.models import Coverage, Payer
from openiop.fhir.registry import SPECS
from openiop.participants.models import Participant

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
DATA_ABSENT = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                              "valueCode": "unknown"}]}

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="Node.js is not installed (Medplum's validator runs "
                                       "in Node.js; CI has it)")


def validate(tool: Path, resources: list[dict]) -> list[dict]:
    done = subprocess.run(["node", "validate.mjs"], cwd=tool, input=json.dumps(resources),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_medplum_rejects_what_r4_and_us_core_forbid(medplum):
    """The validator is real: an unknown element, a wrong type, a missing required element,
    a US Core Patient without identifier and name, and a resource naming a US Core profile
    the validator does not have fail; a minimal valid one passes."""
    results = validate(medplum, [
        {"resourceType": "Patient", "sex": "female"},
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
         "valueQuantity": {"value": "five"}},
        {"resourceType": "Observation", "code": {"text": "x"}},
        {"resourceType": "Patient", "meta": {"profile": [US_CORE + "us-core-patient"]},
         "gender": "female"},
        {"resourceType": "Patient", "gender": "female"},
        {"resourceType": "Patient", "meta": {"profile": [US_CORE + "us-core-relatedperson"]},
         "gender": "female"},
    ])
    assert [bool(r["issues"]) for r in results] == [True, True, True, True, False, True]
    assert "us-core-relatedperson is not in us-core-6.1.0/" in results[5]["issues"][0]
    assert results[3]["profile"] == US_CORE + "us-core-patient"
    assert any("identifier" in issue for issue in results[3]["issues"])


def _profiled(name: str, resource: dict) -> dict:
    return {**resource, "meta": {"profile": [US_CORE + name]}}


SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                      "code": "survey"}]}
SCREENING = {"resourceType": "Observation", "status": "final", "category": [SURVEY],
             "code": {"text": "PHQ-9 total"}, "subject": {"reference": "Patient/p1"},
             "valueInteger": 5}
COVERAGE = {"resourceType": "Coverage", "status": "active", "subscriberId": "M1",
            "beneficiary": {"reference": "Patient/p1"},
            "relationship": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                "code": "self"}]},
            "payor": [{"reference": "Organization/o1"}]}
ENCOUNTER = {"resourceType": "Encounter", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                       "code": "AMB"},
             "type": [{"text": "Group therapy"}], "subject": {"reference": "Patient/p1"}}
PATIENT = {"resourceType": "Patient", "identifier": [{"system": "urn:x", "value": "1"}],
           "name": [{"family": "Doe"}], "gender": "female"}


def without(resource: dict, key: str) -> dict:
    return {k: v for k, v in resource.items() if k != key}


@pytest.mark.parametrize(("profile", "resource", "expected"), [
    # us-core-observation-screening-assessment (new in US Core 6.0): Observation.category
    # 1..* with the slice category:survey 1..1
    ("us-core-observation-screening-assessment", without(SCREENING, "category"),
     "Observation.category"),
    ("us-core-observation-screening-assessment",
     {**SCREENING, "category": [{"coding": [{"system": "urn:x", "code": "other"}]}]},
     "slice 'survey'"),
    # us-core-coverage (new in US Core 6.0): Coverage.relationship 1..1, invariant us-core-15
    ("us-core-coverage", without(COVERAGE, "relationship"), "Coverage.relationship"),
    ("us-core-coverage", without(COVERAGE, "subscriberId"), "us-core-15"),
    # us-core-encounter: Encounter.type 1..*
    ("us-core-encounter", without(ENCOUNTER, "type"), "Encounter.type"),
    # us-core-birthsex: Extension.value[x] is a code
    ("us-core-patient", {**PATIENT, "extension": [{"url": US_CORE + "us-core-birthsex",
                                                   "valueString": "F"}]}, "valueString"),
])
def test_medplum_rejects_what_only_us_core_6_1_forbids(medplum, profile, resource, expected):
    """Each resource breaks one US Core 6.1 rule (base R4 allows it) and fails on it; the
    same resource with the rule kept (a survey category, a relationship, a member id or
    its data-absent-reason, a type, a valueCode) passes."""
    fixed = {"us-core-observation-screening-assessment": SCREENING, "us-core-coverage": {
        **without(COVERAGE, "subscriberId"), "_subscriberId": DATA_ABSENT},
        "us-core-encounter": ENCOUNTER, "us-core-patient": {
            **PATIENT, "extension": [{"url": US_CORE + "us-core-birthsex", "valueCode": "F"}]}}
    bad, good, base = validate(medplum, [_profiled(profile, resource),
                                         _profiled(profile, fixed[profile]), resource])
    assert bad["profile"] == good["profile"] == US_CORE + profile
    assert any(expected in issue for issue in bad["issues"]), bad["issues"]
    assert good["issues"] == []
    assert base["profile"] is None and base["issues"] == [], base["issues"]


def test_every_resource_type_passes_medplum(medplum, populated, world, as_director):
    """Every type the server serves passes base R4, and exactly the types the
    CapabilityStatement names a US Core profile for are checked against US Core 6.1.0
    (every resource of those types, each against the profile its meta.profile names),
    with the mappings' other branches present: a self-pay coverage, every instrument's
    score, a partial one, a diagnosis entered in error, an outside prescription."""
    Participant.objects.filter(pk=world.participant.pk).update(
        sex_at_birth="ASKU", gender_identity="33791000087105", administrative_sex="other")
    # a self-pay coverage has no member id (US Core 6.1 us-core-15: subscriberId's
    # data-absent-reason stands in)
    self_pay = Payer.objects.create(organization=world.org, name="Self-pay", kind="self_pay",
                                    rule_set="per_diem", per_diem_code="S9480")
    Coverage.objects.create(participant=world.participant, payer=self_pay, member_id="",
                            relationship="18", order=2, effective_on=date(2026, 1, 5))
    # the other branches of the mappings: every instrument's score (a partial one without
    # a total), a diagnosis entered in error, an outside prescription, stopped
    from openiop.billing.models import Diagnosis
    from openiop.intake.models import MeasureResponse
    from openiop.medications.models import MedicationOrder

    when = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
    for instrument in ("phq9", "gad7", "auditc", "dast10", "cssrs"):
        MeasureResponse.objects.create(participant=world.participant, instrument=instrument,
                                       answers={"q1": 1}, total=1, band="low",
                                       completed_at=when)
    MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                   answers={"q9": 2}, total=None, band="partial",
                                   status="preliminary", completed_at=when)
    Diagnosis.objects.create(participant=world.participant, icd_code="F41.1", billable=True,
                             description="Generalized anxiety disorder",
                             code_set_version="ICD-10-CM FY2026", recorded_by=world.clinician,
                             status="entered-in-error")
    MedicationOrder.objects.create(
        participant=world.participant, name="Bupropion", dose=Decimal("150"), unit="mg",
        route="oral", frequency="daily", start_date=date(2026, 1, 5),
        stop_date=date(2026, 1, 20), status="stopped", source="outside",
        outside_prescriber="Dr. Rivera")
    resources = []
    for rtype in SPECS:
        bundle = as_director.get(f"/fhir/R4/{rtype}?_count=1000").json()
        found = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
        assert found, rtype
        resources += found
        resources.append(bundle)
    metadata = as_director.get("/fhir/R4/metadata").json()
    resources.append(metadata)
    history = as_director.get(f"/fhir/R4/Patient/{world.participant.code}/_history").json()
    resources.append(history)
    resources += [e["resource"] for e in history["entry"] if "resource" in e]
    served = {(r["resourceType"], k) for r in resources for k in r}
    assert {("Coverage", "_subscriberId"), ("MedicationRequest", "reportedBoolean"),
            ("Observation", "valueString")} <= served
    assert any(r.get("verificationStatus", {}).get("coding", [{}])[0].get("code")
               == "entered-in-error" for r in resources if r["resourceType"] == "Condition")
    results = validate(medplum, resources)
    failures = [(r["resourceType"], r["id"], r["issues"][:3]) for r in results if r["issues"]]
    assert not failures, failures[:5]
    assert set(SPECS) <= {r["resourceType"] for r in results}
    claimed = {r["type"]: r["supportedProfile"] for r in metadata["rest"][0]["resource"]
               if any(p.startswith(US_CORE) for p in r.get("supportedProfile", []))}
    checked = {r["resourceType"] for r in results if r["profile"]}
    # against US Core 6.1.0, not only base R4: exactly what the CapabilityStatement says
    assert checked == set(claimed)
    assert {"Coverage", "Observation", "Encounter"} <= checked
    for resource, result in zip(resources, results, strict=True):
        if resource["resourceType"] in claimed:
            assert [result["profile"]] == resource["meta"]["profile"] == claimed[
                resource["resourceType"]], resource["id"]
