"""Background jobs: queued in the request's transaction, run once by a worker, visible."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from openiop.audit.models import AccessEvent
from openiop.jobs import services
from openiop.jobs.models import Job
from openiop.jobs.services import start_job
from openiop.jobs.tasks import run_job

from . import handlers

pytestmark = pytest.mark.django_db
H = "tests.jobs.handlers."


def _start(world, handler: str, **params) -> Job:
    return start_job(actor=world.director, kind="test", label="A test job", handler=H + handler,
                     params=params, organization=world.org)


def test_a_job_is_queued_not_run_in_the_request_and_a_worker_runs_it_with_progress(world, run_worker):
    job = _start(world, "count_to", n=4)
    assert job.state == Job.State.QUEUED and handlers.CALLS == []
    task = DBTaskResult.objects.get(id=job.task_id)
    assert task.task_path == "openiop.jobs.tasks.run_job" and task.status == "READY"

    assert run_worker() == 1
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.result == {"counted": 4}
    assert (job.phase, job.percent, job.message, job.best) == ("Counting", 100, "4 of 4", {"reached": 4})
    assert job.attempts == 1 and job.started_at and job.finished_at >= job.started_at
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    assert handlers.CALLS == ["count_to:4"]


def test_starting_a_job_is_audited_with_who_started_it(world):
    job = _start(world, "count_to", n=1)
    event = AccessEvent.objects.get(object_type="job", object_id=str(job.code))
    assert event.actor == world.director and event.action == "create" and event.reason == "test"
    assert job.started_by == world.director


def test_a_task_delivered_twice_runs_the_job_once(world, run_worker):
    job = _start(world, "count_to", n=2)
    run_job.enqueue(str(job.code))  # a duplicate delivery of the same job
    assert run_worker() == 2
    assert handlers.CALLS == ["count_to:2"]
    job.refresh_from_db()
    assert job.attempts == 1 and job.state == Job.State.SUCCEEDED


def test_a_keyed_job_starts_once(world, run_worker):
    first = start_job(actor=world.director, kind="test", label="x", handler=H + "count_to",
                      params={"n": 1}, key="once-only")
    second = start_job(actor=world.director, kind="test", label="x", handler=H + "count_to",
                       params={"n": 1}, key="once-only")
    assert first.pk == second.pk and DBTaskResult.objects.count() == 1


def test_transient_database_errors_are_retried_with_growing_back_off(world, run_worker, monkeypatch):
    waits = []
    monkeypatch.setattr(services, "sleep", waits.append)
    job = _start(world, "flaky", failures=2)
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.result == {"ok": True, "calls": 3}
    assert waits == [services.BACKOFF_SECONDS, services.BACKOFF_SECONDS * 2]


def test_a_job_that_keeps_meeting_database_errors_fails_in_plain_words(world, run_worker, monkeypatch):
    monkeypatch.setattr(services, "sleep", lambda s: None)
    job = _start(world, "flaky", failures=10)
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error.startswith("The database was unavailable 3 times in a row; nothing was changed.")
    assert handlers.CALLS.count("flaky") == services.MAX_ATTEMPTS


def test_a_refused_job_shows_the_rule_that_refused_it(world, run_worker):
    job = _start(world, "refuse")
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error == "Week start: A week starts on a Monday."


def test_an_unexpected_failure_keeps_database_row_contents_out_of_the_job_and_the_log(
        world, run_worker, caplog):
    job = _start(world, "leak_row")
    with caplog.at_level(logging.DEBUG):
        run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and str(job.code) in job.error
    assert "sertraline" not in job.error and "Failing row" not in job.error
    assert "sertraline" not in caplog.text and "Failing row" not in caplog.text
    # The task itself succeeded (the job recorded the failure): no traceback in the queue.
    assert DBTaskResult.objects.get(id=job.task_id).traceback == ""


def test_a_job_whose_worker_died_is_queued_again_then_failed_after_three_runs(world):
    from datetime import timedelta

    from django.utils import timezone

    job = _start(world, "count_to", n=1)
    old = timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=old, attempts=1)
    assert services.reap_stale_jobs() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and DBTaskResult.objects.count() == 2
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=old, attempts=3)
    assert services.reap_stale_jobs() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "worker stopped" in job.error


def test_the_immediate_backend_runs_a_job_inside_the_request(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = _start(world, "count_to", n=3)
    assert job.state == Job.State.SUCCEEDED and job.result == {"counted": 3}


def test_the_jobs_page_shows_state_duration_progress_error_and_who_started_it(world, as_director,
                                                                             run_worker):
    from tests import factories as f

    done = _start(world, "count_to", n=1)
    failed = _start(world, "refuse")
    run_worker()
    waiting = _start(world, "count_to", n=2)
    other_org_job = start_job(actor=None, kind="test", label="Another clinic's job",
                              handler=H + "count_to", params={"n": 1},
                              organization=f.organization(name="Elsewhere"))
    for _ in range(5):
        _start(world, "count_to", n=1)
    with CaptureQueriesContext(connection) as queries:
        page = as_director.get("/jobs/").content.decode()
    assert len(queries) <= 12
    assert "Another clinic" not in page and other_org_job.label not in page
    assert "Week start: A week starts on a Monday." in page
    assert page.count("Done") >= 1 and "Waiting" in page and "Failed" in page
    assert str(world.director) in page
    detail = as_director.get(f"/jobs/{done.code}/").content.decode()
    assert "Done" in detail and done.label in detail
    partial = as_director.get(f"/jobs/{waiting.code}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in partial
    finished = as_director.get(f"/jobs/{failed.code}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in finished


def test_the_jobs_page_hides_scheduled_runs_that_went_well_unless_asked(world, as_director,
                                                                        run_worker):
    from datetime import UTC, datetime, timedelta

    from openiop.core.periodic import Periodic
    from openiop.jobs.scheduler import run_due

    run_due(now=datetime(2026, 3, 2, tzinfo=UTC), jobs=[
        Periodic("test-quiet", timedelta(minutes=1), H + "tick"),
        Periodic("test-loud", timedelta(minutes=1), H + "refuse")])
    run_worker()
    page = as_director.get("/jobs/").content.decode()
    assert "Scheduled: test loud" in page and "Scheduled: test quiet" not in page
    everything = as_director.get("/jobs/", {"scheduled": "1"}).content.decode()
    assert "Scheduled: test quiet" in everything


def test_the_jobs_page_is_for_directors_only(world, as_clinician):
    job = _start(world, "count_to", n=1)
    assert as_clinician.get("/jobs/").status_code == 404
    assert as_clinician.get(f"/jobs/{job.code}/").status_code == 404
