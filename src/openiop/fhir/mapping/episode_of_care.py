"""EpisodeOfCare -> EpisodeOfCare (an admission to a level of care; docs/fhir-mapping.md)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.episodeofcare import EpisodeOfCare as FhirEpisode

from openiop.care.levels import ASAM_CODES
from openiop.care.models import EpisodeOfCare

from .common import ref, validated


def episode_of_care(ep: EpisodeOfCare) -> dict[str, Any]:
    period: dict[str, str] = {"start": ep.admitted_on.isoformat()}
    if ep.discharged_on:
        period["end"] = ep.discharged_on.isoformat()
    data: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": str(ep.code),
        "status": ep.status,  # the model uses the FHIR R4 EpisodeOfCare.status codes
        "type": [{"text": f"{ep.get_level_of_care_display()} (ASAM "
                          f"{ASAM_CODES[ep.level_of_care]})"}],
        "patient": ref("Patient", ep.participant.code),
        "managingOrganization": ref("Organization", ep.program.organization.code),
        "period": period,
    }
    if ep.primary_therapist_id:
        data["careManager"] = ref("Practitioner", ep.primary_therapist.code,
                                  str(ep.primary_therapist))
    return validated(FhirEpisode, data)
