"""`openiop demo --background`: the demo is built by a worker, reporting its progress."""

from __future__ import annotations

import io
from datetime import date

from django.core.management import call_command

from openiop.demo.management.commands import demo as demo_command
from openiop.jobs import services as job_services
from openiop.jobs.models import Job
from openiop.participants.models import Participant

TODAY = date(2026, 11, 18)


def test_the_demo_in_the_background_is_a_job_the_worker_runs_with_progress(
        db, run_worker, monkeypatch):
    reported: list[dict] = []
    real = job_services.report_detached

    def spy(progress, **fields):
        reported.append(fields)
        real(progress, **fields)

    monkeypatch.setattr(job_services, "report_detached", spy)
    out = io.StringIO()
    call_command("demo", "--participants", "10", "--today", TODAY.isoformat(), "--background",
                 stdout=out)
    job = Job.objects.get(kind="demo")
    assert f"Queued job {job.code}" in out.getvalue() and job.state == Job.State.QUEUED
    assert not Participant.objects.exists()  # nothing built by the command itself
    # Asked again while it waits: the same job, not a second demo.
    call_command("demo", "--participants", "10", "--background", stdout=io.StringIO())
    assert Job.objects.filter(kind="demo").count() == 1

    # --wait prints the progress; here each pause lets the worker run.
    monkeypatch.setattr(demo_command, "pause", run_worker)
    waited = io.StringIO()
    call_command("demo", "--participants", "10", "--background", "--wait", stdout=waited)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result == {"built": True, "participants": 10}
    assert Participant.objects.count() == 10
    assert "Done: 100%" in waited.getvalue()
    phases = [r["phase"] for r in reported if "phase" in r]
    assert phases[0] == "Step 1 of 12: core" and phases[-1] == "Step 12 of 12: dashboard"
    percents = [r["percent"] for r in reported if "percent" in r]
    assert percents == sorted(percents) and percents[-1] < 100
    assert any("Demo clinic ready" in r.get("message", "") for r in reported)
