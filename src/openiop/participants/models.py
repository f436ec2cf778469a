"""Participants, their family and support people, availability windows and consents."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from openiop.organizations.models import ZIP_VALIDATOR

PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9 ().-]{7,20}$", "Enter a phone number of 7 to 20 digits, e.g. (614) 555-0134."
)


class AdministrativeSex(models.TextChoices):
    """Sex for administrative purposes: the FHIR R4 AdministrativeGender codes
    (https://hl7.org/fhir/R4/valueset-administrative-gender.html), sent as Patient.gender."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class SexAtBirth(models.TextChoices):
    """Sex assigned at birth: the US Core Birth Sex value set, US Core 5.0 and later
    (https://hl7.org/fhir/us/core/STU6.1/ValueSet-birthsex.html): v3 AdministrativeGender
    F/M, v3 NullFlavor ASKU/UNK. Sent as the us-core-birthsex extension."""

    FEMALE = "F", "Female"
    MALE = "M", "Male"
    DECLINED = "ASKU", "Asked but declined to answer"
    UNKNOWN = "UNK", "Unknown"


class GenderIdentity(models.TextChoices):
    """Gender identity: the codes of the US Core gender identity extension's value set
    (https://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-genderIdentity.html,
    VSAC 2.16.840.1.113762.1.4.1021.32): SNOMED CT identities, v3 NullFlavor OTH/ASKU/UNK."""

    FEMALE = "446141000124107", "Identifies as female gender"
    MALE = "446151000124109", "Identifies as male gender"
    NONBINARY = "33791000087105", "Identifies as nonbinary gender"
    NONCONFORMING = "446131000124102", "Identifies as non-conforming gender"
    TRANS_FEMALE = "407376001", "Male-to-female transsexual"
    TRANS_MALE = "407377005", "Female-to-male transsexual"
    OTHER = "OTH", "Other"
    DECLINED = "ASKU", "Asked but declined to answer"
    UNKNOWN = "UNK", "Unknown"


class Participant(models.Model):
    """A person in treatment. Integer keys stay inside; URLs and APIs use `code`."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="participants"
    )
    mrn = models.CharField("MRN", max_length=30, help_text="Medical record number.")
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    administrative_sex = models.CharField(
        "Sex (administrative)", max_length=10, choices=AdministrativeSex.choices,
        default=AdministrativeSex.UNKNOWN,
        help_text="As on insurance and legal records.")
    sex_at_birth = models.CharField(
        "Sex assigned at birth", max_length=4, choices=SexAtBirth.choices, blank=True)
    gender_identity = models.CharField(
        max_length=20, choices=GenderIdentity.choices, blank=True)
    date_of_birth = models.DateField()
    preferred_language = models.CharField(max_length=40, default="English")
    phone = models.CharField(max_length=30, blank=True, validators=[PHONE_VALIDATOR])
    email = models.EmailField(blank=True)
    address1 = models.CharField("Street address", max_length=200, blank=True)
    address2 = models.CharField("Apartment or unit", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(
        "ZIP code", max_length=5, blank=True, validators=[ZIP_VALIDATOR]
    )
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = models.CharField(
        max_length=30, blank=True, validators=[PHONE_VALIDATOR]
    )
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    user = models.OneToOneField(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="participant",
        help_text="The participant's own portal account, if any.",
    )
    # Optimistic locking: every edit must carry the version it was made against.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mrn"], name="participant_mrn_unique_per_org"
            ),
        ]
        indexes = [
            # The participant list: one organization, sorted by name.
            models.Index(
                fields=["organization", "legal_last_name", "legal_first_name"],
                name="participant_org_name_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        if self.date_of_birth and self.date_of_birth.year < 1900:
            raise ValidationError({"date_of_birth": "Date of birth must be in 1900 or later."})

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class RelatedPerson(models.Model):
    """A family member or support person (FHIR RelatedPerson)."""

    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        GUARDIAN = "guardian", "Legal guardian"
        SPOUSE = "spouse", "Spouse or partner"
        CHILD = "child", "Adult child"
        SIBLING = "sibling", "Sibling"
        FRIEND = "friend", "Friend"
        SPONSOR = "sponsor", "Recovery sponsor"
        OTHER = "other", "Other"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="related_people"
    )
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    phone = models.CharField(max_length=30, blank=True, validators=[PHONE_VALIDATOR])
    email = models.EmailField(blank=True)
    may_contact = models.BooleanField(
        default=False, help_text="The participant allows the team to contact this person."
    )
    is_emergency_contact = models.BooleanField(default=False)
    user = models.OneToOneField(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="related_person",
        help_text="The family member's portal account, if any.",
    )

    class Meta:
        ordering = ["participant", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"

    def clean(self) -> None:
        errors = {}
        if self.is_emergency_contact and not self.phone:
            errors["phone"] = "An emergency contact needs a phone number."
        elif self.may_contact and not (self.phone or self.email):
            errors["may_contact"] = (
                "To allow contact, enter a phone number or an email address for this person."
            )
        if errors:
            raise ValidationError(errors)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Availability(models.Model):
    """A weekly window when the participant works, studies or otherwise cannot attend."""

    class Kind(models.TextChoices):
        WORK = "work", "Work"
        SCHOOL = "school", "School"
        CAREGIVING = "caregiving", "Caregiving"
        OTHER = "other", "Other commitment"

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="availability"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WORK)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["participant", "weekday", "start_time"]
        verbose_name_plural = "availability windows"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="availability_end_after_start",
                violation_error_message="The window must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        )

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError(
                {"end_time": "End time must be after the start time (windows cannot cross midnight; "
                 "split a night shift into two windows)."}
            )


class RecipientKind(models.TextChoices):
    """Who a Part 2 consent names as recipient: by name (a person, an organization, a
    registered app) or by general designation (a class), 42 CFR 2.31(a)(4) as amended by
    the final rule of 16 February 2024 (89 FR 12472)."""

    PERSON = "person", "A named person"
    ORGANIZATION = "organization", "A named organization"
    CLASS = "class", "A class of recipients (general designation)"
    APP = "app", "A registered app (OAuth client)"


class DisclosurePurpose(models.TextChoices):
    """The purpose of a disclosure (42 CFR 2.31(a)(5)), coded. The 2024 final rule
    (89 FR 12472) lets one consent cover all future uses and disclosures for treatment,
    payment and health care operations (2.33(b)); research needs a consent or the
    conditions of 2.52; any other purpose is stated in the consent's words."""

    TREATMENT = "treatment", "Treatment (42 CFR 2.11, 2.33(b))"
    PAYMENT = "payment", "Payment (42 CFR 2.11, 2.33(b))"
    OPERATIONS = "operations", "Health care operations (42 CFR 2.11, 2.33(b))"
    TPO = "tpo", "Treatment, payment and health care operations (42 CFR 2.33(b))"
    RESEARCH = "research", "Research (42 CFR 2.31(a)(5), 2.52)"
    PATIENT_REQUEST = "patient_request", "At the request of the patient (42 CFR 2.31(a)(5))"
    OTHER = "other", "Another purpose, described (42 CFR 2.31(a)(5))"


# The purposes a consent's coded purpose covers (a TPO consent covers each of the three).
PURPOSE_COVERS: dict[str, frozenset[str]] = {
    DisclosurePurpose.TPO: frozenset({DisclosurePurpose.TREATMENT, DisclosurePurpose.PAYMENT,
                                      DisclosurePurpose.OPERATIONS, DisclosurePurpose.TPO}),
}


class Consent(models.Model):
    """A participant's consent: 42 CFR Part 2 TPO consent, family access, releases.

    Part 2 records leave the system only under a recorded, unexpired, unrevoked consent
    (42 CFR 2.31, 2.32, final rule 89 FR 12472; docs/privacy-and-part2.md). Revocation takes
    effect at once.
    """

    class Kind(models.TextChoices):
        PART2_TPO = "part2_tpo", "Part 2: treatment, payment and health care operations"
        PART2_DISCLOSURE = "part2_disclosure", "Part 2: disclosure to a named recipient"
        FAMILY_ACCESS = "family_access", "Family member portal access"
        FAMILY_INVOLVEMENT = "family_involvement", "Family involvement in treatment"
        RELEASE = "release", "Release of information"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    recipient = models.CharField(max_length=200, blank=True)
    related_person = models.ForeignKey(
        RelatedPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    scopes = models.JSONField(
        default=list,
        blank=True,
        help_text="What is shared, e.g. ['family_schedule', 'family_education', 'shared_notes'].",
    )
    purpose = models.CharField(max_length=200, blank=True,
                               help_text="The purpose in words (required for 'other').")
    # The structured recipient and purpose a disclosure is matched against
    # (participants.disclosure): `recipient` above is the name, `recipient_kind` says what
    # it names, `recipient_app` links a registered OAuth client when the recipient is one.
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices,
                                      blank=True)
    recipient_app = models.ForeignKey(
        "oauth2_provider.Application", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text="The registered app the consent names as recipient, if any.")
    purpose_code = models.CharField(max_length=20, choices=DisclosurePurpose.choices,
                                    blank=True)
    text = models.TextField(blank=True, help_text="The consent wording the participant agreed to.")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The elements a written 42 CFR Part 2 consent must carry (42 CFR 2.31(a), as amended
    # by the 2024 final rule, 89 FR 12472): who discloses, what (amount and kind), to whom
    # (recipient: `recipient`), why (`purpose`), until when (`expires_at` or an event),
    # signed by whom and when. See docs/CONSENTS.md.
    disclosing_party = models.CharField(
        max_length=200, blank=True, help_text="Who may disclose (program or class).")
    information = models.CharField(
        max_length=500, blank=True, help_text="How much and what kind of information.")
    expiry_event = models.CharField(
        max_length=200, blank=True, help_text="The event that ends the consent, if no date.")
    signed_by_name = models.CharField(max_length=200, blank=True)
    signer_relationship = models.CharField(
        max_length=60, blank=True, help_text="Blank when the participant signed; else e.g. "
                                             "'parent' or 'legal guardian'.")
    signed_on = models.DateField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revocation_reason = models.CharField(max_length=300, blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The revoked consent this one gives again.")

    class Meta:
        ordering = ["participant", "-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("granted_at")),
                name="consent_expires_after_granted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.participant_id})"

    def is_active_at(self, moment: object | None = None) -> bool:
        now = moment or timezone.now()
        if self.revoked_at and self.revoked_at <= now:
            return False
        if self.expires_at and self.expires_at <= now:
            return False
        return self.granted_at <= now


class AppPurpose(models.Model):
    """The purpose of use a registered app (OAuth client) declares when it is registered:
    what its requests are for, matched against a consent's coded purpose before a Part 2
    record is disclosed to it (42 CFR 2.31(a)(5); participants.disclosure)."""

    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE,
                                       related_name="openiop_purpose")
    purpose_code = models.CharField(max_length=20, choices=DisclosurePurpose.choices)

    def __str__(self) -> str:
        return f"{self.application_id}: {self.purpose_code}"


class ParticipantRevision(models.Model):
    """The demographics as saved by each create or edit (the record's version history).

    Written by participants.services in the same transaction as the change; read by the
    FHIR Patient history (`_history`, vread).
    """

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE,
                                    related_name="revisions")
    version = models.PositiveIntegerField()
    data = models.JSONField(help_text="Field name -> value as saved (dates as ISO text).")
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["participant", "version"]
        constraints = [models.UniqueConstraint(fields=["participant", "version"],
                                               name="participant_revision_unique")]

    def __str__(self) -> str:
        return f"{self.participant_id} v{self.version}"
