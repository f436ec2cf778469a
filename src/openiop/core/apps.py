from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openiop.core"
    label = "core"

    def ready(self) -> None:
        from .metrics import register_collector

        register_collector()
