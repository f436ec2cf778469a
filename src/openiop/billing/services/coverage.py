"""Payers, coverages, authorizations, the financial profile and the sliding-fee schedule."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.levels import LevelOfCare
from openiop.core.exceptions import Conflict, InvalidTransition

from .. import fees
from ..models import (
    Authorization,
    ChargeRuleSet,
    Coverage,
    FinancialProfile,
    Payer,
    PayerKind,
    Relationship,
    SlidingFeeSchedule,
)
from ._common import require_date, same_org, text

if TYPE_CHECKING:
    from openiop.participants.models import Participant


@overload
def _money(value: Any, field: str, *, required: Literal[True] = ...) -> Decimal: ...
@overload
def _money(value: Any, field: str, *, required: bool) -> Decimal | None: ...
def _money(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: "Enter an amount."})
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: "Enter an amount in dollars, e.g. 25.00."}) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("100000000"):
        raise ValidationError({field: "Enter an amount from 0 to 99,999,999.99."})
    return amount.quantize(Decimal("0.01"))


def payer_create(*, actor: User, organization: Any, data: dict[str, Any],
                 request: HttpRequest | None = None) -> Payer:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, organization.pk)
    name = text(data.get("name"), "name", max_length=120, required=True)
    kind = data.get("kind")
    if kind not in PayerKind.values:
        raise ValidationError({"kind": "Choose Medicare, Medicaid plan, commercial or self-pay."})
    rule_set = data.get("rule_set") or {
        PayerKind.MEDICARE: ChargeRuleSet.MEDICARE_IOP, PayerKind.SELF_PAY: ChargeRuleSet.SELF_PAY,
    }.get(kind, ChargeRuleSet.PER_DIEM)
    if rule_set not in ChargeRuleSet.values:
        raise ValidationError({"rule_set": "Choose a charge rule set."})
    per_diem = text(data.get("per_diem_code"), "per_diem_code", max_length=5).upper()
    if rule_set == ChargeRuleSet.PER_DIEM and per_diem not in ("S9480", "H0015"):
        raise ValidationError({"per_diem_code": "A per-diem payer needs S9480 or H0015."})
    payer_id = text(data.get("payer_id"), "payer_id", max_length=80)
    if kind != PayerKind.SELF_PAY and len(payer_id) < 2:
        raise ValidationError({"payer_id": "Enter the payer id the clearinghouse uses."})
    minutes = data.get("min_minutes_per_day", 180)
    if not isinstance(minutes, int) or not 0 <= minutes <= 1440:
        raise ValidationError({"min_minutes_per_day": "Enter minutes from 0 to 1440."})
    if Payer.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": "A payer with this name exists."})
    with transaction.atomic():
        payer = Payer.objects.create(
            organization=organization, name=name, kind=kind, payer_id=payer_id,
            rule_set=rule_set, per_diem_code=per_diem, min_minutes_per_day=minutes,
            requires_authorization=bool(data.get("requires_authorization", kind != "self_pay")),
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.PAYER, object_id=payer.code,
                     organization=organization, request=request)
    return payer


def coverage_add(*, actor: User, participant: Participant, data: dict[str, Any],
                 request: HttpRequest | None = None) -> Coverage:
    """Add a coverage; two coverages of the same order may not overlap in time."""
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, participant.organization_id)
    payer = data.get("payer")
    if not isinstance(payer, Payer) or payer.organization_id != participant.organization_id:
        raise ValidationError({"payer": "Choose one of your organization's payers."})
    order = data.get("order", Coverage.Order.PRIMARY)
    if order not in Coverage.Order.values:
        raise ValidationError({"order": "Choose primary, secondary or tertiary."})
    effective = require_date(data.get("effective_on"), "effective_on")
    ends = require_date(data.get("ends_on"), "ends_on", required=False)
    if ends and effective and ends < effective:
        raise ValidationError({"ends_on": "The end date is before the effective date."})
    member_id = text(data.get("member_id"), "member_id", max_length=80)
    if payer.kind != PayerKind.SELF_PAY and not member_id:
        raise ValidationError({"member_id": "Enter the member id from the insurance card."})
    relationship = data.get("relationship") or Relationship.SELF
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": "Choose the subscriber's relationship."})
    sub_first = text(data.get("subscriber_first_name"), "subscriber_first_name", max_length=100)
    sub_last = text(data.get("subscriber_last_name"), "subscriber_last_name", max_length=100)
    if relationship != Relationship.SELF and not (sub_first and sub_last):
        raise ValidationError({"subscriber_last_name": "Name the subscriber when the participant "
                                                       "is not the subscriber."})
    overlapping = Coverage.objects.filter(participant=participant, order=order).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=effective))
    if ends:
        overlapping = overlapping.filter(effective_on__lte=ends)
    if overlapping.exists():
        raise ValidationError({"order": "Another coverage already has this order in these "
                                        "dates; end it first."})
    with transaction.atomic():
        coverage = Coverage.objects.create(
            participant=participant, payer=payer, order=order, member_id=member_id,
            group_number=text(data.get("group_number"), "group_number", max_length=50),
            subscriber_first_name=sub_first, subscriber_last_name=sub_last,
            subscriber_date_of_birth=require_date(data.get("subscriber_date_of_birth"),
                                                  "subscriber_date_of_birth", required=False),
            relationship=relationship, effective_on=effective, ends_on=ends,
            copay_per_day=_money(data.get("copay_per_day"), "copay_per_day", required=False),
            created_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.COVERAGE,
                     object_id=coverage.code, participant=participant, request=request)
    return coverage


def coverage_end(*, actor: User, coverage: Coverage, ends_on: Any, version: int,
                 request: HttpRequest | None = None) -> Coverage:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, coverage.participant.organization_id)
    day = require_date(ends_on, "ends_on")
    if day < coverage.effective_on:
        raise ValidationError({"ends_on": "The end date is before the effective date."})
    with transaction.atomic():
        previous = Coverage.objects.filter(pk=coverage.pk, version=version).values_list(
            "ends_on", flat=True).first()
        if not Coverage.objects.filter(pk=coverage.pk, version=version).update(
                ends_on=day, version=version + 1, changed_at=timezone.now()):
            raise Conflict("Someone changed this coverage; reload and try again.")
        # The end date it had before: FHIR's Coverage history (vread) rebuilds the earlier
        # version from it (openiop/fhir/history.py reads this exact wording).
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.COVERAGE,
                     object_id=coverage.code, participant=coverage.participant,
                     request=request,
                     reason=f"ended; end date was {previous.isoformat() if previous else 'none'}")
    coverage.refresh_from_db()
    return coverage


def authorization_add(*, actor: User, coverage: Coverage, data: dict[str, Any],
                      request: HttpRequest | None = None) -> Authorization:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, coverage.participant.organization_id)
    if coverage.payer.kind == PayerKind.SELF_PAY:
        raise InvalidTransition("Self-pay coverage does not take authorizations.")
    level = data.get("level_of_care", LevelOfCare.IOP)
    if level not in LevelOfCare.values:
        raise ValidationError({"level_of_care": "Choose a level of care."})
    unit = data.get("unit", Authorization.Unit.DAYS)
    if unit not in Authorization.Unit.values:
        raise ValidationError({"unit": "Choose days or sessions."})
    units = data.get("units_approved")
    if not isinstance(units, int) or not 1 <= units <= 366:
        raise ValidationError({"units_approved": "Enter the units approved, from 1 to 366."})
    starts = require_date(data.get("starts_on"), "starts_on")
    ends = require_date(data.get("ends_on"), "ends_on")
    if ends < starts:
        raise ValidationError({"ends_on": "The authorization ends before it starts."})
    review = require_date(data.get("review_on"), "review_on", required=False)
    if review and not starts <= review <= ends:
        raise ValidationError({"review_on": "The review date must fall inside the authorization."})
    reference = text(data.get("reference_number"), "reference_number", max_length=50,
                     required=True)
    with transaction.atomic():
        auth = Authorization.objects.create(
            coverage=coverage, level_of_care=level, unit=unit, units_approved=units,
            starts_on=starts, ends_on=ends, reference_number=reference, review_on=review,
            created_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.AUTHORIZATION,
                     object_id=auth.code, participant=coverage.participant, request=request)
    return auth


def financial_profile_set(*, actor: User, participant: Participant, household_size: Any,
                          annual_income: Any, verified_on: Any = None,
                          request: HttpRequest | None = None) -> FinancialProfile:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, participant.organization_id)
    if not isinstance(household_size, int) or not 1 <= household_size <= 20:
        raise ValidationError({"household_size": "Enter the household size, from 1 to 20."})
    income = _money(annual_income, "annual_income")
    with transaction.atomic():
        profile, _ = FinancialProfile.objects.update_or_create(
            participant=participant,
            defaults={"household_size": household_size, "annual_income": income,
                      "verified_on": require_date(verified_on, "verified_on", required=False),
                      "updated_by": actor},
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.FINANCIAL_PROFILE,
                     object_id=participant.code, participant=participant, request=request)
    return profile


def sliding_fee_schedule_set(*, actor: User, program: Any, full_fee_per_day: Any, tiers: Any,
                             guideline_year: int = fees.DEFAULT_GUIDELINE_YEAR,
                             request: HttpRequest | None = None) -> SlidingFeeSchedule:
    require_perm(actor, Perm.PROGRAM_MANAGE)
    same_org(actor, program.organization_id)
    if guideline_year not in fees.guideline_years():
        raise ValidationError({"guideline_year": "Choose a year whose HHS poverty guidelines "
                                                 f"are loaded: {fees.guideline_years()}."})
    full = _money(full_fee_per_day, "full_fee_per_day")
    problem = fees.validate_tiers(tiers)
    if problem:
        raise ValidationError({"tiers": problem})
    with transaction.atomic():
        schedule, _ = SlidingFeeSchedule.objects.update_or_create(
            program=program, defaults={"guideline_year": guideline_year,
                                       "full_fee_per_day": full, "tiers": tiers})
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SLIDING_FEE_SCHEDULE,
                     object_id=program.code, organization=program.organization, request=request)
    return schedule
