from __future__ import annotations

from django.urls import path, re_path

from . import views
from .registry import SPECS

app_name = "fhir"

_TYPES = "|".join(SPECS)

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    re_path(rf"^(?P<resource_type>{_TYPES})/?$", views.search, name="search"),
    re_path(rf"^(?P<resource_type>{_TYPES})/(?P<code>[0-9a-fA-F-]{{36}})$", views.read,
            name="read"),
    re_path(r"^(?P<rest>.*)$", views.unknown_resource, name="unknown"),
]
