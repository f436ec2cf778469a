"""Background work of the audit trail (django-tasks).

PERIODIC lists (name, interval, dotted path of the task) for the periodic scheduler.
"""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from .checkpoints import audit_checkpoint_write


@task()
def audit_checkpoint() -> str:
    """Write a signed checkpoint of every chain outside the database; return its path."""
    return str(audit_checkpoint_write())


PERIODIC = [("audit-checkpoint", timedelta(hours=1), "openiop.audit.tasks.audit_checkpoint")]
