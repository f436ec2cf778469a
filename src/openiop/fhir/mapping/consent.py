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
- provision.actor: the recipient the consent names (42 CFR 2.31(a)(4)), role
  v3-ParticipationType#IRCP "information recipient"; the reference carries the name as
  `display` and, from the structured `recipient_kind`, its resource `type`: Practitioner
  for a named person, Organization for a named organization, Device for a registered app
  (R4 lists Device among an actor's targets), Group for a class of recipients (a general
  designation: the class's description, no member list). A family member's consent names
  the RelatedPerson. No resource OpenIOP serves stands behind these, so no `reference`.
- provision.purpose: the coded purpose (`purpose_code`, 42 CFR 2.31(a)(5)) as
  v3-ActReason purpose-of-use codes (https://terminology.hl7.org/CodeSystem-v3-ActReason.html):
  treatment TREAT, payment HPAYMT, operations HOPERAT, TPO the three, research HRESCH, at
  the patient's request PATRQT; "other" has no code (its words are not sent). A TPO
  consent recorded without a code still carries the three.
- provision.period: granted until it expires or was revoked, whichever is earlier.
- The consent wording (`text`) and free-text purpose are not sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.consent import Consent as FhirConsent

from openiop.participants.models import Consent, DisclosurePurpose, RecipientKind

from .common import ref, validated

PART2_KINDS = (Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE)
PART2_POLICY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
TREAT = {"system": ACT_REASON, "code": "TREAT", "display": "treatment"}
HPAYMT = {"system": ACT_REASON, "code": "HPAYMT", "display": "healthcare payment"}
HOPERAT = {"system": ACT_REASON, "code": "HOPERAT", "display": "healthcare operations"}
TPO_PURPOSES = [TREAT, HPAYMT, HOPERAT]
PURPOSES: dict[str, list[dict[str, str]]] = {
    DisclosurePurpose.TREATMENT: [TREAT],
    DisclosurePurpose.PAYMENT: [HPAYMT],
    DisclosurePurpose.OPERATIONS: [HOPERAT],
    DisclosurePurpose.TPO: TPO_PURPOSES,
    DisclosurePurpose.RESEARCH: [
        {"system": ACT_REASON, "code": "HRESCH", "display": "healthcare research"}],
    DisclosurePurpose.PATIENT_REQUEST: [
        {"system": ACT_REASON, "code": "PATRQT", "display": "patient requested"}],
}
RECIPIENT_TYPES: dict[str, str] = {
    RecipientKind.PERSON: "Practitioner",
    RecipientKind.ORGANIZATION: "Organization",
    RecipientKind.APP: "Device",
    RecipientKind.CLASS: "Group",
}
IRCP = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
    "code": "IRCP", "display": "information recipient"}]}


def _recipient(c: Consent) -> dict[str, str] | None:
    related = c.related_person
    name = c.recipient or (related.name if related is not None else "")
    if not name:
        return None
    kind = RECIPIENT_TYPES.get(c.recipient_kind, "RelatedPerson" if related is not None else "")
    return {"type": kind, "display": name} if kind else {"display": name}


def _purposes(c: Consent) -> list[dict[str, str]]:
    if c.purpose_code:
        return PURPOSES.get(c.purpose_code, [])
    return TPO_PURPOSES if c.kind == Consent.Kind.PART2_TPO else []


def consent_status(consent: Consent, now: datetime | None = None) -> str:
    return "active" if consent.is_active_at(now or timezone.now()) else "inactive"


def consent(c: Consent) -> dict[str, Any]:
    ends = [x for x in (c.expires_at, c.revoked_at) if x is not None]
    period: dict[str, str] = {"start": c.granted_at.isoformat()}
    if ends:
        period["end"] = min(ends).isoformat()
    provision: dict[str, Any] = {"type": "permit", "period": period}
    recipient = _recipient(c)
    if recipient is not None:
        provision["actor"] = [{"role": IRCP, "reference": recipient}]
    purposes = _purposes(c)
    if purposes:
        provision["purpose"] = purposes
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
