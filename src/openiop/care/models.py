"""Programs, tracks, episodes of care and enrollments."""

from __future__ import annotations

import uuid
from datetime import time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from . import program_settings
from .levels import DEFAULT_WEEKLY_MINIMUM_HOURS, LevelOfCare, Population
from .program_settings import ProgramSettings


class Focus(models.TextChoices):
    MENTAL_HEALTH = "mh", "Mental health"
    SUBSTANCE_USE = "su", "Substance use"
    CO_OCCURRING = "co", "Co-occurring"


class NoteFormat(models.TextChoices):
    DAP = "DAP", "DAP (data, assessment, plan)"
    BIRP = "BIRP", "BIRP (behavior, intervention, response, plan)"
    SOAP = "SOAP", "SOAP (subjective, objective, assessment, plan)"
    NARRATIVE = "NARRATIVE", "Narrative"


class Program(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="programs"
    )
    site = models.ForeignKey("organizations.Site", on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    population = models.CharField(max_length=20, choices=Population.choices)
    focus = models.CharField(max_length=2, choices=Focus.choices)
    level_of_care = models.CharField(
        max_length=3, choices=LevelOfCare.choices, default=LevelOfCare.IOP
    )
    weekly_hour_minimum = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("60"))],
        help_text="Defaults to 9 for adults and 6 for adolescents (ASAM 2.1).",
    )
    note_format = models.CharField(
        max_length=10, choices=NoteFormat.choices, default=NoteFormat.DAP
    )
    typical_length_weeks = models.PositiveSmallIntegerField(default=8)
    holistic_counts_toward_hours = models.BooleanField(
        default=True, help_text="Mindfulness, yoga, art and exercise count toward weekly hours."
    )
    is_published = models.BooleanField(
        default=True, help_text="Listed in the public program finder."
    )
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per-program rules: note timeliness, review cadences, attendance policy, "
        "the C-SSRS window before a level-of-care decision (cssrs_window_days).",
    )

    class Meta:
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if self.weekly_hour_minimum is None:
            self.weekly_hour_minimum = DEFAULT_WEEKLY_MINIMUM_HOURS[self.population]
        super().save(*args, **kwargs)

    @property
    def typed_settings(self) -> ProgramSettings:
        """The program's settings, validated, with their defaults (care.program_settings)."""
        return program_settings.for_program(self).settings

    def setting(self, key: str, default: Any = None) -> Any:
        """One setting as JSON: the resolved value of a declared setting (its default when
        unset or invalid), else what is stored under `key`, else `default`. Prefer
        `typed_settings`."""
        resolved = program_settings.for_program(self).settings.model_dump(mode="json")
        if key in resolved:
            return resolved[key]
        return (self.settings or {}).get(key, default) if isinstance(self.settings, dict) \
            else default


class Track(models.Model):
    """A recurring cohort of a program: days and hours (morning, evening, weekend...)."""

    class Kind(models.TextChoices):
        MORNING = "morning", "Morning"
        DAYTIME = "daytime", "Daytime"
        AFTERNOON = "afternoon", "After school"
        EVENING = "evening", "Evening"
        WEEKEND = "weekend", "Weekend"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    weekdays = models.JSONField(help_text="Weekday numbers, Monday = 0, e.g. [0, 2, 3].")
    start_time = models.TimeField()
    end_time = models.TimeField()
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(40)],
        help_text="Most groups run with 8-12 people (a program choice, not a rule).",
    )
    room = models.ForeignKey(
        "organizations.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="track_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.name}: {self.name}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The track must end after it starts."})
        days = self.weekdays or []
        if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValidationError({"weekdays": "Pick at least one weekday (Monday = 0 ... Sunday = 6)."})

    @property
    def hours_per_day(self) -> Decimal:
        minutes = _minutes(self.end_time) - _minutes(self.start_time)
        return Decimal(minutes) / Decimal(60)

    @property
    def hours_per_week(self) -> Decimal:
        return self.hours_per_day * len(self.weekdays or [])

    @property
    def days_label(self) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        return "/".join(names[d] for d in sorted(self.weekdays or []))


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


class EpisodeQuerySet(models.QuerySet["EpisodeOfCare"]):
    def open(self) -> EpisodeQuerySet:
        """Episodes not closed: planned, waitlisted, active or on hold."""
        return self.filter(status__in=EpisodeOfCare.OPEN_STATUSES)

    def current(self) -> EpisodeOfCare | None:
        """The person's current episode: the latest admitted of the open ones (use on
        `participant.episodes`)."""
        return self.open().order_by("-admitted_on").first()


