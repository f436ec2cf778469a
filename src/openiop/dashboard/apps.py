from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "openiop.dashboard"
    label = "dashboard"
    verbose_name = "My work"
