from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openiop.intake"
    label = "intake"

    def ready(self) -> None:
        from openiop.care.gates import register_intake_desk
        from openiop.core.chart import register_flag_provider

        from .desk import IntakeDesk
        from .flags import safety_flags

        register_flag_provider(safety_flags)
        # Care consults intake at admission, step-down and discharge through this desk.
        register_intake_desk(IntakeDesk())
