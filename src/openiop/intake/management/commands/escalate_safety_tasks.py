"""Escalate unacknowledged safety tasks past their deadline (one step each). Safe to run
as often as you like: a step is taken once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from openiop.intake.safety import safety_tasks_escalate


class Command(BaseCommand):
    help = "Escalate unacknowledged safety tasks past their deadline."

    def handle(self, *args: Any, **options: Any) -> None:
        made = safety_tasks_escalate(now=timezone.now())
        self.stdout.write(f"{len(made)} safety task escalation(s).")
