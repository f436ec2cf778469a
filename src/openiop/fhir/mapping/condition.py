"""billing.Diagnosis -> Condition (US Core 6.1 Condition Problems and Health Concerns;
docs/fhir-mapping.md).

- A diagnosis on the chart is the participant's running list, not tied to one visit, so
  category is `problem-list-item` from http://terminology.hl7.org/CodeSystem/condition-category
  (in US Core's "US Core Problem or Health Concern" value set) and the profile is
  us-core-condition-problems-health-concerns.
- code: ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm, the system HL7 Terminology names
  for it) with `version` = the code-set release the code was chosen from.
- clinicalStatus: active or resolved (condition-clinical); verificationStatus confirmed,
  or entered-in-error with no clinicalStatus (R4 invariant con-5: "Condition.clinicalStatus
  SHALL NOT be present if verification Status is entered-in-error").
- onsetDateTime / abatementDateTime are dates; recordedDate is when it was recorded;
  recorder the Practitioner who recorded it.
- Whether it is principal on claims is billing's concern and is not sent.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.condition import Condition

from openiop.billing.models import Diagnosis, DiagnosisStatus

from .common import ref, validated

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORIES = ("problem-list-item", "health-concern", "encounter-diagnosis")
CLINICAL_STATUSES = {DiagnosisStatus.ACTIVE: "active", DiagnosisStatus.RESOLVED: "resolved"}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def condition(dx: Diagnosis) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(dx.code),
        "category": [_concept(CATEGORY, "problem-list-item", "Problem List Item")],
        "code": {"coding": [{"system": ICD10CM, "version": dx.code_set_version,
                             "code": dx.icd_code, "display": dx.description}],
                 "text": dx.description},
        "subject": ref("Patient", dx.participant.code),
        "recordedDate": dx.recorded_at.isoformat(),
        "recorder": ref("Practitioner", dx.recorded_by.code, str(dx.recorded_by)),
    }
    if dx.status == DiagnosisStatus.ENTERED_IN_ERROR:
        data["verificationStatus"] = _concept(VERIFICATION, "entered-in-error",
                                              "Entered in Error")
    else:
        status = CLINICAL_STATUSES[DiagnosisStatus(dx.status)]
        data["clinicalStatus"] = _concept(CLINICAL, status, status.title())
        data["verificationStatus"] = _concept(VERIFICATION, "confirmed", "Confirmed")
    if dx.onset_on:
        data["onsetDateTime"] = dx.onset_on.isoformat()
    if dx.resolved_on and dx.status == DiagnosisStatus.RESOLVED:
        data["abatementDateTime"] = dx.resolved_on.isoformat()
    return validated(Condition, data)
