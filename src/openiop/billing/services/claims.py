"""Claims from open charges, scrubbing, 837 batches."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import InvalidTransition

from .. import rules
from ..models import (
    BillingProfile,
    Charge,
    Claim,
    ClaimBatch,
    ClaimLine,
    ClaimStatus,
    PayerKind,
)
from ..x12 import build as x12_build
from ..x12.writer import write_837
from ._common import same_org
from .scrub import ScrubData, scrub_with

if TYPE_CHECKING:
    from uuid import UUID

CLAIM_MAX_LINES = 50  # 837I allows 999 lines, 837P 50; one limit keeps claims readable


def _control_number(claim_type: str, code: UUID) -> str:
    return f"{claim_type}{code.hex[:15].upper()}"


def build_claims(*, actor: User, organization: Any, period_start: date, period_end: date,
                 participant_ids: list[int] | None = None,
                 request: HttpRequest | None = None) -> list[Claim]:
    """Put open charges of insured coverages in these dates on claims (one per participant,
    coverage and claim type, at most CLAIM_MAX_LINES lines), then scrub each claim."""
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, organization.pk)
    if period_end < period_start:
        raise ValidationError({"period_end": "The end date is before the start date."})
    charges = list(Charge.objects.filter(
        organization=organization, status=Charge.Status.OPEN, service_date__gte=period_start,
        service_date__lte=period_end, coverage__isnull=False,
    ).exclude(coverage__payer__kind=PayerKind.SELF_PAY).filter(
        **({"participant_id__in": participant_ids} if participant_ids is not None else {}),
    ).select_related("coverage__payer", "participant").order_by(
        "participant_id", "coverage_id", "claim_type", "service_date", "pk"))
    groups: dict[tuple[int, int, str], list[Charge]] = defaultdict(list)
    for ch in charges:
        groups[(ch.participant_id, ch.coverage_id, ch.claim_type)].append(ch)  # type: ignore[index]
    created: list[Claim] = []
    lines: list[list[ClaimLine]] = []
    for (_, _, claim_type), items in groups.items():
        for start in range(0, len(items), CLAIM_MAX_LINES):
            claim, claim_lines = _claim_from(organization, claim_type,
                                             items[start:start + CLAIM_MAX_LINES])
            created.append(claim)
            lines.append(claim_lines)
    # A fixed number of queries whatever the number of claims: the claims and their lines
    # are inserted in bulk, scrubbed from one load (ScrubData) and saved in one update.
    with transaction.atomic():
        Claim.objects.bulk_create(created, batch_size=500)
        for claim, claim_lines in zip(created, lines, strict=True):
            for line in claim_lines:
                line.claim = claim
        ClaimLine.objects.bulk_create([ln for group in lines for ln in group], batch_size=1000)
        Charge.objects.filter(pk__in=[c.pk for c in charges]).update(
            status=Charge.Status.CLAIMED)
        _scrub_all(created)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CLAIMS,
                     object_id=f"{period_start}..{period_end}", organization=organization,
                     request=request, reason=f"{len(created)} claims")
    return created


def _claim_from(organization: Any, claim_type: str, chunk: list[Charge],
                ) -> tuple[Claim, list[ClaimLine]]:
    """An unsaved claim and its unsaved lines. The charges' participant and coverage (with
    its payer) are already loaded: the objects are handed over so that scrubbing does not
    fetch them again."""
    import uuid

    code = uuid.uuid4()
    coverage = chunk[0].coverage
    if coverage is None:  # claims are made from charges with a coverage only
        raise ValueError("A claim needs the charges' coverage.")
    payer = coverage.payer
    conditions = list(rules.charge_rules()["medicare_iop"]["condition_codes"]) if (
        payer.rule_set == "medicare_iop" and claim_type == "I") else []
    claim = Claim(
        code=code, organization=organization, participant=chunk[0].participant,
        coverage=coverage, claim_type=claim_type,
        control_number=_control_number(claim_type, code),
        period_start=min(c.service_date for c in chunk),
        period_end=max(c.service_date for c in chunk),
        condition_codes=conditions,
        total_charge=sum((c.amount for c in chunk), Decimal("0.00")),
    )
    lines = [ClaimLine(charge=c, line_number=n, service_date=c.service_date,
                       revenue_code=c.revenue_code, hcpcs=c.hcpcs, modifiers=c.modifiers,
                       units=c.units, amount=c.amount)
             for n, c in enumerate(chunk, start=1)]
    return claim, lines


SCRUBBED_FIELDS = ["holds", "diagnosis_codes", "status", "scrubbed_at"]


def _scrub_all(claims: list[Claim]) -> None:
    """Scrub held or ready claims from one load and save them in one update."""
    if any(c.status not in (ClaimStatus.HELD, ClaimStatus.READY) for c in claims):
        raise InvalidTransition("Only held or ready claims are scrubbed again.")
    data = ScrubData.load(claims)
    now = timezone.now()
    for claim in claims:
        holds, codes = scrub_with(claim, data)
        claim.holds = [h.as_dict() for h in holds]
        claim.diagnosis_codes = codes
        claim.status = ClaimStatus.HELD if holds else ClaimStatus.READY
        claim.scrubbed_at = now
    if len(claims) == 1:
        claims[0].save(update_fields=SCRUBBED_FIELDS)
    elif claims:
        Claim.objects.bulk_update(claims, SCRUBBED_FIELDS, batch_size=500)


def apply_scrub(claim: Claim) -> Claim:
    """Run the scrubber; a held or ready claim becomes held or ready accordingly."""
    _scrub_all([claim])
    return claim


def rescrub(*, actor: User, claim: Claim, request: HttpRequest | None = None) -> Claim:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, claim.organization_id)
    with transaction.atomic():
        apply_scrub(claim)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CLAIM, object_id=claim.code,
                     participant=claim.participant, request=request, reason="scrubbed")
    return claim


def claim_void(*, actor: User, claim: Claim, request: HttpRequest | None = None) -> Claim:
    """Void a claim that was not sent; its charges become open again."""
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, claim.organization_id)
    if claim.status not in (ClaimStatus.HELD, ClaimStatus.READY):
        raise InvalidTransition("Only a claim that has not been sent can be voided.")
    with transaction.atomic():
        charge_ids = list(claim.lines.values_list("charge_id", flat=True))
        claim.lines.all().delete()
        Charge.objects.filter(pk__in=charge_ids).update(status=Charge.Status.OPEN)
        claim.status = ClaimStatus.VOID
        claim.save(update_fields=["status"])
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CLAIM, object_id=claim.code,
                     participant=claim.participant, request=request, reason="voided")
    return claim


def batch_create(*, actor: User, organization: Any, claim_type: str,
                 request: HttpRequest | None = None, usage: str = "P") -> ClaimBatch:
    """Write every ready claim of this type into one 837 and mark them sent."""
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, organization.pk)
    if claim_type not in ("I", "P"):
        raise ValidationError({"claim_type": "Choose institutional (I) or professional (P)."})
    profile = BillingProfile.objects.filter(organization=organization).first()
    if profile is None:
        raise InvalidTransition("Set up the billing profile (NPI, tax id, address) first.")
    with transaction.atomic():
        claims = list(Claim.objects.select_for_update().filter(
            organization=organization, claim_type=claim_type, status=ClaimStatus.READY))
        if not claims:
            raise InvalidTransition("No claims of this type are ready.")
        BillingProfile.objects.filter(pk=profile.pk).update(
            interchange_counter=F("interchange_counter") + 1)
        profile.refresh_from_db(fields=["interchange_counter"])
        content = write_837(
            x12_build.envelope(profile, timezone.localtime(), usage=usage),
            x12_build.claims_data(profile, claims))
        batch = ClaimBatch.objects.create(
            organization=organization, claim_type=claim_type,
            control_number=profile.interchange_counter, content=content,
            claim_count=len(claims), created_by=actor)
        Claim.objects.filter(pk__in=[c.pk for c in claims]).update(
            status=ClaimStatus.SENT, batch=batch, sent_on=timezone.localdate())
        audit_record(actor=actor, action=Action.DISCLOSE, object_type=ObjectType.CLAIM_BATCH,
                     object_id=batch.code, organization=organization, request=request,
                     reason=f"837{claim_type} with {len(claims)} claims")
    return batch
