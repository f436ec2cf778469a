"""SMART App Launch 2.0 on django-oauth-toolkit: scopes, discovery, bearer tokens.

Scopes (https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html):
`user/<Type>.<rs>` (and the v1 form `user/<Type>.read`) for every type this server serves
and `*`, plus `openid`, `fhirUser`, `offline_access`, `online_access`. A scope only
narrows what the signed-in user may see on the pages; it never widens it. Patient-level
(`patient/`, needs a launch context) and system-level (`system/`, client credentials with
a signed JWT) scopes are not offered yet.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from oauth2_provider.scopes import BaseScopes

from .registry import SPECS

OTHER_SCOPES = {
    "openid": "Know who you are",
    "fhirUser": "Know which staff member you are",
    "offline_access": "Keep access while you are away (refresh token)",
    "online_access": "Keep access while you are signed in",
}
_SCOPE = re.compile(r"^user/(?P<type>\*|[A-Za-z]+)\.(?P<perm>read|[cruds]+)$")


def all_scopes() -> dict[str, str]:
    scopes = dict(OTHER_SCOPES)
    for rtype in ("*", *SPECS):
        label = "all the records you may see" if rtype == "*" else f"{rtype} resources"
        scopes[f"user/{rtype}.rs"] = f"Read and search {label}"
        scopes[f"user/{rtype}.r"] = f"Read {label}"
        scopes[f"user/{rtype}.s"] = f"Search {label}"
        scopes[f"user/{rtype}.read"] = f"Read and search {label} (SMART v1)"
    return scopes


class SmartScopes(BaseScopes):
    """django-oauth-toolkit scopes backend (OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"])."""

    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def get_available_scopes(self, application: Any = None, request: Any = None,
                             *args: Any, **kwargs: Any) -> list[str]:
        return list(all_scopes())

    def get_default_scopes(self, application: Any = None, request: Any = None,
                           *args: Any, **kwargs: Any) -> list[str]:
        return ["openid"]


def allows(scopes: set[str] | None, rtype: str, action: str) -> bool:
    """Do the token's scopes allow `action` ("r" read, "s" search) on `rtype`?
    None (a browser session, not a token) allows everything the role allows."""
    if scopes is None:
        return True
    for scope in scopes:
        m = _SCOPE.match(scope)
        if m and m["type"] in ("*", rtype) and (m["perm"] == "read" or action in m["perm"]):
            return True
    return False


def bearer_user(request: HttpRequest) -> tuple[Any, set[str], Any] | None:
    """(user, scopes, client application) of a valid bearer token, else None."""
    from oauth2_provider.oauth2_backends import get_oauthlib_core

    valid, oauth = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid or oauth.access_token is None or oauth.access_token.user is None:
        return None
    token = oauth.access_token
    return token.user, set(token.scope.split()), token.application


def smart_configuration(request: HttpRequest) -> HttpResponse:
    """GET /.well-known/smart-configuration (SMART App Launch 2.0 discovery)."""
    url = request.build_absolute_uri
    return JsonResponse({
        "issuer": url("/"),
        "authorization_endpoint": url(reverse("oauth2_provider:authorize")),
        "token_endpoint": url(reverse("oauth2_provider:token")),
        "revocation_endpoint": url(reverse("oauth2_provider:revoke-token")),
        "introspection_endpoint": url(reverse("oauth2_provider:introspect")),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(all_scopes()),
        "capabilities": ["launch-standalone", "client-public",
                         "client-confidential-symmetric", "permission-offline",
                         "permission-online", "permission-user", "permission-v1",
                         "permission-v2"],
    })
