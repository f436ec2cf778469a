"""Program and track pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.permissions import Perm
from openiop.core.decorators import staff_required

from .selectors import programs_for_org, tracks_with_openings


@staff_required(Perm.PARTICIPANT_VIEW)
def program_list(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    tracks = list(tracks_with_openings(organization_id=org_id))
    programs = list(programs_for_org(org_id))
    for program in programs:
        program.track_rows = [t for t in tracks if t.program_id == program.pk]
        for t in program.track_rows:
            t.openings = max(t.capacity - t.enrolled, 0)
    return render(request, "care/program_list.html", {"programs": programs})
