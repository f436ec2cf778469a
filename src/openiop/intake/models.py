"""Referrals, level-of-care assessments, measure responses and urgent safety tasks."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.care.levels import LevelOfCare


class Referral(models.Model):
    """A request for care, from first contact to admission or another outcome.

    Each status change stamps its own time, so time from referral to admission is
    `admitted_at - received_at`.
    """

    class Source(models.TextChoices):
        SELF = "self", "Self"
        FAMILY = "family", "Family member"
        HOSPITAL = "hospital", "Hospital (step-down)"
        THERAPIST = "therapist", "Outpatient therapist (step-up)"
        COURT = "court", "Court or probation"
        EMPLOYER = "employer", "Employer or EAP"
        FINDER = "finder", "Public program finder"
        SELF_CHECK = "self_check", "Public self-check"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        NEW = "new", "New"
        SCREENING = "screening", "Screening"
        ASSESSMENT = "assessment", "Assessment"
        WAITLISTED = "waitlisted", "Waitlisted"
        ADMITTED = "admitted", "Admitted"
        DECLINED = "declined", "Declined"
        REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"

    # Still waiting for a seat or a decision (a waitlisted person can be admitted from it).
    OPEN_STATUSES = ("new", "screening", "assessment", "waitlisted")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="referrals"
    )
    program = models.ForeignKey(
        "care.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    participant = models.ForeignKey(
        "participants.Participant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="referrals", help_text="Linked when screening starts.",
    )
    episode = models.ForeignKey(
        "care.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT,
        related_name="referrals", help_text="The admission this referral led to.",
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    referrer_name = models.CharField(
        max_length=150, blank=True, help_text="Who referred: hospital unit, therapist, officer..."
    )
    name = models.CharField("Person's name", max_length=150)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    reason = models.TextField(help_text="Why care is being sought, in the referrer's words.")
    consent_text = models.TextField(
        blank=True, help_text="What the person agreed to when sending a public contact request."
    )
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    outcome_note = models.TextField(
        blank=True, help_text="Why declined, or where the person was referred."
    )
    referred_to = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    screening_at = models.DateTimeField(null=True, blank=True)
    assessment_at = models.DateTimeField(null=True, blank=True)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The referral queue: one organization's referrals by status, newest first.
            models.Index(fields=["organization", "status", "-received_at"],
                         name="referral_queue"),
        ]

    def __str__(self) -> str:
        return f"Referral of {self.name} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def days_to_admission(self) -> int | None:
        if self.status != self.Status.ADMITTED or self.closed_at is None:
            return None
        return (self.closed_at - self.received_at).days


def _rating() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(4)],
        help_text="0 none, 1 mild, 2 moderate, 3 significant, 4 severe/imminent.",
    )


class MeasureResponse(models.Model):
    """One completed instrument (FHIR QuestionnaireResponse + score Observation).

    Scored by `intake.instruments.score` in `intake.measures.measure_record`; `answers`
    keeps every item so the total can be re-derived and audited. It lives here, beside the
    instruments that score it and the safety tasks it raises, so that intake (the first
    screens) and outcomes (the series over an episode) both read it without calling each
    other.
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
        # The table kept its name when the model moved here from outcomes.
        db_table = "outcomes_measureresponse"
        ordering = ["participant", "instrument", "completed_at"]
        indexes = [
            # The chart's series: one participant's responses to one instrument, in time order.
            models.Index(fields=["participant", "instrument", "completed_at"],
                         name="measure_participant_series"),
            # Program dashboards: responses of a set of episodes.
            models.Index(fields=["episode", "instrument"], name="measure_episode_instr"),
            # FHIR `_lastUpdated` of scores (fhir.registry._observation_last_updated): the
            # few responses entered in error, whose time is asked of the audit log, without
            # reading every response of every clinic.
            models.Index(fields=["participant"], name="measure_entered_in_error",
                         condition=models.Q(status="entered-in-error")),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} on {self.completed_at:%Y-%m-%d}"

    @property
    def instrument_name(self) -> str:
        from .instruments import INSTRUMENTS

        inst = INSTRUMENTS.get(self.instrument)
        return inst.name if inst else self.instrument

    @property
    def band_label(self) -> str:
        from .instruments import INSTRUMENTS

        if self.status == self.Status.PRELIMINARY:
            return str(self.Status.PRELIMINARY.label)
        try:
            return INSTRUMENTS[self.instrument].band(self.band).label
        except KeyError:
            return self.band


