from __future__ import annotations

from django.core.management.base import BaseCommand

from openiop.audit.checkpoints import audit_checkpoint_write


class Command(BaseCommand):
    help = ("Write a signed checkpoint of every audit chain to OPENIOP_AUDIT_CHECKPOINT_DIR "
            "(the background worker does this every hour).")

    def handle(self, *args: object, **options: object) -> None:
        path = audit_checkpoint_write()
        self.stdout.write(self.style.SUCCESS(f"Audit checkpoint written: {path}"))
