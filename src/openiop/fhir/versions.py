"""meta.versionId and meta.lastUpdated, ETags and conditional reads.

The version of a resource is the moment it last changed as far as the rows show it
(`Spec.updated`, annotated as `fhir_updated`): the versionId is that moment in
microseconds since 1970 (FHIR leaves versionId opaque to clients,
https://hl7.org/fhir/R4/resource.html#Meta), so it changes exactly when lastUpdated does.
The ETag is the weak validator `W/"<versionId>"` (https://hl7.org/fhir/R4/http.html#versioning).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from django.http import HttpRequest

from .resources import Spec


def version_id(moment: datetime) -> str:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment.astimezone(UTC) - epoch
    return str((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)


def meta(spec: Spec, row: Any) -> dict[str, Any]:
    updated: datetime = row.fhir_updated
    out: dict[str, Any] = {"versionId": version_id(updated),
                           "lastUpdated": updated.astimezone(UTC).isoformat()}
    if spec.profile:
        out["profile"] = [spec.profile]
    return out


def validators(resource: dict[str, Any]) -> dict[str, str]:
    updated = datetime.fromisoformat(resource["meta"]["lastUpdated"])
    return {"ETag": f'W/"{resource["meta"]["versionId"]}"',
            "Last-Modified": format_datetime(updated.astimezone(UTC), usegmt=True)}


def not_modified(request: HttpRequest, resource: dict[str, Any]) -> bool:
    """True when the client's copy is current (If-None-Match wins over If-Modified-Since,
    RFC 9110 section 13.2.2)."""
    tag = validators(resource)["ETag"]
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        offered = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in offered or tag.removeprefix("W/") in offered
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            return False
        updated = datetime.fromisoformat(resource["meta"]["lastUpdated"])
        return updated.replace(microsecond=0) <= moment
    return False
