from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class AuditConfig(AppConfig):
    name = "openiop.audit"
    label = "audit"

    def ready(self) -> None:
        checks.register(audit_key_check, checks.Tags.security)


def audit_key_check(app_configs: object = None, *, engine: str = "",
                    **kwargs: object) -> list[checks.CheckMessage]:
    """A production database (PostgreSQL) with the development audit key from var/ is a
    misconfiguration: the key must come from the environment, away from the database."""
    engine = engine or settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine and not getattr(settings, "OPENIOP_AUDIT_KEY_FROM_ENV", True):
        return [checks.Warning(
            "OPENIOP_AUDIT_KEY is not set: the audit chains are keyed with the development "
            "key generated in var/.",
            hint="Set OPENIOP_AUDIT_KEY (32+ random characters) from a secret store, not "
                 "from the database host's disk (docs/AUDIT.md).",
            id="openiop.audit.W001")]
    return []
