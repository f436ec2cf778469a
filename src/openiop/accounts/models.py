"""Accounts: the custom user, staff profiles and roles."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    DIRECTOR = "director", "Program director"
    CLINICIAN = "clinician", "Clinician"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    INTAKE = "intake", "Intake coordinator"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING = "billing", "Billing"
    PARTICIPANT = "participant", "Participant"
    FAMILY = "family", "Family member"


STAFF_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.DIRECTOR,
        Role.CLINICIAN,
        Role.PRESCRIBER,
        Role.NURSE,
        Role.INTAKE,
        Role.FRONT_DESK,
        Role.BILLING,
    }
)


class Credential(models.TextChoices):
    """Professional credentials shown beside a signature."""

    MD = "MD", "MD (physician)"
    DO = "DO", "DO (physician)"
    NP = "NP", "NP (nurse practitioner)"
    PA = "PA", "PA (physician assistant)"
    RN = "RN", "RN (registered nurse)"
    LPN = "LPN", "LPN (licensed practical nurse)"
    PHD = "PhD", "PhD (psychologist)"
    PSYD = "PsyD", "PsyD (psychologist)"
    LCSW = "LCSW", "LCSW (licensed clinical social worker)"
    LMSW = "LMSW", "LMSW (licensed master social worker)"
    LMFT = "LMFT", "LMFT (licensed marriage and family therapist)"
    LPC = "LPC", "LPC (licensed professional counselor)"
    LMHC = "LMHC", "LMHC (licensed mental health counselor)"
    CADC = "CADC", "CADC (certified alcohol and drug counselor)"
    CPRS = "CPRS", "CPRS (certified peer recovery specialist)"
    RYT = "RYT", "RYT (registered yoga teacher)"
    ATR = "ATR", "ATR (registered art therapist)"


# Credentials that permit a clinical assessment and a level-of-care decision on one's own
# licence: physicians, nurse practitioners, physician assistants, psychologists and the
# independently licensed therapists. State Medicaid rules name such "licensed practitioners
# of the healing arts" for medical-necessity recommendations, e.g. New York DOH, Allowable
# LPHA memo (2019): https://www.health.ny.gov/health_care/medicaid/redesign/behavioral_health/children/lpha_memo.htm
# That memo also admits RNs and supervised master-level social workers; OpenIOP leaves them,
# certified counselors (CADC), peers and holistic staff out by default (program policy): they record
# screenings and may propose a level, which a credential below confirms.
ASSESSMENT_CREDENTIALS = frozenset({
    Credential.MD, Credential.DO, Credential.NP, Credential.PA, Credential.PHD,
    Credential.PSYD, Credential.LCSW, Credential.LMFT, Credential.LPC, Credential.LMHC,
})


class User(AbstractUser):
    """Everyone who signs in: staff, participants and family members."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    display_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def staff_organization_id(self) -> int | None:
        profile = getattr(self, "staff_profile", None)
        return profile.organization_id if profile else None

    @property
    def may_decide_level_of_care(self) -> bool:
        """A credential that permits assessment (ASSESSMENT_CREDENTIALS), on an active
        staff profile."""
        profile = getattr(self, "staff_profile", None)
        return bool(profile and profile.is_active
                    and profile.has_credential(*ASSESSMENT_CREDENTIALS))


class StaffProfile(models.Model):
    """A staff member's place in one organization: credentials, supervisor, limits."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="staff"
    )
    title = models.CharField(max_length=120, blank=True)
    credentials = models.JSONField(
        default=list, blank=True, help_text="Credential codes, e.g. ['LCSW', 'CADC']."
    )
    npi = models.CharField("NPI", max_length=10, blank=True)
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees"
    )
    requires_cosignature = models.BooleanField(
        default=False, help_text="Notes by this person need a supervisor's co-signature."
    )
    max_weekly_hours = models.PositiveSmallIntegerField(default=40)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.credential_label or self.user.get_role_display()})"

    @property
    def credential_label(self) -> str:
        return ", ".join(self.credentials)

    def has_credential(self, *codes: str) -> bool:
        return any(c in self.credentials for c in codes)


class InvitationPurpose(models.TextChoices):
    INVITE = "invite", "Invitation"
    RESET = "reset", "Password and second-factor reset"


class Invitation(models.Model):
    """A one-time link that lets an account holder set a password and enrol a second
    factor. Only the token's SHA-256 is stored; the link is shown once to whoever issued
    it. Enrolling a second factor is possible only through such a link, so a stolen
    password alone cannot enrol the thief's authenticator (NIST SP 800-63B section 6.1.2.1:
    binding an authenticator requires an authenticated session or an issued secret)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    purpose = models.CharField(max_length=10, choices=InvitationPurpose.choices,
                               default=InvitationPurpose.INVITE)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.user}"
