"""Import directory listings from a CSV file (format: docs/finder-import.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.finder.services import import_limits, listing_import


class Command(BaseCommand):
    help = "Import finder listings from CSV; prints counts and every rejected row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, help="Source name, e.g. findtreatment-2026")

    def handle(self, *args: object, path: Path, source: str, **options: object) -> None:
        max_bytes, _rows = import_limits()
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if path.stat().st_size > max_bytes:
            raise CommandError(f"{path} is larger than the {max_bytes:,}-byte import limit.")
        try:
            run = listing_import(actor=None, source_name=source, filename=path.name,
                                 raw=path.read_bytes(), check_perm=False,
                                 progress=lambda m: self.stdout.write(m))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        for error in run.errors:
            self.stdout.write(f"line {error['line']} ({error['source_id']}): {error['message']}")
        for warning in run.warnings:
            self.stdout.write(f"line {warning['line']} ({warning['source_id']}): warning: "
                              f"{warning['message']}")
