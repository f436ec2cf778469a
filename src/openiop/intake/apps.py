from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openiop.intake"
    label = "intake"

    def ready(self) -> None:
        from openiop.core.chart import register_flag_provider

        from .flags import safety_flags

        register_flag_provider(safety_flags)
