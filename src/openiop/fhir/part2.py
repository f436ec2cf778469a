"""42 CFR Part 2 gate for records that leave the system through FHIR.

A participant's record is a Part 2 record when the organization is a Part 2 program and
the participant has an episode in a substance-use or co-occurring program. Such records
leave the system only under a recorded, unexpired, unrevoked consent, carry the DS4P
security labels, and are accompanied by the redisclosure notice (42 CFR 2.31, 2.32 as
amended by the final rule of 16 Feb 2024, 89 FR 12472; HL7 FHIR DS4P implementation guide,
https://build.fhir.org/ig/HL7/fhir-security-label-ds4p). The notice text is a setting so a
program can use the current eCFR wording of 2.32 (eCFR title 42 part 2,
https://www.ecfr.gov/current/title-42/part-2); the default ends with the rule's
abbreviated statement "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from openiop.participants.models import Consent, Participant

DEFAULT_NOTICE = (
    "This record is protected by federal confidentiality rules (42 CFR part 2). "
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
)

# meta.security labels for Part 2 records (HL7 FHIR DS4P implementation guide; see
# docs/privacy-and-part2.md).
PART2_SECURITY_LABELS: list[dict[str, str]] = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R",
     "display": "restricted"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2",
     "display": "42 CFR Part2"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "ETH",
     "display": "substance abuse information sensitivity"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NORDSCLCD",
     "display": "no redisclosure without consent directive"},
]


def notice_text() -> str:
    return getattr(settings, "OPENIOP_PART2_NOTICE", "") or DEFAULT_NOTICE


def is_part2_record(participant: Participant) -> bool:
    if not participant.organization.is_part2_program:
        return False
    return participant.episodes.filter(program__focus__in=("su", "co")).exists()


def record_is_part2(participant: Participant, *, sud_record: bool) -> bool:
    """Is this one record a Part 2 record?

    Every record of a Part 2 participant is; in a Part 2 program a substance-use treatment
    record (`sud_record`, e.g. a MOUD order: buprenorphine, methadone, naltrexone) is one
    on its own, whatever the participant's other episodes: 42 CFR part 2 covers the
    substance-use treatment records of a Part 2 program, not only its SUD episodes.
    """
    if not participant.organization.is_part2_program:
        return False
    return sud_record or is_part2_record(participant)


def active_part2_consent(participant: Participant) -> Consent | None:
    return participant.consents.filter(
        active_consent_q(timezone.now()),
        kind__in=(Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE),
    ).order_by("-granted_at", "-pk").first()


def label(resource: dict[str, Any]) -> dict[str, Any]:
    meta = resource.setdefault("meta", {})
    meta["security"] = [*meta.get("security", []), *PART2_SECURITY_LABELS]
    return resource


# --- The same rules as database expressions, for searches that page and count in SQL ---

def active_consent_q(now: Any, prefix: str = "") -> Q:
    """`Consent.is_active_at(now)` as a filter on Consent rows (fields under `prefix`)."""
    return (Q(**{f"{prefix}granted_at__lte": now})
            & (Q(**{f"{prefix}revoked_at__isnull": True}) | Q(**{f"{prefix}revoked_at__gt": now}))
            & (Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})))


def protected_q(participant: str, sud_record: Q | None = None) -> Q:
    """Rows that are Part 2 records (`is_part2_record` / `record_is_part2` in SQL).

    `participant` is the path from the row to its participant ("" for a participant row).
    """
    from openiop.care.models import EpisodeOfCare

    ref = OuterRef(participant or "pk")
    in_sud_program = Exists(EpisodeOfCare.objects.filter(
        participant=ref, program__focus__in=("su", "co")))
    prefix = f"{participant}__" if participant else ""
    protected = in_sud_program if sud_record is None else (in_sud_program | sud_record)
    return Q(**{f"{prefix}organization__is_part2_program": True}) & Q(protected)


def consented_q(participant: str, now: Any) -> Q:
    """Rows whose participant has an active Part 2 consent (`active_part2_consent`)."""
    ref = OuterRef(participant or "pk")
    return Q(Exists(Consent.objects.filter(
        active_consent_q(now), participant=ref,
        kind__in=(Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE))))
