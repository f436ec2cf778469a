"""Sign-in, sign-out and two-factor (TOTP) enrolment and verification."""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import LoginView
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.core import readonly

from .forms import LoginForm, TokenForm
from .views_staff import ENROL_SESSION_KEY

SIGN_IN_PAUSED = (
    "Signing in is paused: the database is read-only for the moment (maintenance or a switch "
    "to the backup server), and every sign-in must be recorded. Nobody was signed in. Try "
    "again in a few minutes; people already signed in can keep reading.")


class OpenIOPLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        user = self.request.user
        if user.role in ("participant", "family"):
            return "/portal/"
        return super().get_success_url()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Signing in writes: the lockout counters (a failure counts toward the lock, NIST SP
        800-63B section 5.2.2), the record of the sign-in (log-in monitoring, 45 CFR
        164.308(a)(5)(ii)(C)), the last sign-in time and, without Redis, the session. On a
        read-only database none of them can be written, and signing in without them would
        let password guessing go uncounted: the sign-in is refused with a page that says
        why, and whatever the attempt had put in the session is dropped."""
        if readonly.probe_read_only():  # known before any write (PostgreSQL, every few s)
            return _sign_in_paused()
        try:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        except DatabaseError as exc:
            if not readonly.is_read_only_error(exc):
                raise
            readonly.mark_read_only()
            request.session.clear()
            request.user = AnonymousUser()
            return _sign_in_paused()


def _sign_in_paused() -> HttpResponse:
    html = loader.get_template("503_read_only.html").render({
        "title": "Signing in is paused", "reading": True, "message": SIGN_IN_PAUSED})
    return HttpResponse(html, status=503, headers={"Retry-After": "60"})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    idle = request.POST.get("reason") == "idle"
    logout(request)
    if idle:
        minutes = settings.SESSION_COOKIE_AGE // 60
        messages.info(request, f"You were signed out after {minutes} minutes without activity.")
    else:
        messages.info(request, "You are signed out.")
    return redirect("accounts:login")


def _safe_next(request: HttpRequest) -> str:
    nxt = request.GET.get("next") or request.POST.get("next") or "/"
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return "/"


@login_required
def mfa(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code. A user without a confirmed device may enrol one only in the
    session that a one-time set-up link just authenticated (no trust on first use: a
    password alone never binds a new authenticator)."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling and request.session.get(ENROL_SESSION_KEY) != user.pk:
        return render(request, "accounts/mfa_no_device.html", status=403)
    if enrolling:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or (
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            # A new session key once fully signed in (session fixation, OWASP ASVS 3.2.1).
            request.session.cycle_key()
            request.session.pop(ENROL_SESSION_KEY, None)
            return redirect(_safe_next(request))
        form.add_error("token", "That code did not match. Check your device's clock and try again.")
    context = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
        # The SVG comes from the qrcode library from our own device URL: no user input.
        context["qr_svg"] = mark_safe(image.to_string(encoding="unicode"))
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/mfa.html", context)
