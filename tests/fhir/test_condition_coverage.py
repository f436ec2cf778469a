"""FHIR Condition (chart diagnoses) and Coverage (a participant's plans): mapping to US Core
6.1, search, who may read them, the Part 2 gate, audit, versions and bulk export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.coverage import Coverage as FhirCoverage

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.billing import services
from openiop.billing.models import Coverage, Diagnosis, Payer
from openiop.fhir.mapping.condition import ICD10CM
from tests import factories as f
from tests.conftest import login

from .conftest import part2_consent
from .test_validation import assert_valid

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def diagnosis(world, code="F33.1", **kw):
    defaults = {"description": "Major depressive disorder, recurrent, moderate",
                "code_set_version": "ICD-10-CM FY2026 (April 1, 2026 update)",
                "billable": True, "recorded_by": world.clinician}
    return Diagnosis.objects.create(participant=world.participant, icd_code=code,
                                    **(defaults | kw))


def payer(world, **kw):
    defaults = {"name": "Acme Health", "kind": "commercial", "payer_id": "60054",
                "rule_set": "per_diem", "per_diem_code": "S9480"}
    return Payer.objects.create(organization=world.org, **(defaults | kw))


def coverage(world, **kw):
    defaults = {"payer": kw.pop("payer", None) or payer(world), "member_id": "1EG4TE5MK73",
                "group_number": "GRP-77",
                "effective_on": timezone.localdate() - timedelta(days=60)}
    return Coverage.objects.create(participant=world.participant, **(defaults | kw))


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["resource"]["id"] for e in response.json().get("entry", [])
            if e["search"]["mode"] == "match"]


@pytest.fixture
def billing(world):
    return login(f.staff(world.org, Role.BILLING, username="biller"))


def test_a_diagnosis_is_a_us_core_problem_list_condition_coded_in_icd10cm(mh, world,
                                                                          as_clinician):
    dx = diagnosis(world, onset_on=timezone.localdate() - timedelta(days=20))
    response = as_clinician.get(f"/fhir/R4/Condition/{dx.code}")
    assert response.status_code == 200
    data = response.json()
    assert_valid(data)
    assert data["meta"]["profile"] == [US_CORE + "us-core-condition-problems-health-concerns"]
    resource = Condition.model_validate(data)
    coding = resource.code.coding[0]
    assert (coding.system, coding.code, coding.version) == (
        ICD10CM, "F33.1", "ICD-10-CM FY2026 (April 1, 2026 update)")
    assert resource.clinicalStatus.coding[0].code == "active"
    assert resource.verificationStatus.coding[0].code == "confirmed"
    assert resource.category[0].coding[0].code == "problem-list-item"
    assert resource.subject.reference == f"Patient/{world.participant.code}"
    assert resource.recorder.reference == f"Practitioner/{world.clinician.code}"
    assert str(resource.onsetDateTime) == str(dx.onset_on)
    assert resource.abatementDateTime is None


def test_resolution_and_entered_in_error_follow_the_r4_invariants(mh, world, as_clinician):
    today = timezone.localdate()
    dx = diagnosis(world, onset_on=today - timedelta(days=30))
    wrong = diagnosis(world, code="F41.1", description="Generalized anxiety disorder")
    before = as_clinician.get(f"/fhir/R4/Condition/{dx.code}").json()["meta"]["versionId"]
    services.diagnosis_resolve(actor=world.clinician, diagnosis=dx, version=dx.version,
                               resolved_on=today - timedelta(days=1))
    services.diagnosis_resolve(actor=world.clinician, diagnosis=wrong, version=wrong.version,
                               resolved_on=None, entered_in_error=True)
    resolved = as_clinician.get(f"/fhir/R4/Condition/{dx.code}").json()
    assert_valid(resolved)
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert resolved["abatementDateTime"] == str(today - timedelta(days=1))
    assert resolved["meta"]["versionId"] != before  # the change is a new version
    error = as_clinician.get(f"/fhir/R4/Condition/{wrong.code}").json()
    assert_valid(error)
    assert "clinicalStatus" not in error  # con-5
    assert error["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_condition_search_by_patient_clinical_status_category_and_code(mh, world, as_clinician):
    active = diagnosis(world)
    resolved = diagnosis(world, code="F41.1", description="Generalized anxiety disorder",
                         status="resolved", resolved_on=timezone.localdate())
    other = f.participant(world.org)
    Diagnosis.objects.create(participant=other, icd_code="F33.1", description="x",
                             code_set_version="x", billable=True, recorded_by=world.clinician)
    base = f"/fhir/R4/Condition?patient=Patient/{world.participant.code}"
    assert set(ids(as_clinician.get(base))) == {str(active.code), str(resolved.code)}
    assert ids(as_clinician.get(base + "&clinical-status=active")) == [str(active.code)]
    assert ids(as_clinician.get(
        base + "&clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|"
               "resolved")) == [str(resolved.code)]
    assert len(ids(as_clinician.get(base + "&category=problem-list-item"))) == 2
    assert ids(as_clinician.get(base + "&category=encounter-diagnosis")) == []
    assert ids(as_clinician.get(base + f"&code={ICD10CM}|F41.1")) == [str(resolved.code)]
    assert ids(as_clinician.get(base + "&code=F331")) == [str(active.code)]  # without the dot
    assert ids(as_clinician.get(base + "&code=http://snomed.info/sct|F33.1")) == []
    bad = as_clinician.get(base + "&clinical-status=maybe")
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_coverage_maps_member_id_group_payer_subscriber_period_and_order(mh, world, billing):
    cov = coverage(world, relationship="01", subscriber_first_name="Jordan",
                   subscriber_last_name="Rivera", order=2,
                   ends_on=timezone.localdate() + timedelta(days=30))
    response = billing.get(f"/fhir/R4/Coverage/{cov.code}")
    assert response.status_code == 200
    data = response.json()
    assert_valid(data)
    assert data["meta"]["profile"] == [US_CORE + "us-core-coverage"]
    resource = FhirCoverage.model_validate(data)
    assert resource.status == "active" and resource.order == 2
    assert resource.beneficiary.reference == f"Patient/{world.participant.code}"
    assert resource.subscriber.display == "Jordan Rivera" and resource.subscriber.reference is None
    assert resource.relationship.coding[0].code == "spouse"
    member = resource.identifier[0]
    assert (member.type.coding[0].code, member.value) == ("MB", "1EG4TE5MK73")
    assert resource.subscriberId == "1EG4TE5MK73"
    assert (resource.class_fhir[0].type.coding[0].code, resource.class_fhir[0].value) == (
        "group", "GRP-77")
    assert resource.payor[0].reference == "#payer"
    assert data["contained"][0]["name"] == "Acme Health"
    assert resource.type.coding[0].code == "5"  # private health insurance
    assert (str(resource.period.start), str(resource.period.end)) == (
        str(cov.effective_on), str(cov.ends_on))


def test_coverage_search_by_patient_and_status(mh, world, billing):
    today = timezone.localdate()
    current = coverage(world, relationship="18")
    ended = coverage(world, payer=payer(world, name="Old plan"), order=2,
                     effective_on=today - timedelta(days=400), ends_on=today - timedelta(days=1))
    base = f"/fhir/R4/Coverage?patient=Patient/{world.participant.code}"
    assert ids(billing.get(base)) == [str(current.code), str(ended.code)]  # in order
    assert ids(billing.get(base + "&status=active")) == [str(current.code)]
    assert ids(billing.get(base + "&status=cancelled")) == [str(ended.code)]
    self_sub = billing.get(f"/fhir/R4/Coverage/{current.code}").json()
    assert self_sub["subscriber"]["reference"] == f"Patient/{world.participant.code}"
    assert billing.get(base + "&status=lapsed").status_code == 400


@pytest.mark.parametrize(("role", "condition", "coverage_"), [
    (Role.CLINICIAN, 200, 403), (Role.BILLING, 200, 200), (Role.DIRECTOR, 200, 200),
    (Role.FRONT_DESK, 403, 403), (Role.INTAKE, 403, 403)])
def test_who_reads_diagnoses_and_coverage(mh, world, role, condition, coverage_):
    dx, cov = diagnosis(world), coverage(world)
    client = login(f.staff(world.org, role, username=f"u-{role}"))
    assert client.get(f"/fhir/R4/Condition/{dx.code}").status_code == condition
    assert client.get(f"/fhir/R4/Coverage/{cov.code}").status_code == coverage_


def test_another_organization_reads_neither(mh, world, as_outsider):
    dx, cov = diagnosis(world), coverage(world)
    assert as_outsider.get(f"/fhir/R4/Condition/{dx.code}").status_code == 404
    assert as_outsider.get(f"/fhir/R4/Coverage/{cov.code}").status_code == 404


def test_a_substance_use_diagnosis_is_withheld_from_an_app_without_a_part2_consent(
        mh, world, as_clinician, as_hie, hie):
    """In a Part 2 program an F10-F19 diagnosis is a substance-use record on its own: the
    program's staff read it; an outside app only under a consent naming it, and until then
    it answers as if there were no such record (42 CFR 2.13)."""
    assert world.org.is_part2_program
    mdd, oud = diagnosis(world), diagnosis(world, code="F11.20",
                                           description="Opioid dependence, uncomplicated")
    assert as_clinician.get(f"/fhir/R4/Condition/{oud.code}").status_code == 200
    assert as_hie.get(f"/fhir/R4/Condition/{oud.code}").status_code == 404
    found = as_hie.get(f"/fhir/R4/Condition?patient=Patient/{world.participant.code}")
    assert ids(found) == [str(mdd.code)]
    assert AccessEvent.objects.filter(action="denied", object_type="fhir.Condition").exists()
    part2_consent(world.participant, world.clinician, app=hie)
    labelled = as_hie.get(f"/fhir/R4/Condition/{oud.code}")
    assert labelled.status_code == 200
    assert "42CFRPart2" in {s["code"] for s in labelled.json()["meta"]["security"]}


def test_reads_are_audited_per_participant(mh, world, billing):
    cov = coverage(world)
    billing.get(f"/fhir/R4/Coverage/{cov.code}")
    assert AccessEvent.objects.filter(action="view", object_type="fhir.Coverage",
                                      participant=world.participant).count() == 1


def test_capability_statement_lists_both_with_their_parameters_and_profiles(client):
    resources = {r["type"]: r for r in
                 client.get("/fhir/R4/metadata").json()["rest"][0]["resource"]}
    condition = resources["Condition"]
    assert {"patient", "clinical-status", "category", "code"} <= {
        p["name"] for p in condition["searchParam"]}
    assert condition["supportedProfile"] == [US_CORE + "us-core-condition-problems-health-concerns"]
    assert {"patient", "status"} <= {p["name"] for p in resources["Coverage"]["searchParam"]}
    assert resources["Coverage"]["supportedProfile"] == [US_CORE + "us-core-coverage"]
    assert "Condition:patient" in resources["Patient"]["searchRevInclude"]
    for rtype in ("Condition", "Coverage"):
        assert {"read", "vread", "history-instance"} <= {
            i["code"] for i in resources[rtype]["interaction"]}
        assert resources[rtype]["readHistory"] is True


def test_a_category_every_row_has_matches_every_row(mh, world, as_clinician):
    """`category=survey` on Observation and `category=problem-list-item` on Condition match
    all rows, alone or OR-ed with a category that matches none."""
    from openiop.intake.models import MeasureResponse

    score = MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                           answers={"q1": 1}, total=5, band="mild",
                                           completed_at=timezone.now())
    dx = diagnosis(world)
    patient = f"patient=Patient/{world.participant.code}"
    assert ids(as_clinician.get(f"/fhir/R4/Observation?{patient}&category=survey")) == [
        str(score.code)]
    assert ids(as_clinician.get(
        f"/fhir/R4/Condition?{patient}&category=encounter-diagnosis,problem-list-item")) == [
        str(dx.code)]
