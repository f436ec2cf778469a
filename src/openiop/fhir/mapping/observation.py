"""MeasureResponse -> Observation (the instrument's total score).

Modelled as US Core models AUDIT-C (US Core example
https://hl7.org/fhir/us/core/Observation-AUDIT-C-item-example-75626-2.html): category
`survey`, the LOINC code of the total score (44261-6 PHQ-9, 70274-6 GAD-7, 75626-2 AUDIT-C,
from each instrument's data file), UCUM unit `{score}`. Instruments without a verified LOINC
total code (C-SSRS triage) carry the instrument name as text and the triage band.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.observation import Observation

from openiop.intake import instruments
from openiop.outcomes.models import MeasureResponse

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
