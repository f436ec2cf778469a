"""Dated sessions, bookings and attendance (the scheduling issue extends this app).

Weekly hours = sum of attended minutes of sessions that count toward hours
(ARCHITECTURE.md, core model).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class SessionKind(models.TextChoices):
    GROUP = "group", "Group therapy"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    SKILLS = "skills", "Skills group"
    INDIVIDUAL = "individual", "Individual therapy"
    FAMILY = "family", "Family session"
    MEDICATION = "medication", "Medication management"
    MINDFULNESS = "mindfulness", "Mindfulness"
    YOGA = "yoga", "Yoga"
    ART = "art", "Art therapy"
    EXERCISE = "exercise", "Exercise"


GROUP_KINDS = frozenset({"group", "psychoeducation", "skills", "mindfulness", "yoga", "art", "exercise"})
HOLISTIC_KINDS = frozenset({"mindfulness", "yoga", "art", "exercise"})
APPOINTMENT_KINDS = frozenset({"individual", "family", "medication"})


class Session(models.Model):
    """A dated occurrence of therapy, education or a holistic activity."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey("care.Program", on_delete=models.PROTECT, related_name="sessions")
    track = models.ForeignKey(
        "care.Track", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    site = models.ForeignKey("organizations.Site", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "organizations.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    facilitator = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="facilitated_sessions"
    )
    counts_toward_hours = models.BooleanField(default=True)
    capacity = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_end_after_start"
            ),
        ]
        indexes = [
            # Week grids and hour totals: sessions of a program in a date range.
            models.Index(fields=["program", "starts_at"], name="session_program_start"),
            models.Index(fields=["facilitator", "starts_at"], name="session_facilitator_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The session must end after it starts."})

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS


class Booking(models.Model):
    """A participant's place in a session."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="bookings")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="bookings"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    pinned = models.BooleanField(
        default=False, help_text="Set by hand; re-planning keeps it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="booking_unique_per_session"
            ),
        ]
        indexes = [
            # A participant's schedule and weekly hours.
            models.Index(fields=["participant", "status"], name="booking_participant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.session_id}"


class Attendance(models.Model):
    """What happened to a booking: present, late, left early, absent, excused."""

    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        LATE = "late", "Late"
        LEFT_EARLY = "left_early", "Left early"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(max_length=20, choices=Status.choices)
    minutes_attended = models.PositiveSmallIntegerField(default=0)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    note = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "attendance"

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.minutes_attended} min)"

    @property
    def attended(self) -> bool:
        return self.status in (self.Status.PRESENT, self.Status.LATE, self.Status.LEFT_EARLY)
