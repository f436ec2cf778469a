"""Staff -> Practitioner."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from openiop.accounts.models import User

from .common import validated


def practitioner(user: User) -> dict[str, Any]:
    profile = getattr(user, "staff_profile", None)
    data: dict[str, Any] = {
        "resourceType": "Practitioner", "id": str(user.code), "active": user.is_active,
        "name": [{"family": user.last_name, "given": [user.first_name],
                  "text": str(user)}],
    }
    if profile is not None and profile.credentials:
        data["qualification"] = [{"code": {"text": c}} for c in profile.credentials]
    if profile is not None and profile.npi:
        data["identifier"] = [{"system": "http://hl7.org/fhir/sid/us-npi", "value": profile.npi}]
    return validated(Practitioner, data)
