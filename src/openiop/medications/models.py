"""Medication lists, orders and their change history, monitoring and administrations.

The catalog, interaction rules, dose guards and screen panel are data files
(`data/*.json`, each entry cited); rows here refer to catalog entries by key.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

USER = settings.AUTH_USER_MODEL


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    G = "g", "g"
    ML = "mL", "mL"
    TABLET = "tablet", "tablet(s)"
    CAPSULE = "capsule", "capsule(s)"
    FILM = "film", "film(s)"
    PATCH = "patch", "patch(es)"
    SPRAY = "spray", "spray(s)"
    PUFF = "puff", "puff(s)"
    PIECE = "piece", "piece(s)"
    UNIT = "unit", "unit(s)"


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    SUBLINGUAL = "sublingual", "Sublingual"
    BUCCAL = "buccal", "Buccal"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous"
    INTRAVENOUS = "intravenous", "Intravenous"
    TRANSDERMAL = "transdermal", "Transdermal"
    NASAL = "nasal", "Nasal"
    INHALED = "inhaled", "Inhaled"


# Routes whose administration record needs the body site and lot number.
INJECTION_ROUTES = frozenset({"intramuscular", "subcutaneous", "intravenous"})


class Frequency(models.TextChoices):
    ONCE = "once", "Once"
    DAILY = "daily", "Once daily"
    BID = "bid", "Twice daily"
    TID = "tid", "Three times daily"
    QID = "qid", "Four times daily"
    QHS = "qhs", "At bedtime"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "q4w", "Every 4 weeks"
    PRN = "prn", "As needed"


class UseDisorder(models.Model):
    """A substance use disorder on the participant's medication problem list.

    This is how OpenIOP records opioid use disorder (substance=opioid) for the
    naloxone-on-hand check: a clinician notes it, with the date; resolving it sets
    `resolved_on` (history is kept, never deleted).
    """

    class Substance(models.TextChoices):
        OPIOID = "opioid", "Opioid use disorder"
        ALCOHOL = "alcohol", "Alcohol use disorder"
        TOBACCO = "tobacco", "Tobacco use disorder"
        STIMULANT = "stimulant", "Stimulant use disorder"
        CANNABIS = "cannabis", "Cannabis use disorder"
        SEDATIVE = "sedative", "Sedative, hypnotic or anxiolytic use disorder"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="use_disorders"
    )
    substance = models.CharField(max_length=20, choices=Substance.choices)
    noted_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "substance"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "substance"], condition=Q(resolved_on__isnull=True),
                name="one_open_use_disorder_per_substance",
            ),
        ]
        indexes = [
            # Naloxone gaps: everyone with an open opioid use disorder.
            models.Index(fields=["substance", "resolved_on"], name="usedisorder_open_idx"),
        ]

    def __str__(self) -> str:
        return self.get_substance_display()


class MedicationOrder(models.Model):
    """One medication on the participant's list: a clinic order or an outside prescription.

    The row holds the current dose; every change is a MedicationChange row (the history).
    """

    class Source(models.TextChoices):
        CLINIC = "clinic", "Ordered by this clinic"
        OUTSIDE = "outside", "Outside prescriber"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STOPPED = "stopped", "Stopped"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="medication_orders"
    )
    class Coding(models.TextChoices):
        CATALOG = "catalog", "Chosen from the catalog"
        MATCHED = "matched", "Typed, matched to the catalog"
        UNCODED = "uncoded", "Not in the catalog (not checked for interactions)"

    catalog_key = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=200)
    rxnorm = models.CharField("RxNorm code", max_length=20, blank=True)
    coding = models.CharField(
        max_length=10, choices=Coding.choices, default=Coding.UNCODED,
        help_text="How the order is coded: a catalog entry fixes ingredient, RxNorm code and "
                  "class; an uncoded order is not checked for interactions or dose limits.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINIC)
    prescriber = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The clinic prescriber (clinic orders).",
    )
    outside_prescriber = models.CharField(
        max_length=200, blank=True, help_text="Name and practice of the outside prescriber."
    )
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    route = models.CharField(max_length=20, choices=Route.choices)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    max_doses_per_day = models.PositiveSmallIntegerField(
        "Maximum doses per day", null=True, blank=True,
        help_text="For as-needed orders: the daily total is checked at this many doses.")
    quantity = models.PositiveIntegerField(null=True, blank=True)
    refills = models.PositiveSmallIntegerField(default=0)
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    indication = models.CharField(max_length=200, blank=True)
    contains_alcohol = models.BooleanField(
        "Preparation contains alcohol", default=False,
        help_text="e.g. an elixir, tincture or some oral solutions (checked against disulfiram).",
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-status", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(dose__gt=0), name="medorder_dose_positive"),
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(stop_date__gte=F("start_date")),
                name="medorder_stop_after_start",
            ),
            models.CheckConstraint(
                condition=Q(source="outside") | Q(prescriber__isnull=False),
                name="medorder_clinic_order_has_prescriber",
            ),
        ]
        indexes = [
            # The medication list of one participant, active first.
            models.Index(fields=["participant", "status"], name="medorder_participant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.dose.normalize():f} {self.unit}"

    @property
    def dose_label(self) -> str:
        return f"{self.dose.normalize():f} {self.get_unit_display()}"

    @property
    def sig(self) -> str:
        sig = f"{self.dose_label} {self.get_route_display().lower()} {self.get_frequency_display().lower()}"
        if self.frequency == Frequency.PRN and self.max_doses_per_day:
            sig += f", at most {self.max_doses_per_day} a day"
        return sig

    @property
    def checked_for_interactions(self) -> bool:
        """False for a free-text order that matched no catalog entry."""
        return bool(self.catalog_key)

    @property
    def needs_site_and_lot(self) -> bool:
        return self.route in INJECTION_ROUTES

    @property
    def prescriber_label(self) -> str:
        if self.source == self.Source.OUTSIDE:
            return self.outside_prescriber or "Outside prescriber"
        return str(self.prescriber) if self.prescriber_id else ""


class MedicationChange(models.Model):
    """One entry in an order's history: start, dose or schedule change, or stop."""

    class Kind(models.TextChoices):
        START = "start", "Started"
        ADJUST = "adjust", "Adjusted"
        STOP = "stop", "Stopped"

    class Reason(models.TextChoices):
        NEW = "new", "New medication"
        RECONCILED = "reconciled", "Recorded at reconciliation"
        SIDE_EFFECT = "side_effect", "Side effect"
        NOT_EFFECTIVE = "not_effective", "Not effective"
        ADHERENCE = "adherence", "Adherence"
        PREFERENCE = "participant_preference", "Participant preference"
        TITRATION = "dose_titration", "Dose titration"
        COMPLETED = "completed", "Course completed"
        NO_LONGER_TAKING = "no_longer_taking", "No longer taking"

    # Reasons a prescriber may give for an adjustment.
    ADJUST_REASONS = (
        Reason.SIDE_EFFECT, Reason.NOT_EFFECTIVE, Reason.ADHERENCE, Reason.PREFERENCE,
        Reason.TITRATION,
    )

    order = models.ForeignKey(MedicationOrder, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    effective_date = models.DateField()
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    previous_dose = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    override_reason = models.CharField(
        max_length=500, blank=True,
        help_text="The prescriber's documented reason for a dose above the daily maximum.")
    changed_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "effective_date", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_date}"


