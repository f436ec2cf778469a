from __future__ import annotations

from django.urls import path

from . import views

app_name = "outcomes"

urlpatterns = [
    path("", views.index, name="index"),
    path("participants/<uuid:code>/", views.participant_measures, name="participant_measures"),
    path("participants/<uuid:code>/record/<str:instrument>/", views.record_measure,
         name="record_measure"),
]
