"""The server's CapabilityStatement (GET /fhir/R4/metadata), built from the registry."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from openiop import __version__

from .common import validated

CONTROL_PARAMS = [
    {"name": "_count", "type": "number",
     "documentation": "Page size: default {default}, at most {max}; 0 returns the total only."},
    {"name": "_offset", "type": "number",
     "documentation": "Where the page starts (used by the next/previous links)."},
    {"name": "_total", "type": "token",
     "documentation": "none, estimate or accurate (the default; estimate is accurate)."},
]

# FHIR Bulk Data Access IG 2.0 (https://hl7.org/fhir/uv/bulkdata/STU2/): $export at system,
# Group and Patient level; NDJSON only; see openiop/fhir/bulk.py.
BULK = "http://hl7.org/fhir/uv/bulkdata/"
EXPORT_OPERATIONS = {
    "system": {"name": "export", "definition": f"{BULK}OperationDefinition/export"},
    "patient": {"name": "export", "definition": f"{BULK}OperationDefinition/patient-export"},
    "group": {"name": "export", "definition": f"{BULK}OperationDefinition/group-export"},
}


# What the profiles named in meta.profile and supportedProfile promise, and what is checked
# (docs/FHIR.md, "US Core 6.1 validation"): tests/fhir/test_validation_medplum.py validates
# every type that names a profile here against that profile's StructureDefinition from
# HL7's hl7.fhir.us.core 6.1.0 package (tools/fhir-validate/us-core-6.1.0/).
PROFILES_NOTE = (
    "Profiles: resources are mapped to US Core 6.1.0 "
    "(https://hl7.org/fhir/us/core/STU6.1/) and name its profiles (canonical URLs without "
    "a version) in meta.profile and supportedProfile. Every resource is validated against "
    "base FHIR R4 (4.0.1), and every resource type with a supportedProfile against that "
    "profile's StructureDefinition in the US Core 6.1.0 package (hl7.fhir.us.core#6.1.0), "
    "with the US Core birth sex and gender identity extensions against theirs: "
    "cardinality, fixed and pattern values, slices and invariants. Not checked: "
    "terminology bindings to value sets, and the profiles of referenced resources.")


def capability_statement(base_url: str) -> dict[str, Any]:
    from openiop.fhir.engine import DEFAULT_COUNT, MAX_COUNT
    from openiop.fhir.history import SUPPORTED
    from openiop.fhir.registry import SPECS

    root = base_url.rstrip("/").removesuffix("/fhir/R4")
    resources = []
    for spec in SPECS.values():
        params = [{"name": name, "type": p.type, **({"documentation": p.doc} if p.doc else {})}
                  for name, p in spec.params.items() if ":" not in name]
        params += [{**p, "documentation": p["documentation"].format(
            default=DEFAULT_COUNT, max=MAX_COUNT)} for p in CONTROL_PARAMS]
        entry: dict[str, Any] = {
            "type": spec.name,
            "interaction": [{"code": "read"}, {"code": "search-type"}] + (
                [{"code": "vread"}, {"code": "history-instance"}]
                if spec.name in SUPPORTED else []),
            "versioning": "versioned",
            "readHistory": spec.name in SUPPORTED,
            "conditionalRead": "full-support",
            "searchParam": params,
            "searchInclude": [f"{spec.name}:{name}" for name in spec.links],
            "searchRevInclude": [f"{other.name}:{name}" for other in SPECS.values()
                                 for name, link in other.links.items()
                                 if link.target == spec.name],
        }
        if spec.profile:
            entry["supportedProfile"] = [spec.profile]
        if spec.name == "Patient":
            entry["operation"] = [EXPORT_OPERATIONS["patient"]]
        resources.append({k: v for k, v in entry.items() if v != []})
    resources.append({"type": "Group", "operation": [EXPORT_OPERATIONS["group"]],
                      "documentation": "A Group is a program (Group id = the program's id); "
                                       "only its $export is supported."})
    return validated(CapabilityStatement, {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().isoformat(),
        "kind": "instance",
        "software": {"name": "OpenIOP", "version": __version__},
        "implementation": {"description": "OpenIOP FHIR R4 API (read and search; searches "
                                          f"return {DEFAULT_COUNT} matches a page by default, "
                                          f"up to {MAX_COUNT} with _count)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "instantiates": [f"{BULK}CapabilityStatement/bulk-data"],
        "rest": [{"mode": "server", "documentation": PROFILES_NOTE, "resource": resources,
                  "operation": [EXPORT_OPERATIONS["system"]],
                  "security": {
                      "cors": True,
                      "service": [{"coding": [{
                          "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                          "code": "SMART-on-FHIR"}]}],
                      "extension": [{
                          "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                                 "oauth-uris",
                          "extension": [
                              {"url": "authorize", "valueUri": f"{root}/o/authorize/"},
                              {"url": "token", "valueUri": f"{root}/o/token/"},
                              {"url": "revoke", "valueUri": f"{root}/o/revoke_token/"}]}],
                      "description": "OAuth2 bearer tokens (SMART App Launch 2.0, see "
                                     ".well-known/smart-configuration) or the browser "
                                     "session of clinic staff. user/ scopes: what the "
                                     "signed-in staff member may see on the pages; "
                                     "patient/ scopes: the same, limited to the one "
                                     "participant of the launch context (standalone "
                                     "launch/patient or EHR launch from the chart); "
                                     "system/ scopes: SMART Backend Services (client "
                                     "credentials, private_key_jwt with RS384 or ES384), "
                                     "acting as the service's named actor in one "
                                     "organization. Scopes only narrow what the role "
                                     "allows; every read and token use is audited; 42 CFR "
                                     "Part 2 records require an active consent."}}],
    })
