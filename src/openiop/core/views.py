"""Home pages, health check and error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


def root(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        if user.role in ("participant", "family"):
            return redirect("/portal/")
        return redirect("dashboard:my_work")
    return render(request, "core/landing.html")


def home(request: HttpRequest) -> HttpResponse:
    """The staff home is My work (`dashboard:my_work`); this name keeps old links working."""
    return redirect("dashboard:my_work")


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
