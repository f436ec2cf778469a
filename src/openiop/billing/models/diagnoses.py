"""Diagnoses on the chart (ICD-10-CM), with the code-set release they were coded from."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class DiagnosisRank(models.TextChoices):
    PRINCIPAL = "principal", "Principal"
    SECONDARY = "secondary", "Secondary"


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Diagnosis(models.Model):
    """One ICD-10-CM code on a participant's chart (FHIR Condition, category encounter-diagnosis)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="diagnoses"
    )
    icd_code = models.CharField("ICD-10-CM code", max_length=8, help_text="With the dot, e.g. F33.1.")
    description = models.CharField(max_length=300)
    code_set_version = models.CharField(
        max_length=60, help_text="The ICD-10-CM release the code was chosen from."
    )
    billable = models.BooleanField(
        help_text="A leaf code (no more specific child) in that release: only these go on claims."
    )
    rank = models.CharField(max_length=10, choices=DiagnosisRank.choices,
                            default=DiagnosisRank.SECONDARY)
    status = models.CharField(max_length=20, choices=DiagnosisStatus.choices,
                              default=DiagnosisStatus.ACTIVE)
    onset_on = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="The latest change after recording (rank or status).")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["rank", "recorded_at"]
        verbose_name_plural = "diagnoses"
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=Q(rank="principal", status="active"),
                name="billing_one_active_principal_diagnosis",
            ),
            models.UniqueConstraint(
                fields=["participant", "icd_code"], condition=Q(status="active"),
                name="billing_diagnosis_once_while_active",
            ),
        ]
        indexes = [models.Index(fields=["participant", "status"], name="billing_dx_participant")]

    def __str__(self) -> str:
        return f"{self.icd_code} {self.description}"

    @property
    def is_active(self) -> bool:
        return self.status == DiagnosisStatus.ACTIVE
