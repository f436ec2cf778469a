from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

from .canonical import Unsupported, canonical

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


_UNCHECKED: ContextVar[bool] = ContextVar("openiop_fhir_unchecked", default=False)


@contextmanager
def unchecked() -> Iterator[None]:
    """Within it, `validated` writes the same JSON without building the fhir.resources
    models (mapping/canonical.py): the bulk export renders every resource of the clinic and
    a search page up to a thousand, and the models cost most of their time. Reads keep the
    check."""
    token = _UNCHECKED.set(True)
    try:
        yield
    finally:
        _UNCHECKED.reset(token)


def validated(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Validate with fhir.resources (R4B) and return plain JSON-ready data."""
    if _UNCHECKED.get():
        try:
            return canonical(model, data)  # type: ignore[arg-type]
        except Unsupported:
            pass  # validated in full below, as outside unchecked()
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)
