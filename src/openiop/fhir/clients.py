"""Directors register the SMART apps of their organization (OAuth2 clients).

A public client (an app in a browser or on a phone) gets a client id and must use PKCE; a
confidential client (a server) also gets a secret, shown once and stored hashed.
Redirect URIs must be https, or http on localhost for development (OAuth 2.0 Security
Best Current Practice, RFC 9700 section 2.1).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.core.decorators import staff_required
from openiop.core.forms import apply_validation_error
from openiop.participants.models import AppPurpose, DisclosurePurpose


class ClientForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="Shown to staff when the app asks "
                           "for access, and in the access log.")
    redirect_uris = forms.CharField(
        label="Redirect URIs", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: https, or http on localhost.")
    allowed_origins = forms.CharField(
        label="Allowed origins", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For an app running in a browser: its origins (https://host), one a "
                  "line, so that the browser lets it read the FHIR answers (CORS).")
    confidential = forms.BooleanField(
        required=False, label="Confidential client (runs on a server and can keep a secret)")
    purpose_code = forms.ChoiceField(
        label="Purpose of use", choices=DisclosurePurpose.choices,
        initial=DisclosurePurpose.TREATMENT,
        help_text="What the app's requests are for. A 42 CFR Part 2 record goes to the app "
                  "only under the participant's consent naming this app for this purpose.")


def client_register(*, actor: Any, name: str, redirect_uris: list[str], confidential: bool,
                    allowed_origins: list[str] | None = None,
                    purpose_code: str = DisclosurePurpose.TREATMENT,
                    request: HttpRequest | None = None) -> tuple[Application, str]:
    """Register an app; returns it and its secret ("" for a public client)."""
    require_perm(actor, Perm.STAFF_MANAGE)
    if not name.strip():
        raise ValidationError({"name": "Give the app a name."})
    if not redirect_uris:
        raise ValidationError({"redirect_uris": "Give at least one redirect URI."})
    for uri in redirect_uris:
        parts = urlparse(uri)
        local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
        if not parts.netloc or parts.fragment or not (parts.scheme == "https" or local):
            raise ValidationError({"redirect_uris": f"{uri} must be an https URL without a "
                                                    "#fragment (http only on localhost)."})
    for origin in allowed_origins or []:
        parts = urlparse(origin)
        if parts.scheme != "https" or not parts.netloc or parts.path not in ("", "/"):
            raise ValidationError({"allowed_origins": f"{origin} must be an https origin "
                                                      "(https://host[:port], no path)."})
    if purpose_code not in DisclosurePurpose.values:
        raise ValidationError({"purpose_code": "Choose the app's purpose of use."})
    secret = generate_client_secret() if confidential else ""
    with transaction.atomic():
        app = Application.objects.create(
            name=name.strip(), user=actor, redirect_uris=" ".join(redirect_uris),
            client_type=(Application.CLIENT_CONFIDENTIAL if confidential
                         else Application.CLIENT_PUBLIC),
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            client_secret=secret or generate_client_secret(), algorithm="",
            allowed_origins=" ".join(o.rstrip("/") for o in allowed_origins or []))
        AppPurpose.objects.create(application=app, purpose_code=purpose_code)
        audit_record(actor=actor, action="create", object_type="oauth.client",
                     object_id=app.client_id, organization=actor.staff_profile.organization,
                     request=request, reason=f"SMART app {app.name} registered")
    return app, secret


@staff_required(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def clients(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    created: tuple[Application, str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            created = client_register(
                actor=request.user, name=form.cleaned_data["name"],
                redirect_uris=form.cleaned_data["redirect_uris"].split(),
                confidential=form.cleaned_data["confidential"],
                allowed_origins=form.cleaned_data["allowed_origins"].split(),
                purpose_code=form.cleaned_data["purpose_code"],
                request=request)
            form = ClientForm()
        except ValidationError as exc:
            apply_validation_error(form, exc)
    apps = Application.objects.filter(
        user__staff_profile__organization_id=request.user.staff_organization_id,
    ).select_related("user", "openiop_purpose").order_by("name", "pk")
    return render(request, "fhir/clients.html", {
        "form": form, "apps": apps, "created": created,
        "smart_config": request.build_absolute_uri("/fhir/R4/.well-known/smart-configuration"),
    }, status=422 if form.errors else 200)
