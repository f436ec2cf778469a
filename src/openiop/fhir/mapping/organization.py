"""Organization -> Organization; Site -> Location; Program -> HealthcareService."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization as FhirOrganization

from openiop.care.levels import ASAM_CODES
from openiop.care.models import Program
from openiop.organizations.models import Organization, Site

from .common import ref, validated

WEEKDAY_CODES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def organization(org: Organization) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Organization", "id": str(org.code), "active": True, "name": org.name,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                              "code": "prov", "display": "Healthcare Provider"}]}],
    }
    telecom = [{"system": "phone", "value": org.phone}] if org.phone else []
    if org.website:
        telecom.append({"system": "url", "value": org.website})
    if telecom:
        data["telecom"] = telecom
    return validated(FhirOrganization, data)


def location(site: Site) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Location", "id": str(site.code), "status": "active", "name": site.name,
        "mode": "instance",
        "address": {"line": [x for x in (site.address1, site.address2) if x], "city": site.city,
                    "state": site.state, "postalCode": site.zip_code, "country": "US"},
        "managingOrganization": ref("Organization", site.organization.code),
    }
    if site.latitude is not None and site.longitude is not None:
        data["position"] = {"latitude": site.latitude, "longitude": site.longitude}
    if site.phone:
        data["telecom"] = [{"system": "phone", "value": site.phone}]
    return validated(Location, data)


def healthcare_service(program: Program, tracks: list[Any]) -> dict[str, Any]:
    """The IOP as a service offered (directories and the finder; docs/finder-locator.md)."""
    available = [
        {"daysOfWeek": [WEEKDAY_CODES[d] for d in sorted(t.weekdays)],
         "availableStartTime": t.start_time.strftime("%H:%M:%S"),
         "availableEndTime": t.end_time.strftime("%H:%M:%S")}
        for t in tracks
    ]
    data: dict[str, Any] = {
        "resourceType": "HealthcareService", "id": str(program.code), "active": program.is_active,
        "providedBy": ref("Organization", program.organization.code, program.organization.name),
        "location": [ref("Location", program.site.code, program.site.name)],
        "name": program.name,
        "comment": program.description or None,
        "category": [{"text": "Behavioral health"}],
        "type": [{"text": f"{program.get_level_of_care_display()} (ASAM "
                          f"{ASAM_CODES[program.level_of_care]})"}],
        "specialty": [{"text": program.get_focus_display()}],
        "characteristic": [{"text": program.get_population_display()}],
    }
    if available:
        data["availableTime"] = available
    return validated(HealthcareService, data)
