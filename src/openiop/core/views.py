"""Home pages, health check and error pages."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone

from openiop.care.models import EpisodeOfCare, Track
from openiop.participants.selectors import participants_visible_to
from openiop.scheduling.models import Session

from .decorators import staff_required


def root(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        if user.role in ("participant", "family"):
            return redirect("/portal/")
        return redirect("core:home")
    return render(request, "core/landing.html")


@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    """The staff dashboard: today's sessions and the program at a glance."""
    org_id = request.user.staff_organization_id
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    sessions_today = (
        Session.objects.filter(program__organization_id=org_id, starts_at__gte=start,
                               starts_at__lt=start + timedelta(days=1))
        .exclude(status=Session.Status.CANCELLED)
        .select_related("program", "room", "facilitator")
        .order_by("starts_at")
    )
    active = EpisodeOfCare.objects.filter(
        program__organization_id=org_id, status=EpisodeOfCare.Status.ACTIVE
    )
    tracks = Track.objects.filter(program__organization_id=org_id, is_active=True).select_related(
        "program"
    )
    hour = timezone.localtime().hour
    greeting = "Good morning" if hour < 12 else "Good afternoon" if hour < 17 else "Good evening"
    context = {
        "greeting": greeting,
        "participant_count": participants_visible_to(request.user).count(),
        "active_count": active.count(),
        "sessions_today": sessions_today,
        "tracks": tracks,
        "today": today,
    }
    return render(request, "core/home.html", context)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page without touching the database (it may be what failed): no context
    processors, no user. JSON on the API and FHIR paths, HTML elsewhere."""
    rid = getattr(request, "request_id", "")
    if request.path.startswith("/fhir/"):
        return JsonResponse({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "exception",
                       "diagnostics": f"The server could not complete the request (reference {rid})."}],
        }, status=500, content_type="application/fhir+json")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "The server could not complete the request; nothing "
                                       f"was changed if it was a write (reference {rid}).",
                             "request_id": rid}, status=500)
    html = loader.get_template("500.html").render({"request_id": rid})
    return HttpResponse(html, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
