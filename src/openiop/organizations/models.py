"""Organizations, their sites (with coordinates for the finder) and rooms."""

from __future__ import annotations

import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

ZIP_VALIDATOR = RegexValidator(r"^\d{5}$", "Enter a 5-digit US ZIP code, e.g. 43215.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as America/New_York.")


class Organization(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    phone = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)
    is_part2_program = models.BooleanField(
        "Part 2 program",
        default=True,
        help_text="Holds substance-use treatment records covered by 42 CFR Part 2.",
    )
    # Which statement of 42 CFR 2.32(a) accompanies each disclosure made with consent: the
    # full statement (a)(1) or the abbreviated (a)(2); the program chooses (final rule of
    # 16 February 2024, 89 FR 12472). The texts are in participants.disclosure.
    part2_notice = models.CharField(
        "Part 2 notice with disclosures", max_length=12, default="full",
        choices=[("full", "The full statement, 42 CFR 2.32(a)(1)"),
                 ("abbreviated", "The abbreviated statement, 42 CFR 2.32(a)(2)")])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The organization's time zone: every local day and hour of its clinics."""
        return zoneinfo.ZoneInfo(self.time_zone)


class Site(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    address1 = models.CharField("Street address", max_length=200)
    address2 = models.CharField("Suite or floor", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP code", max_length=5, validators=[ZIP_VALIDATOR])
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address_line(self) -> str:
        street = ", ".join(p for p in (self.address1, self.address2) if p)
        return f"{street}, {self.city}, {self.state} {self.zip_code}"


class Room(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="room_name_unique_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.site.name})"
