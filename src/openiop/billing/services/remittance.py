"""Posting an 835: payments and adjustments onto claims and their lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

from ..models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    ClaimStatus,
    Payer,
    Remittance,
)
from ..x12.remit import ClaimRemit, RemitError, parse_835
from ._common import same_org

MAX_835_BYTES = 5_000_000
WRITE_OFF_GROUPS = ("CO", "OA", "PI", "CR")
ZERO = Decimal("0.00")


def remittance_post(*, actor: User, organization: Any, text: str,
                    request: HttpRequest | None = None) -> Remittance:
    """Parse the 835 and post it. Unknown claim numbers are kept (unmatched) for review.
    Posting the same trace number twice is refused."""
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, organization.pk)
    if not text or len(text) > MAX_835_BYTES:
        raise ValidationError({"file": "Upload an 835 file of at most 5 MB."})
    try:
        remit = parse_835(text)
    except RemitError as exc:
        raise ValidationError({"file": f"This is not a readable 835: {exc}"}) from exc
    if Remittance.objects.filter(organization=organization,
                                 trace_number=remit.trace_number[:50]).exists():
        raise ValidationError({"file": f"Payment {remit.trace_number} was already posted."})
    payer = (Payer.objects.filter(organization=organization, payer_id=remit.payer_id).first()
             if remit.payer_id else None)
    claims = {c.control_number: c for c in Claim.objects.filter(
        organization=organization, control_number__in=[c.control_number for c in remit.claims])}
    with transaction.atomic():
        remittance = Remittance.objects.create(
            organization=organization, payer=payer, payer_name=remit.payer_name[:60],
            trace_number=remit.trace_number[:50], payment_date=remit.payment_date,
            total_paid=remit.total_paid, raw=text, posted_by=actor)
        for data in remit.claims:
            _post_claim(remittance, claims.get(data.control_number), data)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.REMITTANCE,
                     object_id=remittance.code, organization=organization, request=request,
                     reason=f"{len(remit.claims)} claims")
    return remittance


def _post_claim(remittance: Remittance, claim: Claim | None, data: ClaimRemit) -> None:
    payment = ClaimPayment.objects.create(
        remittance=remittance, claim=claim, control_number=data.control_number[:38],
        status_code=data.status[:2], charge_amount=data.charge, paid_amount=data.paid,
        patient_responsibility=data.patient_responsibility,
        payer_claim_number=data.payer_claim_number[:50])
    adjustments = [Adjustment(payment=payment, group_code=a.group, reason_code=a.reason[:5],
                              amount=a.amount, remark_codes=data.remarks)
                   for a in data.adjustments if a.group in ("CO", "PR", "OA", "PI", "CR")]
    if claim is None:
        Adjustment.objects.bulk_create(adjustments)
        return
    lines = list(claim.lines.all())
    used: set[int] = set()
    changed: list[ClaimLine] = []
    for svc in data.services:
        line = next((ln for ln in lines if ln.pk not in used and ln.hcpcs == svc.procedure
                     and (svc.service_date is None or ln.service_date == svc.service_date)), None)
        if line is not None:
            used.add(line.pk)
            line.paid_amount += svc.paid
            changed.append(line)
        adjustments += [Adjustment(payment=payment, claim_line=line, group_code=a.group,
                                   reason_code=a.reason[:5], amount=a.amount,
                                   remark_codes=svc.remarks)
                        for a in svc.adjustments if a.group in ("CO", "PR", "OA", "PI", "CR")]
    ClaimLine.objects.bulk_update(changed, ["paid_amount"])
    Adjustment.objects.bulk_create(adjustments)
    write_off = sum((a.amount for a in adjustments if a.group_code in WRITE_OFF_GROUPS), ZERO)
    claim.paid_amount += data.paid
    claim.adjustment_amount += write_off
    claim.patient_responsibility += data.patient_responsibility
    if data.status == "22":
        claim.status = ClaimStatus.SENT
    elif data.status == "4" or (data.paid <= 0 and data.patient_responsibility <= 0):
        claim.status = ClaimStatus.DENIED
    elif claim.total_charge - claim.paid_amount - claim.adjustment_amount \
            - claim.patient_responsibility <= 0:
        claim.status = ClaimStatus.PAID
    else:
        claim.status = ClaimStatus.PARTIAL
    claim.save(update_fields=["paid_amount", "adjustment_amount", "patient_responsibility",
                              "status"])
