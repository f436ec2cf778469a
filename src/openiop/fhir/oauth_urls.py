"""The OAuth2 endpoints SMART clients use (django-oauth-toolkit views), under /o/.

Only authorize, token, revocation and introspection, plus the directors' client
registration page (clients.py) instead of DOT's self-service application views.
"""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views

from .clients import clients

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("clients/", clients, name="clients"),
]
