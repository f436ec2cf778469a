"""The public program finder (/find/, no login) and its staff pages (/find/manage/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "finder"

urlpatterns = [
    path("", views.search, name="search"),
    path("compare/", views.compare, name="compare"),
    path("checklist/", views.checklist, name="checklist"),
    path("manage/", views.manage, name="manage"),
    path("manage/publish/", views.publish, name="publish"),
    path("manage/import/", views.import_listings, name="import"),
    path("manage/import/<uuid:code>/", views.import_run, name="import_run"),
    path("<uuid:code>/", views.listing_detail, name="detail"),
    path("<uuid:code>/contact/", views.contact, name="contact"),
    path("<uuid:code>/sent/", views.contact_sent, name="contact_sent"),
]
