"""Home pages, health check and error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.care.models import EpisodeOfCare, Track
from openiop.participants.selectors import participants_visible_to
from openiop.scheduling.selectors import sessions_of_day

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
    """The staff dashboard: today's sessions (or the next day's, on a day without any) and
    the program at a glance."""
    org = request.user.staff_profile.organization
    today = timezone.localdate(timezone=org.zone)
    session_day, sessions = sessions_of_day(org, today)
    active = EpisodeOfCare.objects.filter(
        program__organization=org, status=EpisodeOfCare.Status.ACTIVE
    )
    tracks = Track.objects.filter(program__organization=org, is_active=True).select_related(
        "program"
    )
    hour = timezone.localtime(timezone=org.zone).hour
    greeting = "Good morning" if hour < 12 else "Good afternoon" if hour < 17 else "Good evening"
    context = {
        "greeting": greeting,
        "participant_count": participants_visible_to(request.user).count(),
        "active_count": active.count(),
        "sessions": sessions,
        "session_day": session_day,
        "sessions_are_today": session_day == today,
        "sessions_today_count": len(sessions) if session_day == today else 0,
        "tracks": tracks,
        "today": today,
    }
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
