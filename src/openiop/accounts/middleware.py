"""Require a confirmed second factor for staff when OPENIOP_REQUIRE_MFA is on."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

_EXEMPT_PREFIXES = ("/static/", "/accounts/", "/healthz", "/find/", "/intake/self-check/")


class MFARequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.OPENIOP_REQUIRE_MFA
            and user is not None
            and user.is_authenticated
            and user.is_clinic_staff
            and not user.is_verified()
            and not request.path.startswith(_EXEMPT_PREFIXES)
        ):
            if request.path.startswith("/fhir/"):
                from openiop.fhir.http import unauthorized

                return unauthorized("Two-factor verification required: complete it in the "
                                    "browser, or use a bearer token.")
            if request.path.startswith("/api/"):
                return HttpResponse(
                    '{"detail": "Two-factor verification required"}',
                    status=401,
                    content_type="application/json",
                )
            return redirect(f"{reverse('accounts:mfa')}?next={request.get_full_path()}")
        return self.get_response(request)
