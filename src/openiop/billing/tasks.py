"""Background work of billing. `PERIODIC` lists what the scheduler runs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

# (name, every, dotted path of the task): the periodic scheduler enqueues each on its cadence.
# Hourly: a threshold crossed by attendance marked today reaches the billing office the same
# day; each authorization is told about once per threshold however often this runs.
PERIODIC = [
    ("authorization-notices", timedelta(hours=1), "openiop.billing.tasks.send_authorization_notices"),
]


@task()
def send_authorization_notices() -> dict:
    """Tell billing staff of authorizations 80 % used or ending soon; the job's result says
    how many authorizations were told about."""
    from .services.notices import authorization_notices_send

    return {"notices_sent": authorization_notices_send()}
