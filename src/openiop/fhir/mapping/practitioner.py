"""Staff -> Practitioner."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from openiop.accounts.models import User

from .common import OPENIOP_SYSTEM, validated
from .coverage import DATA_ABSENT_REASON


def practitioner(user: User) -> dict[str, Any]:
    profile = getattr(user, "staff_profile", None)
    # US Core 6.1 Practitioner: name.family 1..1. A staff account made outside the staff
    # form may lack a last name; FHIR forbids an empty string, so the family name is then
    # marked absent ("unknown"), as US Core's Missing Data rules allow for a required
    # element (https://hl7.org/fhir/us/core/STU6.1/general-requirements.html#missing-data).
    name: dict[str, Any] = {"family": user.last_name} if user.last_name.strip() else {
        "_family": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}}
    if user.first_name.strip():
        name["given"] = [user.first_name]
    name["text"] = str(user)
    data: dict[str, Any] = {
        "resourceType": "Practitioner", "id": str(user.code), "active": user.is_active,
        "name": [name],
    }
    if profile is not None and profile.credentials:
        data["qualification"] = [{"code": {"text": c}} for c in profile.credentials]
    # US Core Practitioner needs an identifier: the NPI when known, and always the staff
    # member's id within the organization.
    identifiers = [{"system": "http://hl7.org/fhir/sid/us-npi", "value": profile.npi}] if (
        profile is not None and profile.npi) else []
    if profile is not None:
        identifiers.append({"system": f"{OPENIOP_SYSTEM}:organization:"
                                      f"{profile.organization.code}:staff",
                            "value": str(user.code)})
    if identifiers:
        data["identifier"] = identifiers
    return validated(Practitioner, data)
