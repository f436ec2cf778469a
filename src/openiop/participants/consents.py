"""Recording, revoking and giving again a participant's consents (services).

A 42 CFR Part 2 consent must name who discloses, the amount and kind of information, the
recipient (by name or general designation), the purpose, an expiry date or event, and
carry the patient's (or representative's) signature and its date, with a statement of the
right to revoke (42 CFR 2.31(a)(1)-(9) as amended by the final rule of February 16, 2024,
89 FR 12472). Revocation takes effect at once for what has not yet been disclosed
(42 CFR 2.31(a)(6)). The wording stored with each consent is `consent_text`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import InvalidTransition, NotPermitted

from .models import Consent, DisclosurePurpose, Participant, RecipientKind, RelatedPerson

PART2_KINDS = (Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE)
FAMILY_SCOPES = {
    "family_schedule": "Family-session schedule",
    "family_education": "Family-education modules",
    "shared_notes": "Notes the team shares with family",
}

# 42 CFR 2.31(a)(6): the right to revoke; 2.32: the notice that goes with a disclosure.
REVOKE_STATEMENT = (
    "I understand that I may revoke this consent at any time, in writing or orally, except "
    "to the extent that the program has already acted on it, by telling {program}.")
REDISCLOSURE_STATEMENT = (
    "I understand that records disclosed under this consent are protected by federal "
    "confidentiality rules (42 CFR part 2) and, for a recipient that is not covered by "
    "HIPAA, may not be further disclosed unless this consent or 42 CFR part 2 permits it.")


def require_consent_manager(actor: User, participant: Participant) -> None:
    """Consents and portal accounts: the admitting roles, in the participant's organization."""
    require_perm(actor, Perm.ADMIT)
    if participant.organization_id != actor.staff_organization_id:
        raise NotPermitted("That participant is not in your organization.")


def consent_text(consent: Consent, participant: Participant) -> str:
    """The consent's wording, every element spelled out (stored with the consent)."""
    program = consent.disclosing_party or participant.organization.name
    until = (f"until {timezone.localtime(consent.expires_at):%B %-d, %Y}"
             if consent.expires_at else f"until {consent.expiry_event}")
    if consent.kind == Consent.Kind.FAMILY_ACCESS:
        shared = ", ".join(FAMILY_SCOPES.get(s, s) for s in consent.scopes) or "nothing"
        lines = [f"I, {consent.signed_by_name}, allow {consent.recipient} to see in the "
                 f"OpenIOP portal: {shared}, about {participant.legal_name}, {until}."]
    else:
        lines = [
            f"I, {consent.signed_by_name}, authorize {program} to disclose "
            f"{consent.information} about {participant.legal_name} "
            f"(born {participant.date_of_birth:%B %-d, %Y}) to {consent.recipient} "
            f"for this purpose: {consent.purpose}.",
            f"This consent lasts {until}.",
            REDISCLOSURE_STATEMENT,
        ]
    lines.append(REVOKE_STATEMENT.format(program=program))
    signer = consent.signed_by_name + (f" ({consent.signer_relationship})"
                                       if consent.signer_relationship else "")
    lines.append(f"Signed by {signer} on {consent.signed_on:%B %-d, %Y}.")
    return "\n\n".join(lines)