class Reconciliation(models.Model):
    """A medication reconciliation at a transition, with who did it and when."""

    class Point(models.TextChoices):
        ADMISSION = "admission", "Admission"
        STEP_DOWN = "step_down", "Step-down"
        DISCHARGE = "discharge", "Discharge"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="med_reconciliations"
    )
    point = models.CharField(max_length=20, choices=Point.choices)
    performed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField()
    note = models.TextField(blank=True)
    decisions = models.JSONField(
        default=list, help_text="[{order, name, sig, decision}] as reviewed at the time."
    )

    class Meta:
        ordering = ["participant", "-performed_at"]

    def __str__(self) -> str:
        return f"{self.get_point_display()} reconciliation"


class AdherenceCheck(models.Model):
    class Reporter(models.TextChoices):
        STAFF = "staff", "Recorded by staff"
        PARTICIPANT = "participant", "Reported by the participant"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="adherence_checks"
    )
    order = models.ForeignKey(
        MedicationOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_on = models.DateField()
    doses_missed = models.PositiveSmallIntegerField(help_text="Doses missed in the past 7 days.")
    reporter = models.CharField(max_length=12, choices=Reporter.choices)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-checked_on", "-pk"]
        indexes = [models.Index(fields=["participant", "checked_on"], name="adherence_pt_day")]

    def __str__(self) -> str:
        return f"Adherence {self.checked_on}: {self.doses_missed} missed"


class SideEffectReport(models.Model):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        LIFE_THREATENING = "life_threatening", "Life-threatening"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="side_effects"
    )
    order = models.ForeignKey(
        MedicationOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effect = models.CharField(max_length=200)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    onset_on = models.DateField()
    action = models.CharField("Action taken", max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-onset_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.effect} ({self.severity})"


class DrugScreen(models.Model):
    class Specimen(models.TextChoices):
        URINE = "urine", "Urine"
        ORAL_FLUID = "oral_fluid", "Oral fluid"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="drug_screens"
    )
    collected_on = models.DateField()
    specimen = models.CharField(max_length=12, choices=Specimen.choices, default=Specimen.URINE)
    has_unexpected = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-collected_on", "-pk"]
        indexes = [
            # The dashboard's recent unexpected screens.
            models.Index(fields=["has_unexpected", "collected_on"], name="screen_unexpected_idx"),
        ]

    def __str__(self) -> str:
        return f"Drug screen {self.collected_on}"


