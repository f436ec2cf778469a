"""Billing API: a participant's coverages and authorizations (with units used), charges,
claims (with the scrubber's holds in words) and remittances.

For the billing office and directors (the `billing.view` permission, the same as the
Billing pages); a participant's coverage goes through `may_read_billing`, the billing
app's access decision. Nothing here carries note text: a charge says which service it is
and which charge rule made it, never what was written. Lists are bounded (`limit` at most
200, `offset_param`); reads of one participant's billing are audited, as the pages do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.billing import codes, selectors
from openiop.billing.models import Authorization, Charge, Claim, Coverage, Remittance
from openiop.billing.services.scrub import HOLD_LABELS
from openiop.core.exceptions import NotPermitted
from openiop.participants.selectors import get_participant_for_user

from .pagination import offset_param
from .request import StaffRequest

router = Router(tags=["billing"])

LIMIT = Query(50, ge=1, le=200, description="Rows to return (1 to 200).")


class CoverageOut(Schema):
    code: UUID
    participant: UUID
    payer: str
    payer_kind: str
    order: int
    member_id: str
    group_number: str
    relationship: str
    effective_on: date
    ends_on: date | None
    active_today: bool
    copay_per_day: Decimal | None
    version: int


class AuthorizationOut(Schema):
    code: UUID
    coverage: UUID
    payer: str
    reference_number: str
    level_of_care: str
    unit: str
    status: str
    starts_on: date
    ends_on: date
    review_on: date | None
    units_approved: int
    units_used: int
    units_remaining: int
    percent_used: int


class ChargeOut(Schema):
    code: UUID
    participant: UUID
    participant_name: str
    payer: str | None
    service_date: date
    claim_type: str
    revenue_code: str
    hcpcs: str
    modifiers: list[str]
    units: int
    minutes: int
    amount: Decimal
    status: str
    rule: str


class ChargePage(Schema):
    count: int
    results: list[ChargeOut]


class HoldOut(Schema):
    code: str
    label: str
    message: str


class ClaimLineOut(Schema):
    line_number: int
    service_date: date
    revenue_code: str
    hcpcs: str
    modifiers: list[str]
    units: int
    amount: Decimal
    paid_amount: Decimal


class ClaimOut(Schema):
    code: UUID
    participant: UUID
    participant_name: str
    payer: str
    claim_type: str
    control_number: str
    period_start: date
    period_end: date
    status: str
    status_label: str
    holds: list[HoldOut]
    diagnosis_codes: list[str]
    total_charge: Decimal
    paid_amount: Decimal
    adjustment_amount: Decimal
    patient_responsibility: Decimal
    balance: Decimal
    sent_on: date | None


class ClaimDetailOut(ClaimOut):
    lines: list[ClaimLineOut]


class ClaimPage(Schema):
    count: int
    results: list[ClaimOut]


class AdjustmentOut(Schema):
    group_code: str
    group: str
    reason_code: str
    reason: str
    amount: Decimal
    remark_codes: list[str]


class PaymentOut(Schema):
    claim: UUID | None
    control_number: str
    status_code: str
    charge_amount: Decimal
    paid_amount: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    adjustments: list[AdjustmentOut]


class RemittanceOut(Schema):
    code: UUID
    payer_name: str
    trace_number: str
    payment_date: date
    total_paid: Decimal
    claim_count: int


class RemittanceDetailOut(RemittanceOut):
    payments: list[PaymentOut]


class RemittancePage(Schema):
    count: int
    results: list[RemittanceOut]


ClaimStatusParam = Literal["held", "ready", "sent", "paid", "partial", "denied", "void"]
ChargeStatusParam = Literal["open", "claimed", "void"]


def _office(request: StaffRequest) -> int:
    require_perm(request.user, Perm.BILLING_VIEW)
    org_id = request.user.staff_organization_id
    if org_id is None:
        raise NotPermitted("Only clinic staff use the billing API.")
    return org_id


def _participant(request: StaffRequest, code: UUID) -> Any:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.BILLING_VIEW, object_type=ObjectType.BILLING)
    if not selectors.may_read_billing(request.user, participant):
        raise Http404
    return participant


def _coverage(cov: Coverage) -> dict[str, Any]:
    from django.utils import timezone

    return {"code": cov.code, "participant": cov.participant.code, "payer": cov.payer.name,
            "payer_kind": cov.payer.kind, "order": cov.order, "member_id": cov.member_id,
            "group_number": cov.group_number, "relationship": cov.get_relationship_display(),
            "effective_on": cov.effective_on, "ends_on": cov.ends_on,
            "active_today": cov.active_on(timezone.localdate()),
            "copay_per_day": cov.copay_per_day, "version": cov.version}


def _authorization(auth: Authorization, usage: selectors.Usage) -> dict[str, Any]:
    return {"code": auth.code, "coverage": auth.coverage.code,
            "payer": auth.coverage.payer.name, "reference_number": auth.reference_number,
            "level_of_care": auth.level_of_care, "unit": auth.unit, "status": auth.status,
            "starts_on": auth.starts_on, "ends_on": auth.ends_on, "review_on": auth.review_on,
            "units_approved": auth.units_approved, "units_used": usage.used,
            "units_remaining": usage.remaining, "percent_used": usage.percent}


def _charge(ch: Charge) -> dict[str, Any]:
    return {"code": ch.code, "participant": ch.participant.code,
            "participant_name": ch.participant.display_name,
            "payer": ch.coverage.payer.name if ch.coverage is not None else None,
            "service_date": ch.service_date, "claim_type": ch.claim_type,
            "revenue_code": ch.revenue_code, "hcpcs": ch.hcpcs,
            "modifiers": list(ch.modifiers or []), "units": ch.units, "minutes": ch.minutes,
            "amount": ch.amount, "status": ch.status, "rule": ch.rule}


def _claim(claim: Claim) -> dict[str, Any]:
    return {"code": claim.code, "participant": claim.participant.code,
            "participant_name": claim.participant.display_name,
            "payer": claim.coverage.payer.name, "claim_type": claim.claim_type,
            "control_number": claim.control_number, "period_start": claim.period_start,
            "period_end": claim.period_end, "status": claim.status,
            "status_label": claim.get_status_display(),
            "holds": [{"code": h.get("code", ""), "label": HOLD_LABELS.get(h.get("code", ""), ""),
                       "message": h.get("message", "")} for h in claim.holds or []],
            "diagnosis_codes": list(claim.diagnosis_codes or []),
            "total_charge": claim.total_charge, "paid_amount": claim.paid_amount,
            "adjustment_amount": claim.adjustment_amount,
            "patient_responsibility": claim.patient_responsibility, "balance": claim.balance,
            "sent_on": claim.sent_on}


def _remittance(r: Remittance) -> dict[str, Any]:
    return {"code": r.code, "payer_name": r.payer_name, "trace_number": r.trace_number,
            "payment_date": r.payment_date, "total_paid": r.total_paid,
            # Every caller annotates Count("payments").
            "claim_count": r.claim_count}  # type: ignore[attr-defined]


# --- a participant's coverage and authorizations -------------------------------------------

@router.get("/participants/{code}/coverages", response=list[CoverageOut])
def list_coverages(request: StaffRequest, code: UUID) -> list[dict[str, Any]]:
    participant = _participant(request, code)
    return [_coverage(c) for c in Coverage.objects.filter(participant=participant)
            .select_related("payer", "participant").order_by("order", "-effective_on", "pk")]


@router.get("/coverages/{code}", response=CoverageOut)
def get_coverage(request: StaffRequest, code: UUID) -> dict[str, Any]:
    org_id = _office(request)
    cov = get_object_or_404(Coverage.objects.select_related("payer", "participant"),
                            code=code, participant__organization_id=org_id)
    _participant(request, cov.participant.code)  # the access decision, audited
    return _coverage(cov)


@router.get("/participants/{code}/authorizations", response=list[AuthorizationOut])
def list_authorizations(request: StaffRequest, code: UUID) -> list[dict[str, Any]]:
    """Every authorization of the participant's coverages, latest first, with the units
    used so far (counted from recorded attendance, days or sessions)."""
    participant = _participant(request, code)
    auths = list(Authorization.objects.filter(coverage__participant=participant)
                 .select_related("coverage__payer").order_by("-starts_on", "pk"))
    return [_authorization(a, u) for a, u in selectors.authorizations_with_usage(auths)]


@router.get("/authorizations/{code}", response=AuthorizationOut)
def get_authorization(request: StaffRequest, code: UUID) -> dict[str, Any]:
    org_id = _office(request)
    auth = get_object_or_404(
        Authorization.objects.select_related("coverage__payer", "coverage__participant"),
        code=code, coverage__participant__organization_id=org_id)
    _participant(request, auth.coverage.participant.code)
    [(_, usage)] = selectors.authorizations_with_usage([auth])
    return _authorization(auth, usage)


# --- the office's lists ---------------------------------------------------------------------

def _page(request: StaffRequest, qs: Any, status: str | None, participant: UUID | None,
          offset: int, limit: int, row: Any) -> dict[str, Any]:
    """One page of an office list, narrowed by status and participant (the participant
    through the same check as every participant read)."""
    if status:
        qs = qs.filter(status=status)
    if participant:
        qs = qs.filter(participant=_participant(request, participant))
    return {"count": qs.count(), "results": [row(x) for x in qs[offset:offset + limit]]}


@router.get("/charges", response=ChargePage)
def list_charges(request: StaffRequest, status: ChargeStatusParam | None = None,
                 participant: UUID | None = None, limit: int = LIMIT,
                 offset: int = offset_param()) -> dict[str, Any]:
    """Charge lines, oldest service first: the service and its codes, never note text."""
    org_id = _office(request)
    qs = Charge.objects.filter(organization_id=org_id).select_related(
        "participant", "coverage__payer").order_by("service_date", "pk")
    return _page(request, qs, status, participant, offset, limit, _charge)


@router.get("/claims", response=ClaimPage)
def list_claims(request: StaffRequest, status: ClaimStatusParam | None = None,
                participant: UUID | None = None, limit: int = LIMIT,
                offset: int = offset_param()) -> dict[str, Any]:
    """Claims, latest period first; a held claim lists every hold in words."""
    org_id = _office(request)
    qs = Claim.objects.filter(organization_id=org_id).select_related(
        "participant", "coverage__payer").order_by("-period_end", "pk")
    return _page(request, qs, status, participant, offset, limit, _claim)


@router.get("/claims/{code}", response=ClaimDetailOut)
def get_claim(request: StaffRequest, code: UUID) -> dict[str, Any]:
    org_id = _office(request)
    claim = get_object_or_404(Claim.objects.select_related("participant", "coverage__payer"),
                              organization_id=org_id, code=code)
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.CLAIM, object_id=claim.code,
                 participant=claim.participant, request=request)
    lines = [{"line_number": ln.line_number, "service_date": ln.service_date,
              "revenue_code": ln.revenue_code, "hcpcs": ln.hcpcs,
              "modifiers": list(ln.modifiers or []), "units": ln.units, "amount": ln.amount,
              "paid_amount": ln.paid_amount} for ln in claim.lines.order_by("line_number")]
    return _claim(claim) | {"lines": lines}


@router.get("/remittances", response=RemittancePage)
def list_remittances(request: StaffRequest, limit: int = LIMIT,
                     offset: int = offset_param()) -> dict[str, Any]:
    from django.db.models import Count

    org_id = _office(request)
    qs = Remittance.objects.filter(organization_id=org_id).annotate(
        claim_count=Count("payments")).order_by("-payment_date", "-pk")
    return {"count": qs.count(),
            "results": [_remittance(r) for r in qs[offset:offset + limit]]}


@router.get("/remittances/{code}", response=RemittanceDetailOut)
def get_remittance(request: StaffRequest, code: UUID) -> dict[str, Any]:
    from django.db.models import Count

    org_id = _office(request)
    remittance = get_object_or_404(Remittance.objects.annotate(claim_count=Count("payments"))
                                   .select_related("organization"),
                                   organization_id=org_id, code=code)
    payments = remittance.payments.select_related("claim").prefetch_related(
        "adjustments").order_by("pk")
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.REMITTANCE,
                 object_id=remittance.code, organization=remittance.organization,
                 request=request)
    return _remittance(remittance) | {"payments": [{
        "claim": p.claim.code if p.claim is not None else None, "control_number": p.control_number,
        "status_code": p.status_code, "charge_amount": p.charge_amount,
        "paid_amount": p.paid_amount, "patient_responsibility": p.patient_responsibility,
        "payer_claim_number": p.payer_claim_number,
        "adjustments": [{"group_code": a.group_code, "group": codes.group(a.group_code),
                         "reason_code": a.reason_code, "reason": codes.carc(a.reason_code),
                         "amount": a.amount, "remark_codes": list(a.remark_codes or [])}
                        for a in p.adjustments.all()]} for p in payments]}
