"""Send reads that tolerate a little lag (the public finder, reports) to a read replica.

Enabled by DATABASE_REPLICA_URL (a PostgreSQL streaming replica of the primary). Reads of
the apps in OPENIOP_REPLICA_APPS go to the "replica" alias; every write, and every read of
anything else (charts, notes, schedules: what a clinician just changed must show at once),
goes to the primary. Migrations run on the primary only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def has_replica() -> bool:
    return "replica" in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        apps = getattr(settings, "OPENIOP_REPLICA_APPS", ())
        if model._meta.app_label in apps and has_replica():
            return "replica"
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database and its copy: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"
