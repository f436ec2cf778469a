from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/<uuid:code>", views.patient_read, name="patient_read"),
    path("EpisodeOfCare", views.episode_search, name="episode_search"),
    path("EpisodeOfCare/<uuid:code>", views.episode_read, name="episode_read"),
    path("Observation", views.observation_search, name="observation_search"),
    path("Observation/<uuid:code>", views.observation_read, name="observation_read"),
    path("Appointment", views.appointment_search, name="appointment_search"),
    path("Appointment/<uuid:code>", views.appointment_read, name="appointment_read"),
    path("MedicationRequest", views.medication_request_search,
         name="medication_request_search"),
    path("MedicationRequest/<uuid:code>", views.medication_request_read,
         name="medication_request_read"),
    path("Consent", views.consent_search, name="consent_search"),
    path("Consent/<uuid:code>", views.consent_read, name="consent_read"),
    path("Organization/<uuid:code>", views.organization_read, name="organization_read"),
    path("Location/<uuid:code>", views.location_read, name="location_read"),
    path("Practitioner/<uuid:code>", views.practitioner_read, name="practitioner_read"),
    path("HealthcareService/<uuid:code>", views.healthcare_service_read,
         name="healthcare_service_read"),
    re_path(r"^(?P<rest>.*)$", views.unknown_resource, name="unknown"),
]
