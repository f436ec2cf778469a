"""SMART App Launch 2.0 on django-oauth-toolkit: scopes, discovery, bearer tokens.

Scopes (https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html):
`<level>/<Type>.<rs>` (and the v1 form `<level>/<Type>.read`) for every type this server
serves and `*`, at three levels:

- `user/`: what the signed-in staff member may see;
- `patient/`: the same, limited to the one participant of the launch context (chosen
  by the staff member after sign-in with `launch/patient`, or the chart the app was
  launched from with `launch`); the token response names it in `patient`. Types outside
  the patient compartment (Practitioner, Organization, Location, HealthcareService) are
  the organization's directory and are readable under a patient scope too;
- `system/`: a backend service (client credentials with a signed JWT, oauth.py), acting
  as its named non-human actor, whose role decides what it may see.

Plus `openid`, `fhirUser`, `offline_access`, `online_access`, `launch`, `launch/patient`.
A scope only narrows what the actor may see on the pages; it never widens it: the role's
permission and the organization are checked first (engine.require_perm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from oauth2_provider.scopes import BaseScopes

from .registry import SPECS

if TYPE_CHECKING:
    from openiop.accounts.models import User

OTHER_SCOPES = {
    "openid": "Know who you are",
    "fhirUser": "Know which staff member you are",
    "offline_access": "Keep access while you are away (refresh token)",
    "online_access": "Keep access while you are signed in",
    "launch": "Open with the participant whose chart you launched it from",
    "launch/patient": "Ask you which participant to open",
}
LEVELS = ("user", "patient", "system")
_SCOPE = re.compile(r"^(?P<level>user|patient|system)/(?P<type>\*|[A-Za-z]+)\."
                    r"(?P<perm>read|[cruds]+)$")
ALL = "all"  # a scope covers everything the actor may see of the type
PATIENT = "patient"  # ... only the launch context's participant


def _level_scopes(level: str) -> dict[str, str]:
    who = {"user": "you may see", "patient": "of the chosen participant",
           "system": "the service may see"}[level]
    scopes = {}
    for rtype in ("*", *SPECS):
        label = f"all the records {who}" if rtype == "*" else f"{rtype} resources {who}"
        scopes[f"{level}/{rtype}.rs"] = f"Read and search {label}"
        scopes[f"{level}/{rtype}.r"] = f"Read {label}"
        scopes[f"{level}/{rtype}.s"] = f"Search {label}"
        scopes[f"{level}/{rtype}.read"] = f"Read and search {label} (SMART v1)"
    return scopes


def all_scopes() -> dict[str, str]:
    scopes = dict(OTHER_SCOPES)
    for level in LEVELS:
        scopes |= _level_scopes(level)
    return scopes


def is_backend(application: Any) -> bool:
    from oauth2_provider.models import Application

    return application is not None and (
        application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS)


class SmartScopes(BaseScopes):
    """django-oauth-toolkit scopes backend (OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]):
    a backend service may ask for `system/` scopes only, an app used by staff for every
    other scope."""

    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def get_available_scopes(self, application: Any = None, request: Any = None,
                             *args: Any, **kwargs: Any) -> list[str]:
        if is_backend(application):
            return list(_level_scopes("system"))
        return [s for s in all_scopes() if not s.startswith("system/")]

    def get_default_scopes(self, application: Any = None, request: Any = None,
                           *args: Any, **kwargs: Any) -> list[str]:
        return [] if is_backend(application) else ["openid"]


def coverage(scopes: set[str] | None, rtype: str, action: str, *, patient: bool = False,
             system: bool = False) -> str | None:
    """How far the token's scopes reach for `action` ("r" read, "s" search) on `rtype`:
    ALL, PATIENT (the launch context's participant only) or None. None scopes (a browser
    session, not a token) reach ALL. `user/` scopes count for a token of a person,
    `system/` for a backend service's, `patient/` only with a launch context."""
    if scopes is None:
        return ALL
    found = None
    for scope in scopes:
        m = _SCOPE.match(scope)
        if not m or m["type"] not in ("*", rtype) or not (
                m["perm"] == "read" or action in m["perm"]):
            continue
        level = m["level"]
        if (level == "system" and system) or (level == "user" and not system):
            return ALL
        if level == "patient" and patient:
            found = PATIENT
    return found


def allows(scopes: set[str] | None, rtype: str, action: str) -> bool:
    """Do the scopes of a staff member's token reach every `rtype` record they may see?
    (The JSON API's test: patient- and system-level scopes never pass it.)"""
    return coverage(scopes, rtype, action) == ALL


@dataclass(frozen=True)
class TokenUse:
    user: User  # the staff member, or a backend service's actor
    scopes: set[str]
    client: Any  # oauth2_provider Application
    patient: Any = None  # the launch context's participant (patient-level scopes)
    system: bool = False


def bearer_token(request: HttpRequest) -> TokenUse | None:
    """The valid bearer token of the request, else None. A backend service's token acts as
    its registered actor; a token whose actor or person is gone or inactive is not valid."""
    from oauth2_provider.oauth2_backends import get_oauthlib_core

    from .models import ClientRegistration, TokenContext

    valid, oauth = get_oauthlib_core().verify_request(request, scopes=[])
    token = oauth.access_token if valid else None
    if token is None:
        return None
    client, user, system = token.application, token.user, False
    if user is None:
        registration = ClientRegistration.objects.select_related(
            "actor__staff_profile__organization").filter(application=client).first()
        if not is_backend(client) or registration is None or registration.actor is None:
            return None
        user, system = registration.actor, True
    if not user.is_active:
        return None
    context = TokenContext.objects.select_related("participant").filter(
        access_token=token).first()
    return TokenUse(user, set(token.scope.split()), client,
                    context.participant if context else None, system)


def bearer_user(request: HttpRequest) -> tuple[Any, set[str], Any] | None:
    """(user, scopes, client application) of a valid bearer token, else None."""
    found = bearer_token(request)
    return (found.user, found.scopes, found.client) if found else None


def smart_configuration(request: HttpRequest) -> HttpResponse:
    """GET /.well-known/smart-configuration (SMART App Launch 2.0 discovery,
    https://hl7.org/fhir/smart-app-launch/STU2/conformance.html)."""
    from .oauth import ASSERTION_ALGS

    url = request.build_absolute_uri
    return JsonResponse({
        "issuer": url("/"),
        "authorization_endpoint": url(reverse("oauth2_provider:authorize")),
        "token_endpoint": url(reverse("oauth2_provider:token")),
        "revocation_endpoint": url(reverse("oauth2_provider:revoke-token")),
        "introspection_endpoint": url(reverse("oauth2_provider:introspect")),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "grant_types_supported": ["authorization_code", "refresh_token",
                                  "client_credentials"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(all_scopes()),
        "capabilities": ["launch-standalone", "launch-ehr", "context-standalone-patient",
                         "context-ehr-patient", "client-public",
                         "client-confidential-symmetric", "client-confidential-asymmetric",
                         "permission-offline", "permission-online", "permission-patient",
                         "permission-user", "permission-v1", "permission-v2"],
    })