class LevelOfCareAssessment(models.Model):
    """Dimension ratings, the engine's recommendation with every rule that fired, and the
    clinician's decision (an override must carry a reason).

    Recorded by someone whose credential does not permit assessment (intake staff), it is a
    proposal until a licensed clinician confirms it (`intake.services.loc_confirm`).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed, awaiting a licensed clinician"
        DECIDED = "decided", "Decided"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="loc_assessments"
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    episode = models.ForeignKey(
        "care.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT,
        related_name="loc_assessments",
    )
    asam_edition = models.PositiveSmallIntegerField(default=3)
    withdrawal = _rating()
    biomedical = _rating()
    emotional = _rating()
    readiness = _rating()
    relapse = _rating()
    environment = _rating()
    hours_available = models.DecimalField(max_digits=4, decimal_places=1)
    screening = models.JSONField(default=dict, blank=True,
                                 help_text="Instrument -> total, band and flags used.")
    recommended_level = models.CharField(max_length=3, choices=LevelOfCare.choices)
    rules_fired = models.JSONField(default=list)
    imminent_risk = models.BooleanField(default=False)
    decided_level = models.CharField(max_length=3, choices=LevelOfCare.choices)
    override_reason = models.TextField(blank=True)
    assessed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DECIDED)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The licensed clinician who decided or confirmed the level.")
    decided_at = models.DateTimeField(null=True, blank=True)
    cssrs_response = models.ForeignKey(
        "intake.MeasureResponse", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="The C-SSRS screen the decision relied on, when a risk "
        "flag called for one.")

    class Meta:
        ordering = ["-assessed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_level=models.F("recommended_level")) | ~Q(override_reason=""),
                name="loc_override_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"LOC assessment {self.recommended_level} -> {self.decided_level}"

    @property
    def is_override(self) -> bool:
        return self.decided_level != self.recommended_level


class SafetyTask(models.Model):
    """A task for the care team raised by a safety flag (PHQ-9 item 9, C-SSRS).

    Opened by `intake.safety.safety_task_open`, from staff entry, the portal check-in or
    the intake screening, and assigned to a person who can open it (the primary therapist,
    else the program's on-call clinician). It must be acknowledged by `acknowledge_due_at`
    (set from the program's deadlines, `intake.safety_policy`); past that,
    `safety_tasks_escalate` escalates it step by step. It stays open until someone records
    the outcome.
    """

    class Priority(models.TextChoices):
        EMERGENT = "emergent", "Emergent (same hour)"
        URGENT = "urgent", "Urgent (same day)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", "Contacted the participant"
        SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", "Safety plan reviewed with the participant"
        EMERGENCY_SERVICES = "emergency_services", "Emergency services involved (911 / mobile crisis)"
        REFERRED_UP = "referred_up", "Referred up a level of care"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="safety_tasks"
    )
    program = models.ForeignKey(
        "care.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Sets the deadlines and the on-call rota; named in notifications.",
    )
    participant = models.ForeignKey(
        "participants.Participant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="safety_tasks",
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_tasks"
    )
    measure_response = models.ForeignKey(
        "intake.MeasureResponse", null=True, blank=True, on_delete=models.PROTECT,
        related_name="safety_tasks",
    )
    assigned_to = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The primary therapist, else the on-call clinician; empty only when the "
        "program has neither (the directors are told).",
    )
    priority = models.CharField(max_length=10, choices=Priority.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="0 none; 1 supervisor; 2 on-call; 3 director (the last step).")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [
            # Open tasks of an organization (dashboard, chart flag).
            models.Index(fields=["organization", "status"], name="safetytask_org_status"),
            # The escalation sweep: open, unacknowledged tasks past their deadline.
            models.Index(fields=["status", "acknowledge_due_at"], name="safetytask_due"),
            models.Index(fields=["participant", "status"], name="safetytask_participant"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class SafetyTaskEscalation(models.Model):
    """One escalation step of a task: to whom and when. One row per step (idempotent)."""

    class Step(models.IntegerChoices):
        SUPERVISOR = 1, "Supervisor"
        ON_CALL = 2, "On-call clinician"
        DIRECTOR = 3, "Program director"

    task = models.ForeignKey(SafetyTask, on_delete=models.CASCADE, related_name="escalations")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    recipient = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField()

    class Meta:
        ordering = ["task", "step"]
        constraints = [
            models.UniqueConstraint(fields=["task", "step"], name="safety_escalation_once"),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.step} of task {self.task_id}"
