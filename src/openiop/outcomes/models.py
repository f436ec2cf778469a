"""Outcome measures: each completed instrument, stored with its item answers."""

from __future__ import annotations

import uuid

from django.db import models


class MeasureResponse(models.Model):
    """One completed instrument (FHIR QuestionnaireResponse + score Observation).

    Scored by `openiop.intake.instruments.score` in `outcomes.services.measure_record`;
    `answers` keeps every item so the total can be re-derived and audited.
    """

    class Context(models.TextChoices):
        INTAKE = "intake", "Intake"
        WEEKLY = "weekly", "Weekly check-in"
        DISCHARGE = "discharge", "Discharge"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Source(models.TextChoices):
        STAFF = "staff", "Entered by staff"
        PORTAL = "portal", "Participant portal"
        SELF_CHECK = "self_check", "Public self-check"

    class Status(models.TextChoices):
        FINAL = "final", "Final"
        ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
        # An incomplete form kept because an answered item raised a safety flag (FHIR
        # Observation.status "preliminary"): no total, never in charts or outcome rules.
        PRELIMINARY = "preliminary", "Partial (not all items answered)"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="measure_responses"
    )
    episode = models.ForeignKey(
        "care.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT,
        related_name="measure_responses",
    )
    instrument = models.CharField(max_length=20)
    context = models.CharField(max_length=20, choices=Context.choices, default=Context.WEEKLY)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.FINAL)
    answers = models.JSONField(help_text="Item id -> scored answer value, e.g. {'q1': 2, ...}.")
    sex = models.CharField(max_length=10, blank=True, help_text="Sets the AUDIT-C cut-off.")
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=30)
    flags = models.JSONField(default=list, blank=True)
    safety_flag = models.BooleanField(default=False)
    completed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "instrument", "completed_at"]
        indexes = [
            # The chart's series: one participant's responses to one instrument, in time order.
            models.Index(fields=["participant", "instrument", "completed_at"],
                         name="measure_participant_series"),
            # Program dashboards: responses of a set of episodes.
            models.Index(fields=["episode", "instrument"], name="measure_episode_instr"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} on {self.completed_at:%Y-%m-%d}"

    @property
    def instrument_name(self) -> str:
        from openiop.intake.instruments import INSTRUMENTS

        inst = INSTRUMENTS.get(self.instrument)
        return inst.name if inst else self.instrument

    @property
    def band_label(self) -> str:
        from openiop.intake.instruments import INSTRUMENTS

        if self.status == self.Status.PRELIMINARY:
            return str(self.Status.PRELIMINARY.label)
        try:
            return INSTRUMENTS[self.instrument].band(self.band).label
        except KeyError:
            return self.band
