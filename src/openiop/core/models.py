"""Project-wide records that belong to no clinical domain."""

from __future__ import annotations

from django.db import models


class FormSubmission(models.Model):
    """One use of a form's idempotency key (core/idempotency.py): the first POST runs, a
    repeat of the same key (a retry after a lost response, a double click) gets the first
    answer instead of a second write."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    scope = models.CharField(max_length=64, unique=True, help_text="Hash of who, where, key.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.scope[:8]} {self.state}"
