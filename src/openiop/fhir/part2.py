"""42 CFR Part 2 security labels on FHIR resources.

Whether a record may leave, and the notice that goes with it, is decided in
`openiop.participants.disclosure` (the one decision for every channel). Here: the DS4P
security labels a Part 2 resource carries (HL7 FHIR Data Segmentation for Privacy
implementation guide, https://build.fhir.org/ig/HL7/fhir-security-label-ds4p; see
docs/privacy-and-part2.md).
"""

from __future__ import annotations

from typing import Any

# meta.security labels for Part 2 records.
PART2_SECURITY_LABELS: list[dict[str, str]] = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R",
     "display": "restricted"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2",
     "display": "42 CFR Part2"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "ETH",
     "display": "substance abuse information sensitivity"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NORDSCLCD",
     "display": "no redisclosure without consent directive"},
]


def label(resource: dict[str, Any]) -> dict[str, Any]:
    meta = resource.setdefault("meta", {})
    meta["security"] = [*meta.get("security", []), *PART2_SECURITY_LABELS]
    return resource