class DrugScreenResult(models.Model):
    class Interpretation(models.TextChoices):
        EXPECTED_POSITIVE = "expected_positive", "Expected positive (prescribed)"
        EXPECTED_NEGATIVE = "expected_negative", "Expected negative"
        UNEXPECTED_POSITIVE = "unexpected_positive", "Unexpected positive (not prescribed)"
        UNEXPECTED_NEGATIVE = "unexpected_negative", "Prescribed but absent"
        ASSAY_MAY_MISS = "assay_may_miss", "Negative, but the screen often misses this medication"

    screen = models.ForeignKey(DrugScreen, on_delete=models.CASCADE, related_name="results")
    substance = models.CharField(max_length=30)
    positive = models.BooleanField()
    interpretation = models.CharField(max_length=25, choices=Interpretation.choices)
    caveat = models.CharField(
        max_length=1000, blank=True,
        help_text="What the immunoassay misses or cross-reacts with, given what was prescribed.")

    class Meta:
        ordering = ["screen", "substance"]
        constraints = [
            models.UniqueConstraint(fields=["screen", "substance"], name="one_result_per_substance"),
        ]

    def __str__(self) -> str:
        return f"{self.substance}: {'positive' if self.positive else 'negative'}"

    @property
    def unexpected(self) -> bool:
        return self.interpretation.startswith("unexpected")


class MedicationReview(models.Model):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="medication_reviews"
    )
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["participant", "-reviewed_on"]
        indexes = [models.Index(fields=["participant", "reviewed_on"], name="medreview_pt_day")]

    def __str__(self) -> str:
        return f"Medication review {self.reviewed_on}"


class NaloxoneCheck(models.Model):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="naloxone_checks"
    )
    checked_on = models.DateField()
    on_hand = models.BooleanField()
    kit_dispensed = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-checked_on", "-pk"]
        indexes = [models.Index(fields=["participant", "checked_on"], name="naloxone_pt_day")]

    def __str__(self) -> str:
        return f"Naloxone {'on hand' if self.on_hand else 'not on hand'} {self.checked_on}"


class Administration(models.Model):
    """An in-clinic dose given by a nurse (e.g. extended-release naltrexone)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(
        MedicationOrder, on_delete=models.PROTECT, related_name="administrations"
    )
    administered_at = models.DateTimeField()
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    route = models.CharField(max_length=20, choices=Route.choices)
    # Required for injections only (services check by route).
    site = models.CharField("Body site", max_length=100, blank=True)
    lot = models.CharField("Lot number", max_length=60, blank=True)
    expires_on = models.DateField("Lot expiration", null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    administered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "-administered_at"]
        constraints = [
            models.CheckConstraint(condition=Q(dose__gt=0), name="administration_dose_positive"),
        ]

    def __str__(self) -> str:
        return f"Dose given {self.administered_at:%Y-%m-%d %H:%M}"


class InteractionAcknowledgement(models.Model):
    """A prescriber's acknowledgement of an interaction warning, with the reason."""

    order = models.ForeignKey(
        MedicationOrder, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    rule_id = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    medications = models.CharField(max_length=500)
    reason = models.CharField(max_length=500)
    acknowledged_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "-acknowledged_at"]

    def __str__(self) -> str:
        return f"Acknowledged {self.rule_id}"



class Allergy(models.Model):
    """A drug allergy or intolerance on the participant's chart.

    The substance is a catalog entry (its ingredients are matched) or free text (matched to
    the catalog by name when possible); `drug_class` optionally extends the match to a
    whole class (a catalog flag such as "opioid" or "benzodiazepine").
    """

    class Kind(models.TextChoices):
        ALLERGY = "allergy", "Allergy"
        INTOLERANCE = "intolerance", "Intolerance"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "unknown", "Unknown"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        RESOLVED = "resolved", "Resolved"
        ENTERED_IN_ERROR = "entered_in_error", "Entered in error"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="allergies"
    )
    catalog_key = models.CharField(max_length=60, blank=True)
    substance = models.CharField(max_length=200)
    drug_class = models.CharField("Whole class", max_length=40, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ALLERGY)
    reaction = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    noted_on = models.DateField()
    version = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "status", "substance"]
        indexes = [models.Index(fields=["participant", "status"], name="allergy_pt_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.substance}"


class AllergyStatement(models.Model):
    """An explicit, dated "no known drug allergies" statement (history is kept)."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="allergy_statements"
    )
    stated_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-stated_on", "-pk"]

    def __str__(self) -> str:
        return f"No known drug allergies ({self.stated_on})"
