from __future__ import annotations

from django.urls import path, re_path

from . import bulk, views
from .history import SUPPORTED
from .registry import SPECS
from .smart import smart_configuration

app_name = "fhir"

_TYPES = "|".join(SPECS)
_HISTORY = "|".join(SUPPORTED)
_ID = "[0-9a-fA-F-]{36}"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", smart_configuration, name="smart_configuration"),
    path("$export", bulk.system_export, name="export"),
    path("Patient/$export", bulk.patient_export, name="patient_export"),
    re_path(rf"^Group/(?P<group>{_ID})/\$export$", bulk.group_export, name="group_export"),
    re_path(rf"^\$export-status/(?P<code>{_ID})$", bulk.export_status, name="export_status"),
    re_path(rf"^\$export-file/(?P<code>{_ID})/(?P<name>[A-Za-z]+\.ndjson)$", bulk.export_file,
            name="export_file"),
    re_path(rf"^(?P<resource_type>{_TYPES})/?$", views.search, name="search"),
    re_path(rf"^(?P<resource_type>{_TYPES})/(?P<code>{_ID})$", views.read,
            name="read"),
    re_path(rf"^(?P<resource_type>{_HISTORY})/(?P<code>{_ID})/_history/?$",
            views.instance_history, name="history"),
    re_path(rf"^(?P<resource_type>{_HISTORY})/(?P<code>{_ID})/_history/(?P<vid>[0-9]+)$",
            views.vread, name="vread"),
    re_path(r"^(?P<rest>.*)$", views.unknown_resource, name="unknown"),
]
