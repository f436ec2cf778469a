"""Charges, claims and their lines, 837 batches, 835 remittances and postings."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .certification import (
    RECERT_DEFAULT_DAYS,
    RECERT_MAX_DAYS,
    RECERT_MAX_MESSAGE,
    RECERT_MIN_MESSAGE,
    RECERT_RANGE_MESSAGE,
)

MONEY = {"max_digits": 10, "decimal_places": 2, "default": Decimal("0.00")}


class ClaimType(models.TextChoices):
    INSTITUTIONAL = "I", "Institutional (837I)"
    PROFESSIONAL = "P", "Professional (837P)"


class BillingProfile(models.Model):
    """The organization as a billing provider and X12 submitter (one per organization)."""

    class FacilityType(models.TextChoices):
        # Type of bill, first two digits (facility + classification), NUBC UB-04 manual.
        HOSPITAL_OUTPATIENT = "13", "Hospital outpatient (13x)"
        CMHC = "76", "Community mental health center (76x)"

    organization = models.OneToOneField("organizations.Organization", on_delete=models.CASCADE,
                                        related_name="billing_profile")
    legal_name = models.CharField(max_length=60)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField("EIN", max_length=9)
    taxonomy = models.CharField(max_length=10, default="261QM0801X",
                                help_text="Mental health clinic/center taxonomy code.")
    facility_type = models.CharField(max_length=2, choices=FacilityType.choices,
                                     default=FacilityType.HOSPITAL_OUTPATIENT)
    address1 = models.CharField(max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=9, help_text="Nine digits for the billing provider.")
    submitter_id = models.CharField(max_length=15)
    receiver_id = models.CharField(max_length=15, default="CLEARINGHOUSE")
    receiver_name = models.CharField(max_length=60, default="Clearinghouse")
    contact_phone = models.CharField(max_length=10)
    attending = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The physician named as attending on institutional claims (their NPI).",
    )
    iop_recertification_days = models.PositiveSmallIntegerField(
        "Medicare IOP recertification interval (days)", default=RECERT_DEFAULT_DAYS,
        validators=[MinValueValidator(1, message=RECERT_MIN_MESSAGE),
                    MaxValueValidator(RECERT_MAX_DAYS, message=RECERT_MAX_MESSAGE)],
        help_text="Days from admission to the first Medicare IOP recertification, and from "
                  "each signed recertification to the next. Medicare requires recertification "
                  "no less often than every other month (42 CFR 424.24(d); Social Security Act "
                  "§1835(a)(2)(F) as amended by the Consolidated Appropriations Act, 2023, "
                  "§4124; CY 2024 OPPS/ASC final rule, 88 FR 81540): 60 days by default, "
                  f"shorter if the program wants, never more than {RECERT_MAX_DAYS}.",
    )
    standard_rates = models.JSONField(default=dict, blank=True,
                                      help_text="The clinic's charge per unit by code.")
    interchange_counter = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(iop_recertification_days__gte=1,
                            iop_recertification_days__lte=RECERT_MAX_DAYS),
                name="billing_profile_recert_days_range",
                violation_error_message=RECERT_RANGE_MESSAGE),
        ]

    def __str__(self) -> str:
        return self.legal_name


class Charge(models.Model):
    """One billable line made from attendance and a signed note."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "On a claim"
        VOID = "void", "Void"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT,
                                    related_name="charges")
    coverage = models.ForeignKey("billing.Coverage", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="charges")
    session = models.ForeignKey("scheduling.Session", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey("clinical.Note", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    service_date = models.DateField()
    claim_type = models.CharField(max_length=1, choices=ClaimType.choices)
    revenue_code = models.CharField(max_length=4, blank=True)
    hcpcs = models.CharField("HCPCS/CPT", max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    units = models.PositiveSmallIntegerField(default=1)
    minutes = models.PositiveSmallIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    rule = models.CharField(max_length=80, help_text="The rule that made this line.")
    rendering_provider = models.ForeignKey("accounts.User", null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    dedupe_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_date", "pk"]
        indexes = [
            models.Index(fields=["organization", "status", "service_date"], name="billing_charge_org"),
            models.Index(fields=["participant", "service_date"], name="billing_charge_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.hcpcs} on {self.service_date}"


class ClaimStatus(models.TextChoices):
    HELD = "held", "Held"
    READY = "ready", "Ready"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    PARTIAL = "partial", "Partly paid"
    DENIED = "denied", "Denied"
    VOID = "void", "Void"


class ClaimBatch(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    claim_type = models.CharField(max_length=1, choices=ClaimType.choices)
    control_number = models.PositiveIntegerField()
    content = models.TextField()
    claim_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"837{self.claim_type} batch {self.control_number}"


class Claim(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT,
                                    related_name="claims")
    coverage = models.ForeignKey("billing.Coverage", on_delete=models.PROTECT, related_name="claims")
    claim_type = models.CharField(max_length=1, choices=ClaimType.choices)
    control_number = models.CharField(
        max_length=20, unique=True, help_text="Patient control number (837 CLM01, 835 CLP01)."
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.HELD)
    holds = models.JSONField(default=list, blank=True,
                             help_text="Why the scrubber held it: [{code, message}].")
    condition_codes = models.JSONField(default=list, blank=True)
    diagnosis_codes = models.JSONField(default=list, blank=True,
                                       help_text="Principal first, as scrubbed.")
    total_charge = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)
    adjustment_amount = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY)
    batch = models.ForeignKey(ClaimBatch, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="claims")
    sent_on = models.DateField(null=True, blank=True)
    scrubbed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "pk"]
        indexes = [
            models.Index(fields=["organization", "status"], name="billing_claim_org_status"),
            models.Index(fields=["participant", "period_start"], name="billing_claim_participant"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.control_number}"

    @property
    def balance(self) -> Decimal:
        return self.total_charge - self.paid_amount - self.adjustment_amount


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, related_name="claim_line")
    line_number = models.PositiveSmallIntegerField()
    service_date = models.DateField()
    revenue_code = models.CharField(max_length=4, blank=True)
    hcpcs = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    units = models.PositiveSmallIntegerField(default=1)
    amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="billing_line_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}/{self.line_number} {self.hcpcs}"


class Remittance(models.Model):
    """One imported 835 payment (BPR/TRN), kept with its raw text."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    payer = models.ForeignKey("billing.Payer", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="remittances")
    payer_name = models.CharField(max_length=60)
    trace_number = models.CharField(max_length=50)
    payment_date = models.DateField()
    total_paid = models.DecimalField(**MONEY)
    raw = models.TextField()
    posted_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-payment_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "trace_number"],
                                    name="billing_remittance_trace_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.trace_number}"


class ClaimPayment(models.Model):
    """One CLP loop of an 835: what the payer decided about one claim."""

    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="payments")
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="payments")
    control_number = models.CharField(max_length=38)
    status_code = models.CharField(max_length=2, help_text="CLP02 claim status code.")
    charge_amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY)
    payer_claim_number = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Payment on {self.control_number}"


class Adjustment(models.Model):
    """A CAS adjustment (group + CARC + amount), on the claim or on one line, with RARCs."""

    payment = models.ForeignKey(ClaimPayment, on_delete=models.CASCADE, related_name="adjustments")
    claim_line = models.ForeignKey(ClaimLine, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="adjustments")
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5)
    amount = models.DecimalField(**MONEY)
    remark_codes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(group_code__in=["CO", "PR", "OA", "PI", "CR"]),
                                   name="billing_adjustment_group_code"),
        ]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount}"
