"""The task the worker runs for every job, and this app's periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

PERIODIC = [
    # Nightly: walk the audit trail's hash chain; a broken link alerts the directors.
    ("audit-chain-verify", timedelta(hours=24), "openiop.jobs.tasks.verify_audit_chain"),
    # PDFs prepared in the background are removed a day after they were made.
    ("download-expiry", timedelta(minutes=15), "openiop.jobs.downloads.expire_downloads"),
]
# Housekeeping (re-queueing jobs whose worker died, pruning old scheduled runs) is not a
# job: the scheduler does it on every tick (scheduler.housekeeping).


@task()
def run_job(job_code: str) -> str:
    from .services import execute

    return execute(job_code)


def verify_audit_chain(progress: object = None) -> dict:
    """Check the audit chain (what `openiop audit verify` does); alert on a broken link."""
    from openiop.audit.models import AccessEvent
    from openiop.audit.services import audit_verify

    from .alerts import raise_alert

    total = AccessEvent.objects.count()

    def report(checked: int) -> None:
        if progress is not None:
            progress(phase="Checking the audit chain", percent=checked * 100 // max(total, 1),
                     message=f"{checked} of {total} events checked")

    problem = audit_verify(progress=report)
    if problem is None:
        return {"events": total, "intact": True}
    raise_alert(kind="audit_chain_broken",
                message=f"The audit trail's hash chain is broken at event #{problem.seq}: "
                        f"{problem.message}. Run `openiop audit verify` and contact support.")
    return {"events": total, "intact": False, "broken_at": problem.seq}
