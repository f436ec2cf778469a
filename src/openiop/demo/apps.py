from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "openiop.demo"
    label = "demo"
    verbose_name = "Demo clinic"
