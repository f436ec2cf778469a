"""The jobs page: what runs in the background, for directors."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from openiop.accounts.permissions import Perm
from openiop.core.decorators import staff_required

from . import selectors
from .models import Job


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


@staff_required(Perm.PROGRAM_MANAGE)
@require_GET
def job_detail(request: HttpRequest, code: Any) -> HttpResponse:
    job = selectors.jobs_for(request.user).filter(code=code).first()
    if job is None:
        raise Http404
    template = "jobs/_status.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job})
