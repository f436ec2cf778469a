"""Start a real clinic: one organization and its first administrator.

    openiop create_clinic --name "Riverside Behavioral Health" --admin dana --email dana@example.org

The password is asked for twice (or read from OPENIOP_ADMIN_PASSWORD for automation) and
checked against the password rules. The administrator then signs in, confirms a second
factor, and adds sites, rooms, programs and staff in the admin (/admin/).
"""

from __future__ import annotations

import getpass
import os
import zoneinfo

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from openiop.accounts.models import Role, StaffProfile, User
from openiop.organizations.models import Organization


class Command(BaseCommand):
    help = "Create an organization and its first administrator (a staff account)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The organization's name.")
        parser.add_argument("--slug", default="", help="Short identifier (default: from name).")
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--admin", required=True, help="The administrator's username.")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: object, **options: str) -> None:
        slug = options["slug"] or slugify(options["name"])[:80]
        if not slug:
            raise CommandError("--name: give the organization a name with letters or digits.")
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"--slug: an organization '{slug}' already exists.")
        try:
            zoneinfo.ZoneInfo(options["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(
                f"--time-zone: '{options['time_zone']}' is not a time zone name, "
                "e.g. America/Chicago."
            ) from exc
        if User.objects.filter(username=options["admin"]).exists():
            raise CommandError(f"--admin: the username '{options['admin']}' is taken.")
        user = User(username=options["admin"], email=options["email"],
                    first_name=options["first_name"], last_name=options["last_name"],
                    role=Role.ADMIN, is_staff=True, is_superuser=True)
        password = self._password(user)
        with transaction.atomic():
            org = Organization.objects.create(name=options["name"], slug=slug,
                                              time_zone=options["time_zone"])
            user.set_password(password)
            user.save()
            StaffProfile.objects.create(user=user, organization=org, title="Administrator")
        self.stdout.write(self.style.SUCCESS(
            f"Created {org.name} ({slug}) and administrator {user.username}. Sign in, confirm "
            "a second factor, then add sites, rooms, programs and staff at /admin/."))

    def _password(self, user: User) -> str:
        password = os.environ.get("OPENIOP_ADMIN_PASSWORD")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password: " + " ".join(exc.messages)) from exc
        return password
