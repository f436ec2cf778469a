"""Dated sessions, bookings and attendance.

Weekly hours = sum of attended minutes of sessions that count toward hours
(docs/DEVELOPING.md, core model).
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from openiop.participants.models import Weekday

from .hours import ATTENDED_STATUSES


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
    template = models.ForeignKey(
        "scheduling.SessionTemplate", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="sessions",
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
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
            # Make-up offers: the next sessions of one kind in a program.
            models.Index(fields=["program", "kind", "starts_at"], name="session_program_kind_start"),
            # Note timeliness: sessions of a program that ended in a window.
            models.Index(fields=["program", "ends_at"], name="session_program_end"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The session must end after it starts."})

    @property
    def duration_minutes(self) -> int:
        # Real elapsed time: subtracting two datetimes with the same tzinfo would give the
        # wall-clock difference and be an hour off across a daylight-saving change.
        return int((self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)).total_seconds() // 60)

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

    # The statuses in which the person took part (and whose minutes count toward hours):
    # the one list, from the hour rules.
    ATTENDED: tuple[str, ...] = tuple(sorted(ATTENDED_STATUSES))

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


class SessionTemplate(models.Model):
    """A recurring slot of a track (fixed weekday and time) or a flexible appointment kind.

    Fixed templates generate dated Sessions; flexible ones (individual, family,
    medication management) tell the planner what to book and who may provide it.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey("care.Program", on_delete=models.CASCADE, related_name="session_templates")
    track = models.ForeignKey(
        "care.Track", null=True, blank=True, on_delete=models.CASCADE, related_name="session_templates"
    )
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=Weekday.choices, validators=[MaxValueValidator(6)],
        help_text="Monday = 0. Empty for a flexible appointment the planner places.",
    )
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(10), MaxValueValidator(600)],
        help_text="Length of a flexible appointment; fixed sessions take it from their times.",
    )
    counts_toward_hours = models.BooleanField(default=True)
    required_credentials = models.JSONField(
        default=list, blank=True,
        help_text="The facilitator must hold one of these, e.g. ['LMFT'] for family therapy.",
    )
    room = models.ForeignKey(
        "organizations.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    facilitator = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    capacity = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["program", "track", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__isnull=True) | Q(start_time__isnull=True)
                | Q(end_time__gt=F("start_time")),
                name="template_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_flexible(self) -> bool:
        return self.weekday is None

    def clean(self) -> None:
        fixed = [self.weekday is not None, self.start_time is not None, self.end_time is not None]
        if any(fixed) and not all(fixed):
            raise ValidationError({"weekday": "A fixed session needs a weekday, a start and an end "
                                              "time; leave all three empty for a flexible one."})
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The session must end after it starts."})
        creds = self.required_credentials
        if not isinstance(creds, list) or any(not isinstance(c, str) or not c for c in creds):
            raise ValidationError({"required_credentials": "List credentials as text, e.g. LMFT."})


class SiteClosure(models.Model):
    """A day a site is closed (holiday, weather): no sessions are generated on it."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="closures"
    )
    site = models.ForeignKey(
        "organizations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="closures",
        help_text="Empty: every site of the organization.",
    )
    date = models.DateField()
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "site", "date"], name="closure_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.date}"


class PlanRun(models.Model):
    """One "Plan next week" run: what the engine proposed, and whether it was applied."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPLIED = "applied", "Applied"
        SUPERSEDED = "superseded", "Superseded"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="plan_runs"
    )
    week_start = models.DateField(help_text="The Monday of the planned week.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    seed = models.PositiveIntegerField(default=2026)
    result = models.JSONField(default=dict, help_text="Proposed bookings, metrics, explanations.")
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan for week of {self.week_start}"

    @property
    def proposal(self) -> Any:
        """The stored result as a typed `scheduling.proposal.PlanProposal`."""
        from .proposal import PlanProposal

        return PlanProposal.from_json(self.result)


class AttendanceChange(models.Model):
    """A correction to recorded attendance (who changed what, from what, why)."""

    attendance = models.ForeignKey(Attendance, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    old_status = models.CharField(max_length=20)
    old_minutes = models.PositiveSmallIntegerField()
    new_status = models.CharField(max_length=20)
    new_minutes = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["changed_at"]

    def __str__(self) -> str:
        return f"{self.old_status} -> {self.new_status}"


class Notification(models.Model):
    """An in-app message to a participant about their schedule (never clinical content)."""

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", "Session cancelled"
        MAKEUP = "makeup", "Make-up session offered"
        CHANGED = "changed", "Schedule changed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="schedule_notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300)
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    alternatives = models.ManyToManyField(Session, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The participant's unread messages (chart tab, portal).
            models.Index(fields=["participant", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.message


class CalendarFeed(models.Model):
    """A secret, revocable iCalendar URL for a participant or a staff member."""

    token = models.CharField(max_length=64, unique=True)
    participant = models.ForeignKey(
        "participants.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds",
        help_text="A clinician's own calendar.",
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=False, user__isnull=True)
                | Q(participant__isnull=True, user__isnull=False),
                name="feed_for_participant_or_user",
            ),
        ]

    def __str__(self) -> str:
        return "calendar feed"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffHours(models.Model):
    """A weekly window when a staff member sees people (the planner books inside these).

    Staff without any window are taken as available Monday to Friday 8:00-20:00.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, validators=[MaxValueValidator(6)])
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["user", "weekday", "start_time"]
        verbose_name_plural = "staff hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="staff_hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class SessionReminder(models.Model):
    """That the day-before reminder of one booking was sent to one person (the participant's
    or a consenting family member's account). The unique key makes the periodic job send it
    once, however often it runs and however many workers run it."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "user"], name="session_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"Reminder of booking {self.booking_id} to user {self.user_id}"
