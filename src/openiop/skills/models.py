"""Curriculum, skills practice, homework, relapse prevention, cravings, holistic notes.

The module library and skills catalog are data (skills/data/library.json), loaded by a
data migration and refreshed by the demo (`library.library_sync`).
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# Self-ratings (helpfulness, craving intensity) use a 0-10 scale, the same scale on every
# portal log ("how helpful 0-10", "intensity 0-10"), a product choice rather than an instrument.
SCORE_MIN, SCORE_MAX = 0, 10
SCORE_VALIDATORS = [MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]


def score_0_10(field: str, name: str) -> models.CheckConstraint:
    """The database's own check that a 0-10 score stays in range (SCORE_VALIDATORS in forms)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": SCORE_MIN}) & Q(**{f"{field}__lte": SCORE_MAX}), name=name)


class Topic(models.TextChoices):
    CONDITION = "condition", "Understanding one's condition"
    STRESS = "stress", "Stress management"
    CRAVINGS = "cravings", "Coping with triggers and cravings"
    RELAPSE = "relapse", "Relapse prevention"
    EMOTION = "emotion", "Emotion regulation"
    DISTRESS = "distress", "Distress tolerance"
    THINKING = "thinking", "Thinking patterns"
    SLEEP = "sleep", "Sleep"
    COMMUNICATION = "communication", "Communication and relationships"
    FAMILY = "family", "Family education"


class Module(models.Model):
    """One psychoeducation or skills lesson of the library."""

    class Audience(models.TextChoices):
        ALL = "all", "Participants"
        FAMILY = "family", "Families"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    minutes = models.PositiveSmallIntegerField(default=60)
    objectives = models.JSONField(default=list)
    outline = models.JSONField(default=list)
    handout = models.TextField()
    homework = models.TextField("Suggested homework")
    source = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["topic", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_family_education(self) -> bool:
        return self.audience == self.Audience.FAMILY


class Skill(models.Model):
    """A coping skill participants practise and log (the skills catalog)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=30)
    description = models.TextField()
    modules = models.ManyToManyField(Module, blank=True, related_name="skills")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rotation(models.Model):
    """A program's ordered cycle of modules for one kind of group."""

    class Kind(models.TextChoices):
        PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
        SKILLS = "skills", "Skills group"
        FAMILY = "family", "Family education"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey("care.Program", on_delete=models.CASCADE, related_name="rotations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    modules = models.ManyToManyField(Module, through="RotationItem", related_name="rotations")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["program", "kind"], name="rotation_one_per_program_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name}: {self.name}"


class RotationItem(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="items")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rotation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "position"], name="rotation_item_position"),
            models.UniqueConstraint(fields=["rotation", "module"], name="rotation_item_module_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.module_id}"


class SessionModule(models.Model):
    """Which module a session delivered (one module per session)."""

    session = models.OneToOneField(
        "scheduling.Session", on_delete=models.CASCADE, related_name="delivered_module"
    )
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="deliveries")
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Make-up suggestions: upcoming sessions delivering a given module.
            models.Index(fields=["module"], name="sessionmodule_module"),
        ]

    def __str__(self) -> str:
        return f"{self.module} in {self.session_id}"


class SkillPractice(models.Model):
    """A participant's log entry: when, which skill, how helpful (0-10), a note."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="skill_practices"
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="practices")
    practiced_at = models.DateTimeField()
    helpfulness = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    note = models.TextField(blank=True, max_length=1000)
    logged_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-practiced_at"]
        constraints = [
            score_0_10("helpfulness", "skillpractice_helpfulness_0_10"),
        ]
        indexes = [
            # The participant's log, newest first.
            models.Index(fields=["participant", "-practiced_at"], name="skillpractice_pt_when"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.practiced_at:%Y-%m-%d}"


class CravingLog(models.Model):
    """A craving or trigger: intensity 0-10, trigger, situation, what helped."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="cravings"
    )
    occurred_at = models.DateTimeField()
    intensity = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    trigger = models.CharField(max_length=200, blank=True)
    situation = models.TextField(blank=True, max_length=1000)
    what_helped = models.TextField(blank=True, max_length=1000)
    used = models.BooleanField(
        default=False, help_text="The craving ended in use (a lapse); shown to the care team."
    )
    logged_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            score_0_10("intensity", "cravinglog_intensity_0_10"),
        ]
        indexes = [
            # The log and the weekly trend chart.
            models.Index(fields=["participant", "-occurred_at"], name="cravinglog_pt_when"),
        ]

    def __str__(self) -> str:
        return f"Craving {self.intensity}/10 {self.occurred_at:%Y-%m-%d}"


class Homework(models.Model):
    """Assigned by a clinician, completed by the participant, reviewed, then closed."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        COMPLETED = "completed", "Completed"
        REVIEWED = "reviewed", "Reviewed"
        CLOSED = "closed", "Closed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="homework"
    )
    module = models.ForeignKey(
        Module, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    plan_objective = models.CharField(
        "Treatment-plan objective", max_length=300, blank=True,
        help_text="The objective of the treatment plan this homework serves.",
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ASSIGNED)
    assigned_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()
    response = models.TextField(blank=True, max_length=5000)
    completed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True, max_length=2000)
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    OPEN_STATUSES = ("assigned",)

    class Meta:
        ordering = ["status", "due_on", "-assigned_at"]
        verbose_name_plural = "homework"
        constraints = [
            models.CheckConstraint(
                condition=Q(module__isnull=False) | ~Q(plan_objective=""),
                name="homework_tied_to_module_or_objective",
                violation_error_message="Tie the homework to a module or a treatment-plan objective.",
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "status"], name="homework_pt_status"),
        ]

    def __str__(self) -> str:
        return self.title


class RelapsePreventionPlan(models.Model):
    """The participant's own plan; both the participant and the team may edit it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.CASCADE, related_name="relapse_plan"
    )
    triggers = models.TextField("Personal triggers", blank=True, max_length=4000)
    warning_signs = models.TextField("Early warning signs", blank=True, max_length=4000)
    coping_strategies = models.TextField("Coping strategies", blank=True, max_length=4000)
    people_to_call = models.TextField("People to call", blank=True, max_length=2000)
    after_lapse = models.TextField("What to do after a lapse", blank=True, max_length=4000)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    SECTIONS = ("triggers", "warning_signs", "coping_strategies", "people_to_call", "after_lapse")

    def __str__(self) -> str:
        return f"Relapse-prevention plan ({self.participant_id})"

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, s).strip() for s in self.SECTIONS)


class HolisticNote(models.Model):
    """A short activity note for a mindfulness, yoga, art or exercise session."""

    session = models.OneToOneField(
        "scheduling.Session", on_delete=models.CASCADE, related_name="holistic_note"
    )
    activity = models.CharField(max_length=200, help_text="What the group did, e.g. 'Body scan, 15 min'.")
    note = models.TextField(max_length=1000, blank=True, help_text="Short; no clinical detail about one person.")
    written_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.activity
