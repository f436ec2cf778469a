from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from openiop.demo.generator import build_demo


class Command(BaseCommand):
    help = (
        "Build the synthetic demo clinic (idempotent: does nothing when it exists). "
        "All people are invented; no real data is ever used."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument("--participants", type=int, default=60,
                            help="Number of participants (default 60; benchmarks use 5000).")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="Pretend today is this date (YYYY-MM-DD), for reproducible data.")

    def handle(self, *args: object, **options: object) -> None:
        if options["participants"] < 10:
            self.stderr.write("--participants must be at least 10")
            raise SystemExit(2)
        build_demo(
            seed=options["seed"],
            participants=options["participants"],
            today=options["today"],
            out=self.stdout,
        )
