"""participants.Consent -> Consent (Part 2 and TPO consents; docs/fhir-mapping.md).

- scope: every kind OpenIOP records is a privacy consent (who may see or receive what), so
  `http://terminology.hl7.org/CodeSystem/consentscope#patient-privacy`.
- category: LOINC 59284-0 "Patient Consent" (R4 consent-category value set,
  https://hl7.org/fhir/R4/valueset-consent-category.html), with the kind as text.
- status: `active` while granted, unexpired and unrevoked (the same test the Part 2 gate
  applies, `Consent.is_active_at`); otherwise `inactive`.
- Part 2 consents name the regulation as policy (42 CFR part 2) and policyRule
  v3-ActCode#42CFRPart2 (the DS4P Part 2 security label, docs/privacy-and-part2.md); a
  TPO consent's provision purposes are treatment, payment and operations (v3-ActReason
  TREAT, HPAYMT, HOPERAT). Other kinds carry the kind as policyRule text, so every
  Consent meets the R4 invariant ppc-1 "Either a Policy or PolicyRule"
  (`policy.exists() or policyRule.exists()`; fhir.resources does not check invariants).
- provision.period: granted until it expires or was revoked, whichever is earlier.
- The consent wording (`text`) and free-text purpose are not sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.consent import Consent as FhirConsent

from openiop.participants.models import Consent

from .common import ref, validated

PART2_KINDS = (Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE)
PART2_POLICY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
TPO_PURPOSES = [
    {"system": ACT_REASON, "code": "TREAT", "display": "treatment"},
    {"system": ACT_REASON, "code": "HPAYMT", "display": "healthcare payment"},
    {"system": ACT_REASON, "code": "HOPERAT", "display": "healthcare operations"},
]


def consent_status(consent: Consent, now: datetime | None = None) -> str:
    return "active" if consent.is_active_at(now or timezone.now()) else "inactive"


def consent(c: Consent) -> dict[str, Any]:
    ends = [x for x in (c.expires_at, c.revoked_at) if x is not None]
    period: dict[str, str] = {"start": c.granted_at.isoformat()}
    if ends:
        period["end"] = min(ends).isoformat()
    provision: dict[str, Any] = {"type": "permit", "period": period}
    if c.recipient:
        provision["actor"] = [{
            "role": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP", "display": "information recipient"}]},
            "reference": {"display": c.recipient},
        }]
    if c.kind == Consent.Kind.PART2_TPO:
        provision["purpose"] = TPO_PURPOSES
    data: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(c.code),
        "status": consent_status(c),
        "scope": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy", "display": "Privacy Consent"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                  "display": "Patient Consent"}],
                      "text": c.get_kind_display()}],
        "patient": ref("Patient", c.participant.code),
        "dateTime": c.granted_at.isoformat(),
        "performer": [ref("Patient", c.participant.code)],
        "organization": [ref("Organization", c.participant.organization.code)],
        "provision": provision,
    }
    if c.kind in PART2_KINDS:
        data["policy"] = [{"authority": "https://www.hhs.gov", "uri": PART2_POLICY}]
        data["policyRule"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2",
            "display": "42 CFR Part2"}]}
    else:
        data["policyRule"] = {"text": c.get_kind_display()}
    return validated(FhirConsent, data)
