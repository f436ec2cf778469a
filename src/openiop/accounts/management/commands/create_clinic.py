"""Start a real clinic: one organization and its first administrator.

    openiop create_clinic --name "Riverside Behavioral Health" --admin dana --email dana@example.org

The administrator is a clinic account (role "admin"), not a platform superuser: Django's
admin is for platform operators (`openiop createsuperuser`). The command prints a one-time
set-up link; the administrator opens it, sets a password, enrols an authenticator, then
invites staff at /accounts/staff/.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from openiop.accounts.models import InvitationPurpose, Role, StaffProfile, User
from openiop.accounts.services import LINK_DAYS, issue_link
from openiop.organizations.models import Organization, validate_time_zone


class Command(BaseCommand):
    help = "Create an organization and its first administrator (a clinic account)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The organization's name.")
        parser.add_argument("--slug", default="", help="Short identifier (default: from name).")
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--admin", required=True, help="The administrator's username.")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="Where OpenIOP is served, for the set-up link.")

    def handle(self, *args: object, **options: str) -> None:
        slug = options["slug"] or slugify(options["name"])[:80]
        if not slug:
            raise CommandError("--name: give the organization a name with letters or digits.")
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"--slug: an organization '{slug}' already exists.")
        try:
            validate_time_zone(options["time_zone"])
        except ValidationError as exc:
            raise CommandError(
                f"--time-zone: '{options['time_zone']}' is not a time zone name, "
                "e.g. America/Chicago."
            ) from exc
        if User.objects.filter(username__iexact=options["admin"]).exists():
            raise CommandError(f"--admin: the username '{options['admin']}' is taken.")
        if not options["base_url"].startswith(("http://", "https://")):
            raise CommandError("--base-url: start with https:// (or http:// locally).")
        with transaction.atomic():
            org = Organization.objects.create(name=options["name"], slug=slug,
                                              time_zone=options["time_zone"])
            user = User(username=options["admin"], email=options["email"],
                        first_name=options["first_name"], last_name=options["last_name"],
                        role=Role.ADMIN)
            user.set_unusable_password()
            user.save()
            StaffProfile.objects.create(user=user, organization=org, title="Administrator")
            token = issue_link(user=user, created_by=None, purpose=InvitationPurpose.INVITE)
        link = options["base_url"].rstrip("/") + reverse("accounts:invitation", args=[token])
        self.stdout.write(self.style.SUCCESS(
            f"Created {org.name} ({slug}) and administrator {user.username}."))
        self.stdout.write(
            f"One-time set-up link (works once, for {LINK_DAYS} days; give it to "
            f"{user.username} only):\n  {link}\nThey set a password and an authenticator "
            "there, then invite staff at /accounts/staff/.")
