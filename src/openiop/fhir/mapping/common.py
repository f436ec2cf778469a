from __future__ import annotations

from typing import Any

from pydantic import BaseModel

OPENIOP_SYSTEM = "urn:openiop"
MRN_TYPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                "display": "Medical record number"}]
}


def mrn_system(organization: Any) -> str:
    return f"{OPENIOP_SYSTEM}:organization:{organization.code}:mrn"


def ref(resource_type: str, code: object, display: str = "") -> dict[str, str]:
    out = {"reference": f"{resource_type}/{code}"}
    if display:
        out["display"] = display
    return out


def validated(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Validate with fhir.resources (R4B) and return plain JSON-ready data."""
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)
