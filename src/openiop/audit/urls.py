from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events"),
    path("export.csv", views.event_export, name="events_export"),
    path("participants/<uuid:code>/", views.participant_events, name="participant_events"),
]
