from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from openiop.core.chart import register_flag_provider, register_overview_panel

        from .facesheet import face_sheet
        from .selectors import chart_flags

        register_flag_provider(chart_flags)
        register_overview_panel(face_sheet)
