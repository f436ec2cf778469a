from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openiop.core"
    label = "core"

    def ready(self) -> None:
        from django import forms
        from django.core.validators import MaxValueValidator, MinValueValidator

        # Every whole number a form accepts fits the database's 64-bit integers, so a value
        # such as 10**30 in any form (a hidden version field, a count) is a form error naming
        # the field, never a database overflow. Fields with their own min/max keep them too.
        forms.IntegerField.default_validators = [MinValueValidator(-(2**63)),
                                                 MaxValueValidator(2**63 - 1)]
