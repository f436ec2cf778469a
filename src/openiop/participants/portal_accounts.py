"""Portal accounts for a participant and their family members (services): invite by a
one-time set-up link, a new link, deactivate. The portal shows a family member only what
an active family-access consent allows, so a family member is invited only under one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import Invitation, InvitationPurpose, Role, User
from openiop.accounts.services import issue_link
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

from .consents import require_consent_manager
from .models import Consent, Participant, RelatedPerson


def _holder(participant: Participant, related_person: RelatedPerson | None
            ) -> Participant | RelatedPerson:
    if related_person is not None and related_person.participant_id != participant.pk:
        raise ValidationError({"related_person": "Choose one of the participant's people."})
    return related_person or participant


def portal_invite(*, actor: User, participant: Participant, username: str, email: str = "",
                  related_person: RelatedPerson | None = None,
                  request: HttpRequest | None = None) -> tuple[User, str]:
    """Create the portal account without a password; return it and its set-up link token."""
    require_consent_manager(actor, participant)
    holder = _holder(participant, related_person)
    if holder.user_id is not None:
        raise ValidationError({"username": "This person already has a portal account: give "
                                           "them a new set-up link instead."})
    username = username.strip()
    if not username:
        raise ValidationError({"username": "Choose a username."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username '{username}' is taken."})
    if related_person is not None and not Consent.objects.filter(
            participant=participant, kind=Consent.Kind.FAMILY_ACCESS,
            related_person=related_person, revoked_at__isnull=True,
    ).exclude(expires_at__lte=timezone.now()).exists():
        raise ValidationError({"related_person": "Record the participant's family-access "
                                                 "consent for this person first."})
    with transaction.atomic():
        user = User(username=username, email=email.strip(),
                    role=Role.FAMILY if related_person else Role.PARTICIPANT,
                    display_name=related_person.name if related_person
                    else participant.display_name)
        user.set_unusable_password()
        user.save()
        holder.user = user
        holder.save(update_fields=["user"])
        token = issue_link(user=user, created_by=actor, purpose=InvitationPurpose.INVITE)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.PORTAL_ACCOUNT,
                     object_id=user.code, participant=participant, request=request,
                     reason="family member invited" if related_person else "participant invited")
    return user, token


def portal_new_link(*, actor: User, participant: Participant,
                    related_person: RelatedPerson | None = None,
                    request: HttpRequest | None = None) -> str:
    """A new set-up link (forgotten password): the old password stops working now."""
    require_consent_manager(actor, participant)
    holder = _holder(participant, related_person)
    user = holder.user
    if user is None or not user.is_active:
        raise ValidationError({"user": "This person has no active portal account."})
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        token = issue_link(user=user, created_by=actor, purpose=InvitationPurpose.RESET)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.PORTAL_ACCOUNT,
                     object_id=user.code, participant=participant, request=request,
                     reason="new set-up link")
    return token


def portal_set_active(*, actor: User, participant: Participant, active: bool,
                      related_person: RelatedPerson | None = None, reason: str = "",
                      request: HttpRequest | None = None) -> User:
    """Deactivate (sign-in refused at once) or reactivate a portal account."""
    require_consent_manager(actor, participant)
    holder = _holder(participant, related_person)
    user = holder.user
    if user is None:
        raise ValidationError({"user": "This person has no portal account."})
    if not active and not reason.strip():
        raise ValidationError({"reason": "Say why the portal account is deactivated."})
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        if not active:
            Invitation.objects.filter(user=user, used_at__isnull=True).update(
                used_at=timezone.now())
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.PORTAL_ACCOUNT,
                     object_id=user.code, participant=participant, request=request,
                     reason=("reactivated" if active else f"deactivated: {reason.strip()}")[:500])
    user.refresh_from_db()
    return user
