from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "openiop.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from .metrics import register_collector

        register_collector()
