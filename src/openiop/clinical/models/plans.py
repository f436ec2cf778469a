"""Treatment plans (problem -> goal -> objective -> intervention) and safety plans."""

from __future__ import annotations

import uuid

from django.db import models


class TreatmentPlan(models.Model):
    """A participant's individualized treatment plan for one episode of care.

    Every change writes a TreatmentPlanRevision holding a snapshot of the whole plan, so
    each earlier version stays viewable. Reviews are due every N days
    (Program.settings["treatment_plan_review_days"], 30 by default: a program policy, not
    a cited rule).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    episode = models.OneToOneField(
        "care.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT,
        related_name="treatment_plan",
    )
    program = models.ForeignKey("care.Program", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    revision = models.PositiveIntegerField(default=0, help_text="Number of the latest revision.")
    participant_statement = models.TextField(
        blank=True, help_text="What the participant wants from treatment, in their own words."
    )
    acknowledged_revision = models.PositiveIntegerField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgment_method = models.CharField(max_length=60, blank=True)
    started_on = models.DateField()
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField()
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on"]
        indexes = [
            # The overdue-review list: plans of a program by due date.
            models.Index(fields=["program", "next_review_due"], name="clinical_plan_review_due"),
        ]

    def __str__(self) -> str:
        return f"Treatment plan {self.code}"

    @property
    def acknowledged_current(self) -> bool:
        return self.acknowledged_revision == self.revision and self.revision > 0


class TreatmentProblem(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="problems")
    text = models.TextField()
    participant_words = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class TreatmentGoal(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    problem = models.ForeignKey(TreatmentProblem, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField(help_text="A measurable goal.")
    participant_words = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class TreatmentObjective(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        MET = "met", "Met"
        REVISED = "revised", "Revised"
        DISCONTINUED = "discontinued", "Discontinued"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    goal = models.ForeignKey(TreatmentGoal, on_delete=models.CASCADE, related_name="objectives")
    text = models.TextField(help_text="Observable and measurable, e.g. 'uses a coping skill "
                                      "3 times a week, by self-report'.")
    target_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["target_date", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class TreatmentIntervention(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    objective = models.ForeignKey(
        TreatmentObjective, on_delete=models.CASCADE, related_name="interventions"
    )
    modality = models.CharField(max_length=120, help_text="e.g. CBT group, individual MI.")
    frequency = models.CharField(max_length=120, help_text="e.g. 3 times a week.")
    responsible = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+",
        help_text="The staff member responsible.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.modality} ({self.frequency})"


class TreatmentPlanRevision(models.Model):
    """A snapshot of the whole plan, the unit the participant acknowledges.

    A revision is a draft while one clinician edits the plan in one sitting: each further
    change by the same clinician folds into it (snapshot, summary, `changes`), so adding a
    problem with its goal, objectives and interventions makes one revision, acknowledged
    once. It is finalized (frozen for good, also by a PostgreSQL trigger) when the
    participant acknowledges it, at a review, when the clinician finishes it, or when
    someone else changes the plan.
    """

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    summary = models.CharField(max_length=300)
    changes = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Empty while the revision is a draft.")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="clinical_plan_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of {self.plan_id}"

    @property
    def is_draft(self) -> bool:
        return self.finalized_at is None


class TreatmentPlanReview(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    reviewed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    summary = models.TextField()
    revision_number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-pk"]

    def __str__(self) -> str:
        return f"Review of {self.plan_id} on {self.reviewed_on}"


class SafetyPlan(models.Model):
    """A Stanley-Brown safety plan. Each change is a new row with the next version number.

    Structure (Stanley & Brown, Safety Planning Intervention, Cognitive and Behavioral
    Practice 2012;19:256-264; https://suicidesafetyplan.com): 1 warning signs,
    2 internal coping strategies, 3 people and social settings that provide distraction,
    4 people to ask for help, 5 professionals and agencies to contact in a crisis
    (including the 988 Suicide & Crisis Lifeline, https://988lifeline.org), 6 making the
    environment safe; and the reasons for living.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="safety_plans"
    )
    version = models.PositiveIntegerField()
    warning_signs = models.TextField(
        help_text="Thoughts, images, moods, situations or behaviors that signal a crisis."
    )
    internal_coping = models.TextField(
        "Internal coping strategies",
        help_text="Things I can do on my own to take my mind off problems.",
    )
    social_distractions = models.TextField(
        "People and places for distraction",
        help_text="People and social settings that take my mind off things.",
    )
    help_contacts = models.TextField(
        "People I can ask for help", help_text="Names and phone numbers."
    )
    professional_contacts = models.TextField(
        "Professionals and agencies", blank=True,
        help_text="Clinicians, the program's number, the local emergency department.",
    )
    crisis_line = models.CharField(
        max_length=200, default="988 Suicide & Crisis Lifeline: call or text 988",
    )
    environment_safety = models.TextField(
        "Making the environment safe",
        help_text="Steps to reduce access to lethal means.",
    )
    reasons_for_living = models.TextField(
        "Reasons for living", help_text="The things most important to me and worth living for."
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "version"],
                                    name="clinical_safety_plan_version_unique"),
        ]

    def __str__(self) -> str:
        return f"Safety plan v{self.version} ({self.participant_id})"

    STEP_FIELDS = (
        ("warning_signs", "1. Warning signs"),
        ("internal_coping", "2. Internal coping strategies"),
        ("social_distractions", "3. People and social settings that provide distraction"),
        ("help_contacts", "4. People I can ask for help"),
        ("professional_contacts", "5. Professionals or agencies I can contact during a crisis"),
        ("environment_safety", "6. Making the environment safe"),
        ("reasons_for_living", "The one thing most important to me and worth living for"),
    )

    def steps(self) -> list[tuple[str, list[str]]]:
        """(heading, list of lines) for each section, in the Stanley-Brown order."""
        out = []
        for field, heading in self.STEP_FIELDS:
            lines = [ln.strip() for ln in (getattr(self, field) or "").splitlines() if ln.strip()]
            if field == "professional_contacts":
                lines = [*lines, self.crisis_line]
            out.append((heading, lines))
        return out
