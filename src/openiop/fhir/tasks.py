"""Background work of the FHIR API. `PERIODIC` lists what the scheduler runs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from .bulk import remove_expired_exports
from .oauth import remove_spent_jtis

# (name, every, dotted path of the task): the periodic scheduler enqueues each on its cadence.
PERIODIC = [
    ("fhir-export-expiry", timedelta(minutes=15), "openiop.fhir.tasks.expire_exports"),
    ("fhir-assertion-jtis", timedelta(hours=1), "openiop.fhir.tasks.forget_spent_jtis"),
]


@task()
def expire_exports() -> int:
    """Remove bulk export files past OPENIOP_EXPORT_HOURS; returns how many exports."""
    return remove_expired_exports()


@task()
def forget_spent_jtis() -> int:
    """Forget the jtis of expired client assertions; returns how many."""
    return remove_spent_jtis()
