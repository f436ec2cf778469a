from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openiop.demo.generator import build_demo, start_demo_job

POLL_SECONDS = 2.0


def pause() -> None:
    time.sleep(POLL_SECONDS)


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
        parser.add_argument("--background", action="store_true",
                            help="Queue it for a worker (`openiop worker`) instead of building "
                                 "it here; its progress shows on the jobs page.")
        parser.add_argument("--wait", action="store_true",
                            help="With --background: print the job's progress until it ends.")

    def handle(self, *args: object, **options: Any) -> None:
        if options["participants"] < 10:
            self.stderr.write("--participants must be at least 10")
            raise SystemExit(2)
        if options["background"]:
            self._background(options)
            return
        build_demo(
            seed=options["seed"],
            participants=options["participants"],
            today=options["today"],
            out=self.stdout,
        )

    def _background(self, options: dict[str, Any]) -> None:
        from openiop.jobs.models import Job

        job = start_demo_job(seed=options["seed"], participants=options["participants"],
                             today=options["today"])
        self.stdout.write(f"Queued job {job.code}: {job.label}. A worker (`openiop worker`) "
                          f"builds it; follow it on /jobs/{job.code}/.")
        if not options["wait"]:
            return
        shown = ""
        while True:
            job.refresh_from_db()
            line = f"{job.get_state_display()}: {job.percent}% {job.phase} {job.message}".strip()
            if line != shown:
                self.stdout.write(line)
                self.stdout.flush()
                shown = line
            if job.state == Job.State.SUCCEEDED:
                return
            if job.state == Job.State.FAILED:
                self.stderr.write(job.error)
                raise SystemExit(1)
            pause()
