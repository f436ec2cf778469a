from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "openiop.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"