def _validate_common(*, signed_by_name: str, signed_on: date | None,
                     expires_at: datetime | None, expiry_event: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not signed_by_name.strip():
        errors["signed_by_name"] = "Type the name of the person who signed."
    if signed_on is None:
        errors["signed_on"] = "Give the date it was signed."
    elif signed_on > timezone.localdate():
        errors["signed_on"] = "The signature date cannot be in the future."
    if expires_at is None and not expiry_event.strip():
        errors["expires_at"] = "Give an expiry date or the event that ends the consent."
    elif expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry date must be in the future."
    elif expires_at is not None and expires_at.year > timezone.now().year + 100:
        errors["expires_at"] = "The expiry date must be within 100 years."
    if signed_on is not None and signed_on.year < 1900:
        errors["signed_on"] = "Give the real date it was signed."
    return errors


def _recipient_and_purpose(*, actor: User, kind: str, recipient: str, recipient_kind: str,
                           recipient_app: Any, purpose: str, purpose_code: str,
                           errors: dict[str, str]) -> tuple[str, str, Any, str, str]:
    """A Part 2 consent's structured recipient (who, by name or class, 2.31(a)(4)) and
    coded purpose (2.31(a)(5)), checked; what participants.disclosure matches against."""
    if kind == Consent.Kind.PART2_TPO:
        # A TPO consent covers treatment, payment and health care operations (2.33(b)).
        purpose_code = DisclosurePurpose.TPO
    if recipient_kind not in RecipientKind.values:
        errors["recipient_kind"] = ("Say whom the consent names: a person, an organization, "
                                    "a class of recipients or a registered app.")
    elif recipient_kind == RecipientKind.APP:
        if recipient_app is None or getattr(getattr(recipient_app, "user", None),
                                            "staff_organization_id", None) !=                 actor.staff_organization_id:
            errors["recipient_app"] = "Choose one of your organization's registered apps."
        else:
            recipient = recipient.strip() or recipient_app.name
    else:
        recipient_app = None
    if purpose_code not in DisclosurePurpose.values:
        errors["purpose_code"] = "Choose the purpose of the disclosure."
    elif purpose_code == DisclosurePurpose.OTHER and not purpose.strip():
        errors["purpose"] = "Describe the purpose in words."
    elif not purpose.strip():
        purpose = DisclosurePurpose(purpose_code).label.split(" (")[0].lower()
    return recipient, recipient_kind, recipient_app, purpose, purpose_code


def consent_record(*, actor: User, participant: Participant, kind: str, signed_by_name: str,
                   signed_on: date | None, recipient: str = "", purpose: str = "",
                   recipient_kind: str = "", recipient_app: Any = None,
                   purpose_code: str = "",
                   information: str = "", disclosing_party: str = "",
                   related_person: RelatedPerson | None = None, scopes: list[str] | None = None,
                   expires_at: datetime | None = None, expiry_event: str = "",
                   signer_relationship: str = "", replaces: Consent | None = None,
                   request: HttpRequest | None = None) -> Consent:
    """Record a signed Part 2 or family-access consent with every required element."""
    require_consent_manager(actor, participant)
    errors = _validate_common(signed_by_name=signed_by_name, signed_on=signed_on,
                              expires_at=expires_at, expiry_event=expiry_event)
    scopes = list(dict.fromkeys(scopes or []))
    if kind in PART2_KINDS:
        recipient, recipient_kind, recipient_app, purpose, purpose_code = \
            _recipient_and_purpose(actor=actor, kind=kind, recipient=recipient,
                                   recipient_kind=recipient_kind, recipient_app=recipient_app,
                                   purpose=purpose, purpose_code=purpose_code, errors=errors)
        for field, value, message in (
            ("recipient", recipient, "Name the recipient, or a general designation such as "
                                     "'my treating providers'."),
            ("information", information, "Describe how much and what kind of information."),
        ):
            if not value.strip():
                errors[field] = message
    elif kind == Consent.Kind.FAMILY_ACCESS:
        if related_person is None or related_person.participant_id != participant.pk:
            errors["related_person"] = "Choose one of the participant's family or support people."
        if not scopes or any(s not in FAMILY_SCOPES for s in scopes):
            errors["scopes"] = "Choose what the family member may see."
        recipient = related_person.name if related_person is not None else recipient
        recipient_kind, recipient_app, purpose_code = RecipientKind.PERSON, None, ""
        purpose = purpose or "family involvement in treatment"
    else:
        errors["kind"] = "Record a Part 2 consent or a family-access consent here."
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        participant=participant, kind=kind, recipient=recipient.strip(),
        related_person=related_person if kind == Consent.Kind.FAMILY_ACCESS else None,
        scopes=scopes if kind == Consent.Kind.FAMILY_ACCESS else [], purpose=purpose.strip(),
        recipient_kind=recipient_kind, recipient_app=recipient_app, purpose_code=purpose_code,
        information=information.strip(),
        disclosing_party=disclosing_party.strip() or participant.organization.name,
        expires_at=expires_at, expiry_event=expiry_event.strip(),
        signed_by_name=signed_by_name.strip(), signer_relationship=signer_relationship.strip(),
        signed_on=signed_on, granted_at=timezone.now(), recorded_by=actor, replaces=replaces)
    consent.text = consent_text(consent, participant)
    with transaction.atomic():
        consent.save()
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CONSENT,
                     object_id=consent.code, participant=participant, request=request,
                     reason=(f"{consent.get_kind_display()} to {consent.recipient}"
                             + (f" (gives again {replaces.code})" if replaces else ""))[:500])
    return consent


def consent_revoke(*, actor: User, consent: Consent, reason: str,
                   request: HttpRequest | None = None) -> Consent:
    """Revoke at once, recording who and why."""
    require_consent_manager(actor, consent.participant)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the consent is revoked (e.g. 'revoked by "
                                         "the participant by phone')."})
    if consent.revoked_at is not None:
        raise InvalidTransition("This consent was already revoked.")
    now = timezone.now()
    with transaction.atomic():
        updated = Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, revocation_reason=reason.strip()[:300])
        if updated != 1:
            raise InvalidTransition("This consent was already revoked.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CONSENT,
                     object_id=consent.code, participant=consent.participant,
                     request=request, reason=f"revoked: {reason.strip()}"[:500])
    consent.refresh_from_db()
    return consent
