"""Program listings for the public finder, contact requests and import runs.

A Listing is what a person sees in the finder (FHIR R4 HealthcareService,
https://hl7.org/fhir/R4/healthcareservice.html). Programs on this OpenIOP instance publish
theirs from program and track data (`services.listing_publish_program`), with openings
computed live; other programs come from CSV imports (`importer.py`). Multi-valued facts are
lists of codes from `vocab.py`; `tags` repeats them in one delimited string so every filter
is one indexed-prefiltered LIKE on the rows inside the search box.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.organizations.models import ZIP_VALIDATOR

from . import vocab


class Listing(models.Model):
    class Source(models.TextChoices):
        LOCAL = "local", "Program on this OpenIOP instance"
        IMPORT = "import", "Imported directory listing"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.IMPORT)
    program = models.OneToOneField(
        "care.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="listing"
    )
    # Imported rows: "<source name>:<id in that source>", the key of idempotent re-import.
    source_key = models.CharField(max_length=200, null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)

    name = models.CharField(max_length=200)
    organization_name = models.CharField("Organization", max_length=200, blank=True)
    description = models.TextField(blank=True)
    address1 = models.CharField("Street address", max_length=200, blank=True)
    address2 = models.CharField("Suite or floor", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP code", max_length=5, validators=[ZIP_VALIDATOR])
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    phone = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)

    focus = models.CharField(max_length=2, choices=list(vocab.FOCUS.items()))
    levels_of_care = models.JSONField(default=list, blank=True)
    populations = models.JSONField(default=list, blank=True)
    therapies = models.JSONField(default=list, blank=True)
    medication_management = models.BooleanField(default=False)
    moud = models.JSONField("Medications for opioid use disorder", default=list, blank=True)
    holistic = models.JSONField(default=list, blank=True)
    schedule_options = models.JSONField(default=list, blank=True)
    hours_per_week_min = models.PositiveSmallIntegerField(null=True, blank=True)
    hours_per_week_max = models.PositiveSmallIntegerField(null=True, blank=True)
    typical_length_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    telehealth = models.BooleanField(default=False)
    languages = models.JSONField(default=list, blank=True)
    payment = models.JSONField(default=list, blank=True)
    insurers = models.JSONField("Private insurers accepted", default=list, blank=True)
    accreditation = models.JSONField(default=list, blank=True)
    locator_codes = models.JSONField(default=list, blank=True)

    openings = models.PositiveIntegerField(null=True, blank=True)
    openings_updated_at = models.DateTimeField(null=True, blank=True)

    tags = models.TextField(editable=False, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"], condition=Q(source_key__isnull=False),
                name="finder_listing_source_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(hours_per_week_max__isnull=True)
                | Q(hours_per_week_min__isnull=True)
                | Q(hours_per_week_max__gte=models.F("hours_per_week_min")),
                name="finder_listing_hours_range",
            ),
        ]
        indexes = [
            # Search: the bounding-box prefilter `latitude BETWEEN a AND b AND longitude
            # BETWEEN c AND d` (selectors.listing_search) before the exact haversine.
            models.Index(fields=["latitude", "longitude"], name="finder_listing_lat_lon"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.tags = build_tags(self)
        super().save(*args, **kwargs)

    @property
    def is_local(self) -> bool:
        return self.program_id is not None

    @property
    def address_line(self) -> str:
        street = ", ".join(p for p in (self.address1, self.address2) if p)
        place = f"{self.city}, {self.state} {self.zip_code}"
        return f"{street}, {place}" if street else place

    @property
    def hours_label(self) -> str:
        lo, hi = self.hours_per_week_min, self.hours_per_week_max
        if lo and hi and lo != hi:
            return f"{lo}-{hi} hours a week"
        if lo or hi:
            return f"{lo or hi} hours a week"
        return ""


def tag_values(listing: Listing) -> list[str]:
    """Every filterable fact as `kind:value`; `tags` stores them as |a|b|c|."""
    out = [f"focus:{listing.focus}"]
    pairs = (
        ("lvl", listing.levels_of_care), ("pop", listing.populations),
        ("ther", listing.therapies), ("moud", listing.moud), ("hol", listing.holistic),
        ("sch", listing.schedule_options), ("pay", listing.payment),
        ("acc", listing.accreditation),
    )
    for kind, values in pairs:
        out.extend(f"{kind}:{v}" for v in values or [])
    out.extend(f"ins:{tag_slug(v)}" for v in listing.insurers or [])
    out.extend(f"lang:{tag_slug(v)}" for v in listing.languages or [])
    if listing.medication_management:
        out.append("med:yes")
    if listing.moud:
        out.append("moud:any")
    if listing.telehealth:
        out.append("tele:yes")
    return out


def tag_slug(text: str) -> str:
    return "-".join(str(text).lower().replace("|", " ").split())


def build_tags(listing: Listing) -> str:
    return "|" + "|".join(tag_values(listing)) + "|"


class ContactRequest(models.Model):
    """A member of the public asking a program on this instance to get in touch.

    Holds what the person typed and the exact consent text they agreed to. Delivered to
    the program's referral queue by `services.contact_request_create`.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        DELIVERED = "delivered", "Delivered to the referral queue"

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"

    class Requester(models.TextChoices):
        SELF = "self", "For myself"
        FAMILY = "family", "For a family member or friend"
        PROFESSIONAL = "professional", "As a professional (e.g. discharge planner)"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="contact_requests")
    program = models.ForeignKey(
        "care.Program", on_delete=models.PROTECT, related_name="contact_requests"
    )
    name = models.CharField(max_length=120)
    requester = models.CharField(max_length=20, choices=Requester.choices,
                                 default=Requester.SELF)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    best_time = models.CharField("Best time to reach you", max_length=120, blank=True)
    need = models.TextField("What you need", max_length=2000)
    consent_text = models.TextField()
    consented_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    referral_code = models.CharField(max_length=64, blank=True,
                                     help_text="The referral it became in the intake queue.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Staff list of a program's requests, newest first.
            models.Index(fields=["program", "-created_at"], name="finder_contact_prog_created"),
        ]

    def __str__(self) -> str:
        return f"Contact request {self.code}"


class ImportRun(models.Model):
    """One CSV import: counts and the row-level error report."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_name = models.CharField(max_length=60)
    filename = models.CharField(max_length=255)
    actor = models.ForeignKey("accounts.User", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.filename} ({self.created_at:%Y-%m-%d %H:%M})"
