"""The jobs page: what runs in the background, for directors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from openiop.accounts.permissions import Perm, has_perm
from openiop.core.decorators import staff_required

from . import downloads, selectors
from .models import Job

if TYPE_CHECKING:
    from uuid import UUID


@staff_required(Perm.PROGRAM_MANAGE)
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.jobs_for(request.user)
    state = request.GET.get("state", "")
    if state in Job.State.values:
        jobs = jobs.filter(state=state)
    scheduled = request.GET.get("scheduled") == "1"
    if not scheduled:  # routine scheduled runs that went well are noise; failures stay
        jobs = jobs.exclude(kind__startswith="periodic:", state=Job.State.SUCCEEDED)
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {
        "page": page, "states": Job.State.choices, "state": state, "scheduled": scheduled,
        "query_string": _without_page(request),
        "alerts": list(selectors.open_alerts_for(request.user)[:10]),
    })


def _without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@staff_required()
@require_GET
def my_jobs(request: HttpRequest) -> HttpResponse:
    """What I started: PDFs being prepared or ready to download, and other jobs."""
    page = Paginator(selectors.jobs_started_by(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "jobs/mine.html", {"page": page, "query_string": _without_page(request)})


@staff_required()
@require_GET
def job_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """A job's progress: for the person who started it, and for directors."""
    manage = has_perm(request.user, Perm.PROGRAM_MANAGE)
    job = selectors.job_for(request.user, code, directors=manage)
    if job is None:
        raise Http404
    template = "jobs/_status.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job, "perms_manage": manage,
                                      **_download_context(request, job)})


def _download_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    if not downloads.is_download(job):
        return {}
    return {"download": downloads.available_to(job, request.user),
            "expires_at": downloads.expires_at(job),
            "is_mine": job.started_by_id == request.user.pk}


@staff_required()
@require_GET
def job_download(request: HttpRequest, code: UUID) -> HttpResponse:
    """A prepared PDF, for the user who asked only, while they may still see the record."""
    job = selectors.jobs_started_by(request.user).filter(code=code).first()
    if job is None:
        raise Http404
    return downloads.download_response(request, job)
