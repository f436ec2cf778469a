"""Map claims (models) to the writer's plain data."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from ..models import BillingProfile, Claim, ClaimLine, PayerKind
from .writer import Address, ClaimData, Envelope, Line, Party

if TYPE_CHECKING:
    from openiop.accounts.models import User

# SBR09 claim filing indicator codes (X12 5010 837 TR3).
FILING = {
    (PayerKind.MEDICARE, "I"): "MA",  # Medicare Part A (institutional)
    (PayerKind.MEDICARE, "P"): "MB",  # Medicare Part B
    (PayerKind.MEDICAID, "I"): "MC",
    (PayerKind.MEDICAID, "P"): "MC",
}
# 837P place of service for the professional claims of each facility type (CMS Place of
# Service code set, https://www.cms.gov/medicare/coding-billing/place-of-service-codes):
# 22 on-campus outpatient hospital, 53 community mental health center.
PLACE_OF_SERVICE = {"13": "22", "76": "53"}


def envelope(profile: BillingProfile, when: datetime, *, usage: str = "P") -> Envelope:
    return Envelope(
        sender_id=profile.submitter_id, receiver_id=profile.receiver_id,
        control_number=profile.interchange_counter, created=when,
        submitter=Party(profile.legal_name, id_qualifier="46", identifier=profile.submitter_id),
        submitter_contact="BILLING OFFICE", submitter_phone=profile.contact_phone,
        receiver=Party(profile.receiver_name, id_qualifier="46", identifier=profile.receiver_id),
        billing_provider=Party(profile.legal_name, id_qualifier="XX", identifier=profile.npi),
        billing_address=Address(profile.address1, profile.city, profile.state, profile.zip_code),
        tax_id=profile.tax_id, taxonomy=profile.taxonomy, usage=usage,
    )


def _provider(user: User | None) -> Party | None:
    npi = getattr(getattr(user, "staff_profile", None), "npi", "") if user else ""
    if not npi:
        return None
    assert user is not None  # npi is "" without a user
    return Party(user.last_name, user.first_name, "XX", npi)


def claims_data(profile: BillingProfile, claims: list[Claim]) -> list[ClaimData]:
    ids = [c.pk for c in claims]
    lines: dict[int, list[ClaimLine]] = defaultdict(list)
    for ln in ClaimLine.objects.filter(claim_id__in=ids).select_related(
            "charge__rendering_provider__staff_profile").order_by("claim_id", "line_number"):
        lines[ln.claim_id].append(ln)
    full = Claim.objects.filter(pk__in=ids).select_related(
        "participant", "coverage__payer").order_by("pk")
    attending = _provider(profile.attending) if profile.attending_id else None
    out = []
    for claim in full:
        p, cov = claim.participant, claim.coverage
        payer = cov.payer
        self_sub = cov.relationship == "18"
        address = Address(p.address1, p.city, p.state, p.zip_code) if p.address1 else None
        subscriber = (Party(p.legal_last_name, p.legal_first_name, "MI", cov.member_id)
                      if self_sub else
                      Party(cov.subscriber_last_name, cov.subscriber_first_name, "MI",
                            cov.member_id))
        my_lines = lines[claim.pk]
        renderers = {ln.charge.rendering_provider_id for ln in my_lines}
        rendering = None
        if claim.claim_type == "P" and len(renderers) == 1 and my_lines:
            rendering = _provider(my_lines[0].charge.rendering_provider)
        out.append(ClaimData(
            control_number=claim.control_number, claim_type=claim.claim_type,
            total=claim.total_charge, period_start=claim.period_start,
            period_end=claim.period_end, subscriber=subscriber,
            subscriber_address=address if self_sub else None,
            subscriber_dob=p.date_of_birth if self_sub else cov.subscriber_date_of_birth,
            payer=Party(payer.name, id_qualifier="PI", identifier=payer.payer_id),
            claim_filing=FILING.get((payer.kind, claim.claim_type), "CI"),
            relationship=cov.relationship, group_number=cov.group_number,
            patient=None if self_sub else Party(p.legal_last_name, p.legal_first_name),
            patient_address=None if self_sub else address,
            patient_dob=None if self_sub else p.date_of_birth,
            facility_code=(profile.facility_type if claim.claim_type == "I"
                           else PLACE_OF_SERVICE.get(profile.facility_type, "11")),
            diagnoses=[c.replace(".", "") for c in claim.diagnosis_codes],
            condition_codes=list(claim.condition_codes), attending=attending,
            rendering=rendering,
            lines=[Line(ln.service_date, ln.hcpcs, ln.amount, ln.units, ln.revenue_code,
                        tuple(ln.modifiers)) for ln in my_lines],
        ))
    return out
