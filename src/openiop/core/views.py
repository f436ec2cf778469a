"""Home pages, health check and error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader


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
