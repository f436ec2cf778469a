"""MeasureResponse -> Observation (the instrument's total score).

US Core 6.1 Observation Screening Assessment profile
(https://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-observation-screening-assessment.html):
category `survey`, the LOINC code of the total score from each instrument's data file
(44261-6 PHQ-9, 70274-6 GAD-7, 75626-2 AUDIT-C, 82667-7 DAST-10 per
https://loinc.org/82667-7), UCUM unit `{score}`. The C-SSRS screener is sent as text only
with its triage band: the screen version has no total score to code (its result is a risk
band from the pattern of answers; the data file's `loinc_note` says so).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.observation import Observation

from openiop.intake import instruments
from openiop.intake.models import MeasureResponse

from .common import ref, validated


def observation(m: MeasureResponse) -> dict[str, Any]:
    inst = instruments.get(m.instrument)
    code: dict[str, Any] = {"text": f"{inst.name} total score"}
    if inst.loinc:
        code["coding"] = [{"system": "http://loinc.org", "code": inst.loinc,
                           "display": f"{inst.name} total score"}]
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(m.code),
        "status": m.status,  # the stored codes are FHIR Observation.status codes
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey", "display": "Survey"}]}],
        "code": code,
        "subject": ref("Patient", m.participant.code),
        "effectiveDateTime": m.completed_at.isoformat(),
        "interpretation": [{"text": m.band}],
    }
    if m.total is not None:
        data["valueQuantity"] = {"value": m.total, "unit": "{score}",
                                 "system": "http://unitsofmeasure.org", "code": "{score}"}
    else:
        data["valueString"] = m.band
    return validated(Observation, data)
