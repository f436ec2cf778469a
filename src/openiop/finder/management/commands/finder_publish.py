"""Refresh the finder listings of every published program on this instance."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from openiop.finder.services import listing_publish_organization


class Command(BaseCommand):
    help = "Publish or refresh the listing of each published program from its own data."

    def handle(self, *args: object, **options: object) -> None:
        listings = listing_publish_organization()
        self.stdout.write(f"{len(listings)} listing(s) published.")
