"""Background work of scheduling. `PERIODIC` lists what the scheduler runs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

# (name, every, dotted path of the task): the periodic scheduler enqueues each on its cadence.
# Every 15 minutes during the sending hours (services/reminders.py): a booking made in the
# afternoon for tomorrow is still reminded; each reminder is sent once however often it runs.
PERIODIC = [
    ("session-reminders", timedelta(minutes=15), "openiop.scheduling.tasks.send_session_reminders"),
]


@task()
def send_session_reminders() -> dict:
    """Send the day-before reminders due now; the job's result says how many were sent."""
    from .services.reminders import session_reminders_send

    return {"reminders_sent": session_reminders_send()}
