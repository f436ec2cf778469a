from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from openiop.audit.models import AccessEvent
from openiop.audit.verify import audit_verify_report


class Command(BaseCommand):
    help = ("Verify every organization's audit chain (keyed hashes) and compare it with the "
            "latest signed checkpoint; report each broken link.")

    def handle(self, *args: object, **options: object) -> None:
        total = AccessEvent.objects.count()
        self.stdout.write(f"Checking {total} audit events ...")
        report = audit_verify_report(
            progress=lambda n: self.stdout.write(f"  {n}/{total} checked"))
        checkpoint = report.checkpoint
        if checkpoint is None:
            self.stderr.write(
                "WARNING: no audit checkpoint found: deleted newest events or a truncated "
                "table cannot be detected. Run the audit-checkpoint task "
                "(`openiop audit checkpoint`) on a schedule.")
        elif not checkpoint.error:
            self.stdout.write(f"Compared with the checkpoint of {checkpoint.written_at} "
                              f"({checkpoint.path.name}, {len(checkpoint.chains)} chains).")
        if report.problems:
            for problem in report.problems[1:]:
                self.stderr.write(f"  also: {problem.message}")
            first = report.problems[0]
            where = f" at event #{first.seq}" if first.seq is not None else ""
            raise CommandError(f"Audit chain BROKEN{where}: {first.message}")
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {report.events} events verified."))
        self.stdout.write(f"({len(report.chains)} chains, one per organization.)")
