"""Directors register the SMART apps of their organization (OAuth2 clients).

Two kinds:
- An app staff use (user- or patient-level scopes). A public client (in a browser or on a
  phone) gets a client id and must use PKCE; a confidential client (a server) also gets a
  secret, shown once and stored hashed. Redirect URIs must be https, or http on localhost
  for development (OAuth 2.0 Security Best Current Practice, RFC 9700 section 2.1). With a
  launch URL it can be launched from a participant's chart (SMART EHR launch).
- A backend service (SMART Backend Services, system-level scopes): no person signs in; it
  authenticates with a JWT signed by its private key, checked against the public keys
  registered here (a JWK Set, or the https `jwks_uri` where the service publishes them), and acts as a named non-human actor of this organization whose
  role decides what it may read. The actor cannot sign in (no usable password) and is kept
  off staff lists (inactive staff profile).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from django import forms
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from openiop.accounts.models import Role, StaffProfile, User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.forms import apply_validation_error
from openiop.participants.models import AppPurpose, DisclosurePurpose

from .jwks import check_uri, keys_at, parse_jwks
from .models import ClientRegistration

APP, BACKEND = "app", "backend"
# Roles a backend service may act with: reading roles, none that manages staff or settings.
SERVICE_ROLES = [(r.value, r.label) for r in (Role.CLINICIAN, Role.NURSE, Role.PRESCRIBER,
                                              Role.INTAKE, Role.BILLING, Role.FRONT_DESK)]


class ClientForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(APP, "An app staff use (signs in as the staff member)"),
                 (BACKEND, "A backend service (no one signs in; system access)")],
        initial=APP, required=False, widget=forms.RadioSelect, label="Kind")
    name = forms.CharField(max_length=255, help_text="Shown to staff when the app asks "
                           "for access, and in the access log.")
    redirect_uris = forms.CharField(
        label="Redirect URIs", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="An app staff use: one a line, https, or http on localhost.")
    allowed_origins = forms.CharField(
        label="Allowed origins", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For an app running in a browser: its origins (https://host), one a "
                  "line, so that the browser lets it read the FHIR answers (CORS).")
    confidential = forms.BooleanField(
        required=False, label="Confidential client (runs on a server and can keep a secret)")
    purpose_code = forms.ChoiceField(
        label="Purpose of use", choices=DisclosurePurpose.choices, required=False,
        initial=DisclosurePurpose.TREATMENT,
        help_text="What the app's requests are for. A 42 CFR Part 2 record goes to the app "
                  "only under the participant's consent naming this app for this purpose.")
    launch_url = forms.CharField(
        label="Launch URL", required=False, max_length=200,
        help_text="An app staff use: where the chart's Launch button sends the staff member "
                  "(SMART EHR launch); leave empty if it is not launched from a chart.")
    jwks = forms.CharField(
        label="Public keys (JWK Set)", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text='A backend service: its public keys as JSON, {"keys": [...]}: RSA 2048 '
                  "bits or more (RS384) or EC P-384 (ES384). Never the private key.")
    jwks_uri = forms.CharField(
        label="Or: public keys URL (jwks_uri)", required=False, max_length=500,
        help_text="A backend service that publishes its JWK Set at an https URL (so it can "
                  "rotate its keys): give the URL instead of the keys. Read now, then "
                  "re-read every few minutes.")
    role = forms.ChoiceField(
        choices=SERVICE_ROLES, required=False, label="Acts with the role of",
        help_text="A backend service reads what this role may read in your organization.")


def _check_url(uri: str, field: str) -> None:
    parts = urlparse(uri)
    local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.netloc or parts.fragment or not (parts.scheme == "https" or local):
        raise ValidationError({field: f"{uri} must be an https URL without a #fragment "
                                      "(http only on localhost)."})


def client_register(*, actor: User, name: str, redirect_uris: list[str], confidential: bool,
                    allowed_origins: list[str] | None = None, launch_url: str = "",
                    purpose_code: str = DisclosurePurpose.TREATMENT,
                    request: HttpRequest | None = None) -> tuple[Application, str]:
    """Register an app staff use; returns it and its secret ("" for a public client)."""
    require_perm(actor, Perm.STAFF_MANAGE)
    if not name.strip():
        raise ValidationError({"name": "Give the app a name."})
    if not redirect_uris:
        raise ValidationError({"redirect_uris": "Give at least one redirect URI."})
    for uri in redirect_uris:
        _check_url(uri, "redirect_uris")
    if launch_url:
        _check_url(launch_url, "launch_url")
    for origin in allowed_origins or []:
        parts = urlparse(origin)
        if parts.scheme != "https" or not parts.netloc or parts.path not in ("", "/"):
            raise ValidationError({"allowed_origins": f"{origin} must be an https origin "
                                                      "(https://host[:port], no path)."})
    if purpose_code not in DisclosurePurpose.values:
        raise ValidationError({"purpose_code": "Choose the app's purpose of use."})
    secret = generate_client_secret() if confidential else ""
    org = actor.staff_profile.organization
    with transaction.atomic():
        app = Application.objects.create(
            name=name.strip(), user=actor, redirect_uris=" ".join(redirect_uris),
            client_type=(Application.CLIENT_CONFIDENTIAL if confidential
                         else Application.CLIENT_PUBLIC),
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            client_secret=secret or generate_client_secret(), algorithm="",
            allowed_origins=" ".join(o.rstrip("/") for o in allowed_origins or []))
        ClientRegistration.objects.create(application=app, organization=org,
                                          launch_url=launch_url)
        AppPurpose.objects.create(application=app, purpose_code=purpose_code)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.OAUTH_CLIENT,
                     object_id=app.client_id, organization=org,
                     request=request, reason=f"SMART app {app.name} registered")
    return app, secret


def backend_register(*, actor: User, name: str, jwks: str = "", jwks_uri: str = "",
                     role: str, purpose_code: str = DisclosurePurpose.TREATMENT,
                     request: HttpRequest | None = None) -> Application:
    """Register a backend service with its public keys (a JWK Set, or the URL where it
    publishes them) and the role its actor reads with."""
    require_perm(actor, Perm.STAFF_MANAGE)
    if not name.strip():
        raise ValidationError({"name": "Give the service a name."})
    if role not in dict(SERVICE_ROLES):
        raise ValidationError({"role": f"Choose one of: {', '.join(dict(SERVICE_ROLES))}."})
    if purpose_code not in DisclosurePurpose.values:
        raise ValidationError({"purpose_code": "Choose the service's purpose of use."})
    keys = _check_keys(jwks.strip(), jwks_uri.strip())
    org = actor.staff_profile.organization
    with transaction.atomic():
        app = Application.objects.create(
            name=name.strip(), user=actor, redirect_uris="",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=generate_client_secret(), algorithm="")
        robot = User.objects.create(
            username=f"service-{app.client_id}"[:150], password=make_password(None),
            role=role, first_name=name.strip()[:150], last_name="(backend service)",
            display_name=f"{name.strip()} (backend service)"[:150])
        StaffProfile.objects.create(user=robot, organization=org, is_active=False,
                                    title="Backend service (SMART)")
        ClientRegistration.objects.create(application=app, organization=org, jwks=keys,
                                          jwks_uri=jwks_uri.strip(), actor=robot)
        AppPurpose.objects.create(application=app, purpose_code=purpose_code)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.OAUTH_CLIENT,
                     object_id=app.client_id, organization=org, request=request,
                     reason=f"Backend service {app.name} registered, acting as "
                            f"{robot.display_name} with the {robot.get_role_display()} "
                            "role"[:500])
    return app


def _check_keys(jwks: str, jwks_uri: str) -> dict[str, Any] | None:
    """The JWK Set registered by value (None with a jwks_uri), after checking that the
    keys, or those the URL publishes now, are usable public keys."""
    if bool(jwks) == bool(jwks_uri):
        raise ValidationError({"jwks": "Give the public keys or their URL (jwks_uri), "
                                       "one of the two."})
    if jwks_uri:
        try:
            check_uri(jwks_uri)
            keys_at(jwks_uri)
        except ValueError as exc:  # JwksUnavailable too
            raise ValidationError({"jwks_uri": f"The public keys URL is not usable: "
                                               f"{exc}."}) from exc
        return None
    try:
        keys = json.loads(jwks)
    except ValueError as exc:
        raise ValidationError({"jwks": "The public keys must be JSON (a JWK Set)."}) from exc
    try:
        parse_jwks(keys)
    except ValueError as exc:
        raise ValidationError({"jwks": f"The public keys are not usable: {exc}."}) from exc
    return keys


@staff_required(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def clients(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    created: tuple[Application, str] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == BACKEND:
                created = (backend_register(actor=request.user, name=data["name"],
                                            jwks=data["jwks"],
                                            jwks_uri=data["jwks_uri"], role=data["role"],
                                            purpose_code=data["purpose_code"] or
                                            DisclosurePurpose.TREATMENT,
                                            request=request), "")
            else:
                created = client_register(
                    actor=request.user, name=data["name"],
                    redirect_uris=data["redirect_uris"].split(),
                    confidential=data["confidential"],
                    allowed_origins=data["allowed_origins"].split(),
                    launch_url=data["launch_url"].strip(),
                    purpose_code=data["purpose_code"] or DisclosurePurpose.TREATMENT,
                    request=request)
            form = ClientForm()
        except ValidationError as exc:
            apply_validation_error(form, exc)
    apps = Application.objects.filter(
        user__staff_profile__organization_id=request.user.staff_organization_id,
    ).select_related("user", "registration__actor", "openiop_purpose").order_by("name", "pk")
    return render(request, "fhir/clients.html", {
        "form": form, "apps": apps, "created": created,
        "smart_config": request.build_absolute_uri("/fhir/R4/.well-known/smart-configuration"),
        "token_url": request.build_absolute_uri("/o/token/"),
    }, status=422 if form.errors else 200)
