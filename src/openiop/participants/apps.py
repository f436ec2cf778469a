from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "openiop.participants"
    label = "participants"
