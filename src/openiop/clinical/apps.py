from __future__ import annotations

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "openiop.clinical"
    label = "clinical"
    verbose_name = "Clinical documentation"

    def ready(self) -> None:
        from openiop.core.chart import register_flag_provider
        from openiop.scheduling.locks import register_attendance_lock

        from .hooks import plan_flags, signed_note_lock

        register_attendance_lock(signed_note_lock)
        register_flag_provider(plan_flags)
