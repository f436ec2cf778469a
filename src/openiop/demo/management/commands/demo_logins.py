from __future__ import annotations

from django.core.management.base import BaseCommand

from openiop.demo.generator import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Print every demo login (all staff roles and the two portal accounts)."

    def handle(self, *args: object, **options: object) -> None:
        rows = demo_logins()
        if not rows:
            self.stdout.write("No demo clinic loaded (run `openiop demo`).")
            return
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for role, username, name in rows:
            self.stdout.write(f"  {username:<12} {role:<46} {name}")
        self.stdout.write("")
