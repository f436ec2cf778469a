"""Background tasks of intake (django-tasks). `PERIODIC` lists what the scheduler runs."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .safety import safety_tasks_escalate

# (name, every, dotted path of the task): the periodic scheduler enqueues each on its cadence.
PERIODIC = [
    ("safety-escalation", timedelta(minutes=1), "openiop.intake.tasks.escalate_safety_tasks"),
]


@task()
def escalate_safety_tasks() -> int:
    """Escalate unacknowledged safety tasks past their deadline; returns how many steps."""
    return len(safety_tasks_escalate(now=timezone.now()))