class EpisodeOfCare(models.Model):
    """One admission to a program (FHIR EpisodeOfCare); holds the current level of care."""

    class Status(models.TextChoices):
        # FHIR R4 EpisodeOfCare.status value set (7 codes),
        # https://hl7.org/fhir/R4/valueset-episode-of-care-status.html
        PLANNED = "planned", "Planned"
        WAITLIST = "waitlist", "Waitlisted"
        ACTIVE = "active", "Active"
        ONHOLD = "onhold", "On hold"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"
        ENTERED_IN_ERROR = "entered-in-error", "Entered in error"

    OPEN_STATUSES = ("planned", "waitlist", "active", "onhold")
    # The staff named on an episode: while it is open they are the participant's care team
    # (access.decisions.is_care_team and care_team_q both read this one list).
    CARE_TEAM_FIELDS = ("primary_therapist", "prescriber", "case_manager", "family_therapist")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="episodes"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="episodes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    level_of_care = models.CharField(
        "Clinical level of care", max_length=3, choices=LevelOfCare.choices
    )
    authorized_level_of_care = models.CharField(
        "Payer-authorized level of care",
        max_length=3,
        choices=LevelOfCare.choices,
        blank=True,
        help_text="May differ from the clinical level (a payer may authorize a lower one).",
    )
    admitted_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    primary_therapist = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prescriber = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case_manager = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    family_therapist = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Leads the family sessions. The weekly planner books them with this "
        "therapist unless they cannot take one that week, and then says why.",
    )
    admission_exception = models.TextField(
        blank=True, help_text="Why the person was admitted without an intake screening and "
        "a decided level-of-care assessment.")
    admission_safety_decision = models.TextField(
        blank=True, help_text="The documented decision to admit while an emergent or urgent "
        "safety task was open.")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_on"]
        verbose_name = "episode of care"
        verbose_name_plural = "episodes of care"
        constraints = [
            # One open episode per participant per program; readmission opens a new one.
            models.UniqueConstraint(
                fields=["participant", "program"],
                condition=Q(status__in=["planned", "waitlist", "active", "onhold"]),
                name="one_open_episode_per_participant_program",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=F("admitted_on")),
                name="episode_discharge_after_admission",
            ),
        ]
        indexes = [
            # Chart header and list filters: a participant's open episode.
            models.Index(fields=["participant", "status"], name="episode_participant_status"),
            # Weekly-minimum and attendance-policy pages: a program's active episodes.
            models.Index(fields=["program", "status"], name="episode_program_status"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} from {self.admitted_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def level_mismatch(self) -> bool:
        return bool(self.authorized_level_of_care) and (
            self.authorized_level_of_care != self.level_of_care
        )

    def care_team_ids(self) -> set[int]:
        return {
            i for i in (getattr(self, f"{name}_id") for name in self.CARE_TEAM_FIELDS)
            if i is not None
        }


class Enrollment(models.Model):
    """Membership of an episode in a track for a date range."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WAITLISTED = "waitlisted", "Waitlisted"
        ENDED = "ended", "Ended"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="enrollments")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    # Other tracks of the same program the person can attend (agreed with them): the weekly
    # planner may propose a move to one when this track has no seat for them; the director
    # accepts or declines each move when applying the plan. Same program means the same
    # level of care and age group (Program.level_of_care, Program.population).
    acceptable_tracks = models.ManyToManyField(
        Track, blank=True, related_name="acceptable_in",
        help_text="Other tracks of the program this person can attend if theirs has no seat.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrollment_end_after_start",
            ),
        ]
        indexes = [
            # Track openings and rosters: active enrollments of a track.
            models.Index(fields=["track", "status"], name="enrollment_track_status"),
        ]

    def __str__(self) -> str:
        return f"{self.episode.participant} in {self.track.name}"


class LevelOfCareChange(models.Model):
    """A step-up or step-down within an episode, with the criteria that justified it."""

    class Direction(models.TextChoices):
        STEP_UP = "up", "Step-up"
        STEP_DOWN = "down", "Step-down"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(
        EpisodeOfCare, on_delete=models.PROTECT, related_name="level_changes"
    )
    from_level = models.CharField(max_length=3, choices=LevelOfCare.choices)
    to_level = models.CharField(max_length=3, choices=LevelOfCare.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    effective_on = models.DateField()
    reason = models.TextField()
    criteria_met = models.JSONField(default=list, blank=True,
                                    help_text="The criteria the team checked, in plain words.")
    from_track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    safety_decision = models.TextField(
        blank=True, help_text="The documented decision to go ahead while an emergent or "
        "urgent safety task was open.")

    class Meta:
        ordering = ["episode", "effective_on", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_level=F("to_level")), name="loc_change_changes_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.from_level} -> {self.to_level}"


class Discharge(models.Model):
    """The end of an episode: reason, summary and the aftercare plan."""

    class Reason(models.TextChoices):
        COMPLETED = "completed", "Completed the program"
        STEPPED_DOWN = "stepped_down", "Stepped down to a lower level elsewhere"
        STEPPED_UP = "stepped_up", "Stepped up to a higher level elsewhere"
        TRANSFERRED = "transferred", "Transferred"
        AGAINST_ADVICE = "against_advice", "Left against clinical advice"
        ADMINISTRATIVE = "administrative", "Administrative discharge"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.OneToOneField(
        EpisodeOfCare, on_delete=models.PROTECT, related_name="discharge"
    )
    discharged_on = models.DateField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    summary = models.TextField(help_text="Course of treatment and status at discharge.")
    next_provider = models.CharField(max_length=200, blank=True)
    aftercare_appointments = models.TextField(blank=True)
    medications = models.TextField(blank=True)
    supports = models.TextField(blank=True, help_text="Groups, sponsor, family, crisis plan.")
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    safety_decision = models.TextField(
        blank=True, help_text="The documented decision to go ahead while an emergent or "
        "urgent safety task was open.")

    class Meta:
        ordering = ["-discharged_on"]

    def __str__(self) -> str:
        return f"Discharge {self.discharged_on:%Y-%m-%d} ({self.get_reason_display()})"
