from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "openiop.access"
    label = "access"
    verbose_name = "Access decisions"

    def ready(self) -> None:
        from openiop.core.chart import register_flag_provider, register_tab_filter

        from .flags import break_glass_flags, tab_filter

        register_flag_provider(break_glass_flags)
        register_tab_filter(tab_filter)
