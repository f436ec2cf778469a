from django.apps import AppConfig


class FinderConfig(AppConfig):
    name = "openiop.finder"
    label = "finder"
