"""Staff -> Practitioner."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from openiop.accounts.models import User

from .common import OPENIOP_SYSTEM, validated


def practitioner(user: User) -> dict[str, Any]:
    profile = getattr(user, "staff_profile", None)
    data: dict[str, Any] = {
        "resourceType": "Practitioner", "id": str(user.code), "active": user.is_active,
        "name": [{"family": user.last_name, "given": [user.first_name],
                  "text": str(user)}],
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
