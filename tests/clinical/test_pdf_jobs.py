"""Long PDFs are prepared in the background: offered, started through the page's own checks,
followed on the job's page, downloaded only by the person who asked (the check runs again),
audited, and deleted after a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.jobs import downloads
from openiop.jobs.models import Job
from openiop.jobs.tasks import PERIODIC
from tests.conftest import login

from .helpers import signed_group_note


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.OPENIOP_DOWNLOAD_DIR = tmp_path / "downloads"
    settings.OPENIOP_PDF_BACKGROUND_CHARS = 40_000


def _prepare(client, url):
    offer = client.get(url)
    assert offer.status_code == 200 and offer["Content-Type"].startswith("text/html")
    html = offer.content.decode()
    assert "prepared in the background" in html and "Prepare the PDF" in html
    started = client.post(url)
    assert started.status_code == 302 and started["Location"].startswith("/jobs/")
    return Job.objects.get(code=started["Location"].split("/")[2])


def test_a_small_note_pdf_is_answered_at_once(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    response = login(clinic.supervisor).get(f"/notes/{note.code}/pdf/")
    assert response["Content-Type"] == "application/pdf" and not Job.objects.exists()


def test_a_long_note_pdf_is_a_job_with_progress_and_a_download_for_its_requester_only(
        clinic, settings, run_worker):
    settings.OPENIOP_PDF_BACKGROUND_CHARS = 100
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    url = f"/notes/{note.code}/pdf/"
    job = _prepare(client, url)
    assert job.kind == downloads.KIND and job.started_by == clinic.supervisor
    # The label is what the directors' jobs page lists: no participant's name.
    assert all(p.display_name not in job.label for p in clinic.attendees)
    assert AccessEvent.objects.filter(object_id=str(note.code), action="export").exists()
    waiting = client.get(f"/jobs/{job.code}/").content.decode()
    assert "Waiting" in waiting and 'hx-trigger="every 2s"' in waiting and "Download" not in waiting

    run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.phase == "Ready to download" and job.result["bytes"] > 1000
    page = client.get(f"/jobs/{job.code}/").content.decode()
    assert f"/jobs/{job.code}/download/" in page and "Only you can download it" in page
    mine = client.get("/jobs/mine/").content.decode()
    assert job.label in mine

    response = client.get(f"/jobs/{job.code}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert f'filename="note-{note.code}.pdf"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    event = AccessEvent.objects.get(object_type="download", object_id=str(job.code))
    assert event.action == "export" and event.actor_id == clinic.supervisor.pk

    # The director sees the job on the jobs page but gets no link and no file.
    director = login(clinic.world.director)
    assert f"/jobs/{job.code}/download/" not in director.get(f"/jobs/{job.code}/").content.decode()
    assert director.get(f"/jobs/{job.code}/download/").status_code == 404
    # Another clinician does not even see the job.
    assert login(clinic.world.colleague).get(f"/jobs/{job.code}/").status_code == 404


def test_the_download_runs_the_notes_access_check_again(clinic, settings, run_worker,
                                                         monkeypatch):
    from openiop.clinical import views

    settings.OPENIOP_PDF_BACKGROUND_CHARS = 100
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    job = _prepare(client, f"/notes/{note.code}/pdf/")
    run_worker()
    monkeypatch.setattr(views.common, "can_view_note", lambda user, note, request: False)
    assert client.get(f"/jobs/{job.code}/download/").status_code == 404
    assert not AccessEvent.objects.filter(object_type="download").exists()


def test_a_download_expires_after_a_day_and_its_file_is_deleted(clinic, settings, run_worker):
    settings.OPENIOP_PDF_BACKGROUND_CHARS = 100
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    job = _prepare(client, f"/notes/{note.code}/pdf/")
    run_worker()
    folder = downloads.download_dir(job.code)
    assert folder.is_dir()
    assert downloads.remove_expired_downloads() == 0 and folder.is_dir()
    assert ("download-expiry", timedelta(minutes=15),
            "openiop.jobs.downloads.expire_downloads") in PERIODIC
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        client = login(clinic.supervisor)
        assert client.get(f"/jobs/{job.code}/download/").status_code == 404
        assert "was deleted a day after" in client.get(f"/jobs/{job.code}/").content.decode()
        assert downloads.expire_downloads() == {"removed": 1}
    assert not folder.exists()


def test_a_long_treatment_plan_pdf_is_a_job_too(clinic, settings, run_worker):
    from openiop.clinical.services import plan_add_problem, plan_start

    settings.OPENIOP_PDF_BACKGROUND_CHARS = 100
    w = clinic.world
    plan = plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
                      statement="I want to sleep")
    plan_add_problem(actor=w.clinician, plan=plan, text="Insomnia", version=plan.version)
    client = login(w.clinician)
    url = f"/notes/participants/{w.participant.code}/plan/export/pdf/"
    job = _prepare(client, url)
    assert AccessEvent.objects.filter(object_type="treatment_plan", action="export").count() == 1
    run_worker()
    response = client.get(f"/jobs/{job.code}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # The print view stays a page, never a job.
    assert client.post(f"/notes/participants/{w.participant.code}/plan/export/print/"
                       ).status_code == 404
