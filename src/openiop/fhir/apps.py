from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "openiop.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"

    def ready(self) -> None:
        from openiop.core.chart import register_overview_panel

        from .oauth import launch_panel

        register_overview_panel(launch_panel)
