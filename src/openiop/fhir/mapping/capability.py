"""The server's CapabilityStatement (GET /fhir/R4/metadata)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from openiop import __version__

from .common import validated

READ_SEARCH = {
    "Patient": ["identifier", "name", "_count"],
    "EpisodeOfCare": ["patient", "status"],
    "Observation": ["patient", "code"],
    "Appointment": ["patient", "date", "_count"],
    "MedicationRequest": ["patient", "status", "_count"],
    "Consent": ["patient", "status", "_count"],
    "Practitioner": [],
    "Organization": [],
    "Location": [],
    "HealthcareService": [],
}


def capability_statement(base_url: str) -> dict[str, Any]:
    resources = []
    for rtype, params in READ_SEARCH.items():
        entry: dict[str, Any] = {"type": rtype, "interaction": [{"code": "read"}]}
        if params:
            entry["interaction"].append({"code": "search-type"})
            entry["searchParam"] = [
                {"name": p, "type": "number" if p == "_count" else
                 ("reference" if p == "patient" else "token" if p in ("identifier", "status", "code")
                  else "date" if p == "date" else "string")}
                for p in params
            ]
        resources.append(entry)
    return validated(CapabilityStatement, {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().isoformat(),
        "kind": "instance",
        "software": {"name": "OpenIOP", "version": __version__},
        "implementation": {"description": "OpenIOP FHIR R4 API", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{"mode": "server", "resource": resources,
                  "security": {"description": "Session sign-in of clinic staff; reads are "
                               "audited; 42 CFR Part 2 records require an active consent."}}],
    })
