"""The OAuth2 endpoints SMART clients use (django-oauth-toolkit views), under /o/.

Only authorize (with the launch context, oauth.py), token, revocation and introspection,
plus the directors' client registration page (clients.py) instead of DOT's self-service
application views, and the chart's EHR launch.
"""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views

from .clients import clients
from .oauth import SmartAuthorizationView, launch_from_chart

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", SmartAuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("clients/", clients, name="clients"),
    path("launch/participants/<uuid:code>/", launch_from_chart, name="launch"),
]
