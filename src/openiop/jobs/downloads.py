"""Large PDFs made in the background, kept for a day, given only to the person who asked.

A page that produces a PDF answers at once while the document is small. When its content
is over OPENIOP_PDF_BACKGROUND_CHARS characters (about fifteen pages) the same view, after
the same access checks, shows an offer instead (GET); accepting it (POST, through the same
view and checks, audited as the export) starts a job and sends the user to the job's page,
which follows its progress (pages written) and, when it is done, links to the file.

The file is written under OPENIOP_DOWNLOAD_DIR/<job code>/. It is served only to the user
who started the job, only while the page's own access check still lets them see the
record (each kind of PDF names its check below; it runs again on every download), each
download is audited as an export, and it is removed OPENIOP_DOWNLOAD_HOURS after it was
made by the periodic job `download-expiry`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string

from openiop.audit.vocabulary import Action, ObjectType

from .models import Job

if TYPE_CHECKING:
    from uuid import UUID

    from django.contrib.auth.models import AnonymousUser

    from openiop.accounts.models import User
    from openiop.participants.models import Participant

KIND = "pdf_export"
# What may be prepared: name -> (renderer run by the worker, access check run on download).
# A renderer takes its params and `on_page` (called with each page number) and returns the
# PDF's bytes; a check takes the request and the same params and raises Http404 when the
# user may no longer see the record.
PDFS: dict[str, tuple[str, str]] = {
    "note": ("openiop.clinical.pdf_jobs.render_note", "openiop.clinical.pdf_jobs.check_note"),
    "treatment_plan": ("openiop.clinical.pdf_jobs.render_plan",
                       "openiop.clinical.pdf_jobs.check_plan"),
    "ur_packet": ("openiop.billing.packet.render_packet", "openiop.billing.packet.check_packet"),
}
# Characters of content per printed page, roughly (10-point DejaVu Sans on Letter).
CHARS_PER_PAGE = 2500


def is_large(size: int) -> bool:
    return size > settings.OPENIOP_PDF_BACKGROUND_CHARS


def download_dir(job_code: UUID) -> Path:
    return Path(settings.OPENIOP_DOWNLOAD_DIR) / str(job_code)


def expires_at(job: Job) -> datetime | None:
    if job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=settings.OPENIOP_DOWNLOAD_HOURS)


def is_download(job: Job) -> bool:
    return job.kind == KIND


def available_to(job: Job, user: User | AnonymousUser) -> bool:
    """Whether the job's page may link to its file for this user."""
    expiry = expires_at(job)
    return (job.kind == KIND and job.state == Job.State.SUCCEEDED
            and job.started_by_id == getattr(user, "pk", None)
            and expiry is not None and expiry > timezone.now())


def offer_or_start(request: HttpRequest, *, what: str, label: str, params: dict[str, Any],
                   filename: str, size: int, participant: Participant | None = None,
                   audit: Any = None) -> HttpResponse:
    """A large PDF: on GET, the offer to prepare it in the background; on POST, start the
    job (after `audit()`, the view's own export audit) and go to its page.

    Call it after the view's access checks. `label` must not name the participant: the
    directors' jobs page lists every job of the organization.
    """
    if what not in PDFS:
        raise ValueError(what)
    pages = size // CHARS_PER_PAGE + 1
    if request.method != "POST":
        return render(request, "jobs/pdf_offer.html", {
            "label": label, "pages": pages, "participant": participant,
            "hours": settings.OPENIOP_DOWNLOAD_HOURS})
    from .services import start_job

    if audit is not None:
        audit()
    user = cast("User", request.user)  # the views call this after their staff check
    job = start_job(
        actor=user, kind=KIND, label=label, handler="openiop.jobs.downloads.run_pdf",
        organization=user.staff_profile.organization, request=request,
        params={"what": what, "params": params, "filename": filename, "pages": pages,
                "participant_id": getattr(participant, "pk", None)})
    return redirect("jobs:detail", code=job.code)


def run_pdf(*, what: str, params: dict[str, Any], filename: str, pages: int,
            participant_id: int | None, job: Job, progress: Any) -> dict[str, Any]:
    """The job: render the PDF, reporting pages, and write it for its download."""
    renderer = import_string(PDFS[what][0])
    progress(phase="Gathering the record", percent=5, force=True)

    def on_page(number: int) -> None:
        progress(phase="Writing pages", percent=min(95, 10 + 85 * number // max(pages, 1)),
                 message=f"Page {number} written")

    data: bytes = renderer(**params, on_page=on_page)
    folder = download_dir(job.code)
    shutil.rmtree(folder, ignore_errors=True)  # a retried run starts clean
    folder.mkdir(parents=True)
    partial = folder / f".{filename}.part"
    partial.write_bytes(data)
    os.replace(partial, folder / filename)
    progress(phase="Ready to download", percent=100, force=True)
    return {"file": filename, "bytes": len(data)}


def download_response(request: HttpRequest, job: Job) -> HttpResponse:
    """The file, after the record's access check runs again; audited. 404 otherwise."""
    from django.http import Http404

    from openiop.audit.services import audit_record
    from openiop.participants.models import Participant

    if not available_to(job, request.user):
        raise Http404
    what = job.params.get("what")
    filename = (job.result or {}).get("file", "")
    path = download_dir(job.code) / filename
    if what not in PDFS or not filename or not path.is_file():
        raise Http404
    import_string(PDFS[what][1])(request, **job.params["params"])
    participant = (Participant.objects.filter(pk=job.params.get("participant_id")).first()
                   if job.params.get("participant_id") else None)
    audit_record(actor=request.user, action=Action.EXPORT, object_type=ObjectType.DOWNLOAD,
                 object_id=job.code, participant=participant,
                 organization=job.organization if participant is None else None,
                 request=request, reason=f"{filename}, prepared in the background"[:255])
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                            content_type="application/pdf")
    response["Cache-Control"] = "no-store"
    return response


def remove_expired_downloads(*, now: datetime | None = None) -> int:
    """Delete the files of downloads older than OPENIOP_DOWNLOAD_HOURS (and of jobs that are
    gone or failed); return how many folders. Files still being written are left alone."""
    now = now or timezone.now()
    root = Path(settings.OPENIOP_DOWNLOAD_DIR)
    if not root.is_dir():
        return 0
    cutoff = now - timedelta(hours=settings.OPENIOP_DOWNLOAD_HOURS)
    removed = 0
    for folder in root.iterdir():
        try:
            code = uuid.UUID(folder.name)
        except ValueError:
            continue  # not ours
        job = Job.objects.filter(code=code).first()
        if job is not None and not job.is_finished:
            continue
        if job is not None and job.state == Job.State.SUCCEEDED and job.finished_at \
                and job.finished_at > cutoff:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def expire_downloads() -> dict[str, int]:
    """Periodic: remove downloads past their day."""
    return {"removed": remove_expired_downloads()}
