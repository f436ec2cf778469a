from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from openiop.audit.models import AccessEvent
from openiop.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; report the first broken link."

    def handle(self, *args: object, **options: object) -> None:
        total = AccessEvent.objects.count()
        self.stdout.write(f"Checking {total} audit events ...")
        problem = audit_verify(progress=lambda n: self.stdout.write(f"  {n}/{total} checked"))
        if problem is not None:
            raise CommandError(f"Audit chain BROKEN at event #{problem.seq}: {problem.message}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {total} events verified."))
