"""Payers, a participant's coverages in order, authorizations and the self-pay schedule."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from openiop.care.levels import LevelOfCare


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid plan"
    COMMERCIAL = "commercial", "Commercial"
    SELF_PAY = "self_pay", "Self-pay"


class ChargeRuleSet(models.TextChoices):
    """Which rule set in data/charge_rules.json turns a day's services into charge lines."""

    MEDICARE_IOP = "medicare_iop", "Medicare IOP (institutional, per service)"
    PER_DIEM = "per_diem", "Per diem (one line a day)"
    PROFESSIONAL = "professional", "Professional services only"
    SELF_PAY = "self_pay", "Self-pay (sliding fee)"


class Payer(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="payers"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=PayerKind.choices)
    payer_id = models.CharField(
        "Payer id", max_length=80, blank=True,
        help_text="The electronic payer id the clearinghouse routes on (837 loop 2010BB NM109).",
    )
    rule_set = models.CharField(max_length=20, choices=ChargeRuleSet.choices)
    per_diem_code = models.CharField(
        max_length=5, blank=True, help_text="S9480 (mental health) or H0015 (substance use)."
    )
    min_minutes_per_day = models.PositiveSmallIntegerField(
        default=180, validators=[MaxValueValidator(24 * 60)],
        help_text="A per-diem day counts only when attended minutes reach this.",
    )
    requires_authorization = models.BooleanField(default=True)
    rates = models.JSONField(default=dict, blank=True,
                             help_text="Charge per unit by HCPCS/CPT code; missing codes use the "
                                       "organization's standard charges.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="billing_payer_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Relationship(models.TextChoices):
    """Subscriber relationship, X12 individual relationship codes (837 SBR02 / PAT01)."""

    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other relationship"


class Coverage(models.Model):
    class Order(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="coverages"
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    order = models.PositiveSmallIntegerField(choices=Order.choices, default=Order.PRIMARY)
    member_id = models.CharField(max_length=80, blank=True)
    group_number = models.CharField(max_length=50, blank=True)
    subscriber_first_name = models.CharField(max_length=100, blank=True)
    subscriber_last_name = models.CharField(max_length=100, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    relationship = models.CharField(max_length=2, choices=Relationship.choices,
                                    default=Relationship.SELF)
    effective_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    copay_per_day = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True,
        help_text="The participant's share of a program day under this plan, if known.",
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="The latest change after it was added.")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["order", "-effective_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("effective_on")),
                name="billing_coverage_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["participant", "order"], name="billing_cov_participant")]

    def __str__(self) -> str:
        return f"{self.payer.name} ({self.get_order_display().lower()})"

    def active_on(self, day: object) -> bool:
        return self.effective_on <= day and (self.ends_on is None or day <= self.ends_on)


class Authorization(models.Model):
    """A payer's approval of a level of care for a number of units between two dates."""

    class Unit(models.TextChoices):
        DAYS = "days", "Days"
        SESSIONS = "sessions", "Sessions"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DENIED = "denied", "Denied"
        CANCELLED = "cancelled", "Cancelled"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="authorizations")
    level_of_care = models.CharField(max_length=3, choices=LevelOfCare.choices,
                                     default=LevelOfCare.IOP)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.DAYS)
    units_approved = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference_number = models.CharField(max_length=50)
    review_on = models.DateField("Concurrent review date", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")),
                                   name="billing_authorization_ends_after_start"),
        ]
        indexes = [models.Index(fields=["coverage", "starts_on"], name="billing_auth_cov_start")]

    def __str__(self) -> str:
        return f"{self.reference_number} ({self.starts_on}-{self.ends_on})"

    def covers(self, day: object) -> bool:
        return self.status == self.Status.ACTIVE and self.starts_on <= day <= self.ends_on


class FinancialProfile(models.Model):
    """Household size and income for the self-pay sliding fee (as reported by the participant)."""

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.CASCADE, related_name="financial_profile"
    )
    household_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    annual_income = models.DecimalField(max_digits=10, decimal_places=2,
                                        validators=[MinValueValidator(Decimal("0"))])
    verified_on = models.DateField(null=True, blank=True)
    updated_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"household of {self.household_size}"


class SlidingFeeSchedule(models.Model):
    """A program's self-pay fee per program day by income as a percent of the poverty line.

    `tiers` is a list of {"up_to_percent": int | null, "fee_per_day": "decimal"} in rising
    order; the last tier (null) applies above every bound. The poverty line comes from the
    HHS guidelines for `guideline_year` (data/poverty_guidelines.json).
    """

    program = models.OneToOneField("care.Program", on_delete=models.CASCADE,
                                   related_name="sliding_fee_schedule")
    guideline_year = models.PositiveSmallIntegerField()
    full_fee_per_day = models.DecimalField(max_digits=8, decimal_places=2)
    tiers = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sliding fee for {self.program_id}"


class AuthorizationNotice(models.Model):
    """That the billing office was told once about an authorization crossing a threshold.

    `basis` is what the threshold was measured against (the end date for `ends_soon`, the
    approved units for `units_80`): an authorization extended or given more units is a new
    question and is told about again. The unique key makes the periodic job idempotent.
    """

    class Kind(models.TextChoices):
        ENDS_SOON = "ends_soon", "Ends soon"
        UNITS_80 = "units_80", "80 % of units used"

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE,
                                      related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    basis = models.CharField(max_length=20)
    notified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authorization", "kind", "basis"],
                                    name="billing_auth_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice for authorization {self.authorization_id}"
