"""Periodic jobs: declared by apps, enqueued once per interval however many workers tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from openiop.audit.vocabulary import Action, ObjectType
from openiop.core import periodic
from openiop.jobs.models import Job, PeriodicRun, SystemAlert
from openiop.jobs.scheduler import run_due

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVERY_MINUTE = periodic.Periodic("test-count", timedelta(minutes=1), "tests.jobs.handlers.tick")


def test_apps_declare_periodic_jobs_in_their_tasks_module_or_the_registry():
    names = {p.name for p in periodic.registered()}
    assert "audit-chain-verify" in names
    audit = next(p for p in periodic.registered() if p.name == "audit-chain-verify")
    assert audit.every == timedelta(hours=24) and audit.task == "openiop.jobs.tasks.verify_audit_chain"
    periodic.register("test-extra", timedelta(minutes=5), "tests.jobs.handlers.count_to")
    try:
        assert "test-extra" in {p.name for p in periodic.registered()}
        with pytest.raises(ValueError, match="already registered"):
            periodic.register("test-extra", timedelta(minutes=6), "tests.jobs.handlers.count_to")
    finally:
        periodic.unregister("test-extra")
    with pytest.raises(ValueError, match="10 seconds or more"):
        periodic.Periodic("too-often", timedelta(seconds=1), "a.b")


def test_a_due_job_is_enqueued_once_per_interval_however_often_the_scheduler_ticks():
    assert run_due(now=T0, jobs=[EVERY_MINUTE]) == ["test-count"]
    assert run_due(now=T0, jobs=[EVERY_MINUTE]) == []  # a second worker ticking at once
    assert run_due(now=T0 + timedelta(seconds=59), jobs=[EVERY_MINUTE]) == []
    assert run_due(now=T0 + timedelta(minutes=1), jobs=[EVERY_MINUTE]) == ["test-count"]
    assert Job.objects.filter(kind="periodic:test-count").count() == 2
    row = PeriodicRun.objects.get(name="test-count")
    assert row.due_at == T0 + timedelta(minutes=2) and row.last_job.kind == "periodic:test-count"


def test_a_periodic_job_with_a_wrong_path_does_not_stop_the_others(caplog):
    broken = periodic.Periodic("test-broken", timedelta(minutes=1), "tests.jobs.handlers.nope")
    assert run_due(now=T0, jobs=[broken, EVERY_MINUTE]) == ["test-count"]
    assert "test-broken" in caplog.text
    # Its due time did not move: it is tried again on the next tick.
    assert PeriodicRun.objects.get(name="test-broken").due_at == T0


def test_a_django_task_works_as_a_periodic_target(world, run_worker):
    """Other apps declare PERIODIC = [(name, every, "openiop.<app>.tasks.fn")] where fn may
    be a django-tasks @task: the job runner calls its function once, visibly."""
    from . import handlers

    run_due(now=T0, jobs=[periodic.Periodic("test-task", timedelta(minutes=5),
                                            "tests.jobs.handlers.a_django_task")])
    run_worker()
    job = Job.objects.get(kind="periodic:test-task")
    assert job.state == Job.State.SUCCEEDED and job.result == {"ran": True}
    assert handlers.CALLS == ["a_django_task"] and job.started_by is None


def test_nightly_verification_passes_on_an_intact_chain(world, run_worker):
    run_due(now=T0, jobs=[p for p in periodic.registered() if p.name == "audit-chain-verify"])
    run_worker()
    job = Job.objects.get(kind="periodic:audit-chain-verify")
    assert job.state == Job.State.SUCCEEDED and job.result["intact"] is True
    assert not SystemAlert.objects.exists() and mail.outbox == []


def test_a_broken_audit_chain_alerts_the_directors_without_clinical_content(world, run_worker):
    from openiop.audit.models import AccessEvent
    from openiop.audit.services import audit_record

    world.director.email = "director@example.org"
    world.director.save()
    for _ in range(3):
        audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                     participant=world.participant)
    middle = AccessEvent.objects.order_by("seq")[1]
    from tests.audit.test_chain import _raw

    _raw("UPDATE audit_accessevent SET reason = %s WHERE seq = %s", ["tampered", middle.seq])
    run_due(now=T0, jobs=[p for p in periodic.registered() if p.name == "audit-chain-verify"])
    run_worker()
    job = Job.objects.get(kind="periodic:audit-chain-verify")
    assert job.state == Job.State.SUCCEEDED and job.result["broken_at"] == middle.seq
    alert = SystemAlert.objects.get(kind="audit_chain_broken")
    assert f"event #{middle.seq}" in alert.message
    (message,) = mail.outbox
    assert message.to == ["director@example.org"] and f"#{middle.seq}" in message.body
    for text in (alert.message, message.subject, message.body):
        assert world.participant.legal_last_name not in text and world.participant.mrn not in text
    # The alert shows on the jobs page, once, however many nights it stays broken.
    from openiop.jobs.alerts import raise_alert

    raise_alert(kind="audit_chain_broken", message=alert.message)
    assert SystemAlert.objects.count() == 1 and len(mail.outbox) == 1


def test_housekeeping_requeues_dead_jobs_and_prunes_old_successful_scheduled_runs(world, run_worker):
    from openiop.jobs import scheduler
    from openiop.jobs.services import STALE_AFTER

    run_due(now=T0, jobs=[EVERY_MINUTE])
    run_worker()
    done = Job.objects.get(kind="periodic:test-count")
    assert done.state == Job.State.SUCCEEDED
    from openiop.audit.models import AccessEvent

    assert not AccessEvent.objects.filter(object_type="job").exists()  # not a person's act
    later = done.finished_at + scheduler.KEEP_SUCCEEDED + timedelta(minutes=1)
    dying = _start_running(world, heartbeat=later - STALE_AFTER - timedelta(minutes=1))
    counts = scheduler.housekeeping(now=later)
    assert counts == {"requeued": 1, "failed": 0, "pruned": 1}
    assert not Job.objects.filter(pk=done.pk).exists()
    dying.refresh_from_db()
    assert dying.state == Job.State.QUEUED


def _start_running(world, *, heartbeat):
    from openiop.jobs.services import start_job

    job = start_job(actor=world.director, kind="test", label="t",
                    handler="tests.jobs.handlers.count_to", params={"n": 1})
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=heartbeat,
                                         attempts=1)
    return job
