"""Participant -> Patient (FHIR R4 Patient, US Core 6.1 Patient profile).

- gender: the administrative sex (AdministrativeGender codes, required by US Core).
- us-core-birthsex: sex assigned at birth, when recorded (valueCode from the US Core Birth
  Sex value set: F, M, ASKU, UNK).
- us-core-genderIdentity: gender identity, when recorded (SNOMED CT or v3 NullFlavor
  coding; https://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-genderIdentity.html).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.patient import Patient as FhirPatient

from openiop.participants.models import GenderIdentity, Participant

from .common import MRN_TYPE, mrn_system, ref, validated

US_CORE_EXT = "http://hl7.org/fhir/us/core/StructureDefinition/"
SNOMED = "http://snomed.info/sct"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"


def _extensions(p: Participant) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if p.sex_at_birth:
        out.append({"url": US_CORE_EXT + "us-core-birthsex", "valueCode": p.sex_at_birth})
    if p.gender_identity:
        code = p.gender_identity
        out.append({"url": US_CORE_EXT + "us-core-genderIdentity", "valueCodeableConcept": {
            "coding": [{"system": SNOMED if code.isdigit() else NULL_FLAVOR, "code": code,
                        "display": GenderIdentity(code).label}],
            "text": GenderIdentity(code).label}})
    return out


def patient(p: Participant) -> dict[str, Any]:
    names: list[dict[str, Any]] = [
        {"use": "official", "family": p.legal_last_name, "given": [p.legal_first_name]}
    ]
    if p.preferred_name:
        names.append({"use": "usual", "family": p.legal_last_name, "given": [p.preferred_name]})
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.code),
        "identifier": [{"use": "usual", "type": MRN_TYPE, "system": mrn_system(p.organization),
                        "value": p.mrn}],
        "active": True,
        "name": names,
        "gender": p.administrative_sex,
        "birthDate": p.date_of_birth.isoformat(),
        "managingOrganization": ref("Organization", p.organization.code, p.organization.name),
        "communication": [{"language": {"text": p.preferred_language}, "preferred": True}],
    }
    if extensions := _extensions(p):
        data["extension"] = extensions
    if telecom:
        data["telecom"] = telecom
    if p.address1:
        # A part not recorded is left out (a FHIR string is never empty).
        parts = {"city": p.city, "state": p.state, "postalCode": p.zip_code}
        data["address"] = [{
            "use": "home", "line": [x for x in (p.address1, p.address2) if x],
            **{k: v for k, v in parts.items() if v}, "country": "US",
        }]
    if p.emergency_contact_name:
        data["contact"] = [{
            "relationship": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C",
                "display": "Emergency Contact"}],
                "text": p.emergency_contact_relationship or "emergency contact"}],
            "name": {"text": p.emergency_contact_name},
            **({"telecom": [{"system": "phone", "value": p.emergency_contact_phone}]}
               if p.emergency_contact_phone else {}),
        }]
    return validated(FhirPatient, data)
