from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "openiop.medications"
    label = "medications"
    verbose_name = "Medications"

    def ready(self) -> None:
        from openiop.core.chart import register_flag_provider

        from .selectors import chart_flags

        register_flag_provider(chart_flags)
