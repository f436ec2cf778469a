"""billing.Coverage -> Coverage (US Core 6.1 Coverage; docs/fhir-mapping.md).

- status: `active` until its end date has passed, then `cancelled` (R4 fm-status codes;
  the row itself is kept).
- type: the payer's kind in the PHDSC Source of Payment Typology
  (urn:oid:2.16.840.1.113883.3.221.5, the system US Core binds Coverage.type to):
  1 Medicare, 2 Medicaid, 5 private health insurance, 81 self-pay.
- identifier: the member id with identifier type MB "Member Number"
  (http://terminology.hl7.org/CodeSystem/v2-0203, US Core's memberid slice), also in
  subscriberId. Without a member id (self-pay, or not recorded) subscriberId carries the
  data-absent-reason extension with `unknown` instead: US Core 6.1 us-core-coverage
  invariant us-core-15 ("Member Id in Coverage.identifier or Coverage.subscriberId SHALL
  be present") makes it required, and US Core 6.1's General Requirements, Missing Data
  (https://hl7.org/fhir/us/core/STU6.1/general-requirements.html#missing-data) say how a
  required non-coded element without data is sent: the DataAbsentReason extension
  (http://hl7.org/fhir/StructureDefinition/data-absent-reason) with code `unknown`.
- subscriber: the participant when the relationship is self; otherwise the subscriber's
  name as display only (no RelatedPerson is kept for them).
- relationship: the X12 individual relationship code mapped to
  http://terminology.hl7.org/CodeSystem/subscriber-relationship (18 self, 01 spouse,
  19 child, G8 other).
- payor: the payer as a contained Organization (name, electronic payer id); payers are
  not served as Organization resources of their own.
- class: the group number as class `group`
  (http://terminology.hl7.org/CodeSystem/coverage-class).
- order: 1 primary, 2 secondary, 3 tertiary.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fhir.resources.R4B.coverage import Coverage as FhirCoverage

from openiop.billing.models import Coverage, PayerKind

from .common import OPENIOP_SYSTEM, ref, validated

SOPT = "urn:oid:2.16.840.1.113883.3.221.5"
PAYMENT_TYPES = {PayerKind.MEDICARE: ("1", "MEDICARE"), PayerKind.MEDICAID: ("2", "MEDICAID"),
                 PayerKind.COMMERCIAL: ("5", "PRIVATE HEALTH INSURANCE"),
                 PayerKind.SELF_PAY: ("81", "Self-pay")}
RELATIONSHIPS = {"18": ("self", "Self"), "01": ("spouse", "Spouse"), "19": ("child", "Child"),
                 "G8": ("other", "Other")}
COVERAGE_STATUSES = ("active", "cancelled")
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def coverage_status(cov: Coverage) -> str:
    ended = cov.ends_on is not None and cov.ends_on < timezone.localdate()
    return "cancelled" if ended else "active"


def coverage(cov: Coverage) -> dict[str, Any]:
    payer, person = cov.payer, cov.participant
    code, display = PAYMENT_TYPES[PayerKind(payer.kind)]
    rel_code, rel_display = RELATIONSHIPS.get(cov.relationship, ("other", "Other"))
    organization: dict[str, Any] = {"resourceType": "Organization", "id": "payer",
                                    "active": payer.is_active, "name": payer.name}
    if payer.payer_id:
        organization["identifier"] = [{"system": f"{OPENIOP_SYSTEM}:payer-id",
                                       "value": payer.payer_id}]
    period: dict[str, str] = {"start": cov.effective_on.isoformat()}
    if cov.ends_on:
        period["end"] = cov.ends_on.isoformat()
    if cov.relationship == "18":
        subscriber = ref("Patient", person.code, person.display_name)
    else:
        name = f"{cov.subscriber_first_name} {cov.subscriber_last_name}".strip()
        subscriber = {"display": name} if name else None
    data: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": str(cov.code),
        "contained": [organization],
        "status": coverage_status(cov),
        "type": {"coding": [{"system": SOPT, "code": code, "display": display}],
                 "text": payer.get_kind_display()},
        "beneficiary": ref("Patient", person.code),
        "relationship": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
            "code": rel_code, "display": rel_display}]},
        "period": period,
        "payor": [{"reference": "#payer", "display": payer.name}],
        "order": cov.order,
    }
    if subscriber:
        data["subscriber"] = subscriber
    if cov.member_id:
        data["identifier"] = [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                 "code": "MB", "display": "Member Number"}]},
            "system": f"{OPENIOP_SYSTEM}:payer:{payer.code}:member",
            "value": cov.member_id}]
        data["subscriberId"] = cov.member_id
    else:
        data["_subscriberId"] = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    if cov.group_number:
        data["class"] = [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                 "code": "group", "display": "Group"}]},
            "value": cov.group_number, "name": payer.name}]
    return validated(FhirCoverage, data)
