"""Background jobs as the clinic sees them, and the periodic schedule.

The queue itself is django-tasks-db's table (one row per enqueued task); a `Job` is the
clinic-facing record beside it: what was asked, by whom, its phase and progress, the best
result so far, and the outcome or the error in plain words. Tasks update their Job; the
jobs page reads only Jobs.
"""

from __future__ import annotations

import uuid

from django.db import models


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=60, help_text="What runs, e.g. plan_week, finder_import.")
    label = models.CharField(max_length=200, help_text="What the job does, in the clinic's words.")
    handler = models.CharField(max_length=200, help_text="Dotted path of the function that runs.")
    params = models.JSONField(default=dict, blank=True)
    # Input too big for params (an uploaded file), kept in the database so any worker node
    # can read it; the handler clears it when done.
    payload = models.BinaryField(null=True, blank=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    started_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A job with a key runs at most once for that key (a periodic run, a plan apply).
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    task_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(max_length=120, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    best = models.JSONField(default=dict, blank=True, help_text="Best result so far.")
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why it failed, in plain words.")
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="jobs_org_created"),
            models.Index(fields=["state", "heartbeat_at"], name="jobs_state_heartbeat"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(percent__lte=100), name="jobs_percent_lte_100"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        from django.utils import timezone

        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class PeriodicRun(models.Model):
    """One row per periodic job name: when it was last enqueued.

    Workers race to move `due_at` forward with a guarded UPDATE; only the one whose UPDATE
    matched enqueues, so several workers enqueue a periodic job once per interval.
    """

    name = models.CharField(max_length=100, unique=True)
    due_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    def __str__(self) -> str:
        return self.name


class SystemAlert(models.Model):
    """A problem directors must see (a broken audit chain, a job that keeps failing).

    Never clinical content: what failed, where to look, when.
    """

    kind = models.CharField(max_length=60)
    message = models.CharField(max_length=300)
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+", help_text="Empty: every organization's directors see it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message
