"""Portal verbs: secure messages, notes shared with family, family-access withdrawal."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.decisions import is_own_participant, require
from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import InvalidTransition
from openiop.participants.models import Consent, Participant

from .models import Message, SharedNote

MESSAGE_LIMIT = 4000


def _require_team(actor: User, participant: Participant) -> None:
    """Clinical staff the access policy lets write this participant's portal messages."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    require(actor, Kind.MESSAGES, participant, action="change")


def message_send(
    *, actor: User, participant: Participant, body: str, request: HttpRequest | None = None
) -> Message:
    """A message from the participant to their care team, or from the team to them."""
    from_participant = is_own_participant(actor, participant)
    if not from_participant:
        _require_team(actor, participant)
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": "Write a message before sending."})
    if len(text) > MESSAGE_LIMIT:
        raise ValidationError({"body": f"Keep a message under {MESSAGE_LIMIT} characters (it has {len(text)})."})
    with transaction.atomic():
        message = Message.objects.create(
            participant=participant, sender=actor, from_participant=from_participant, body=text,
            sent_at=timezone.now(),
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MESSAGE, object_id=message.code,
                     participant=participant, request=request)
    return message


def messages_mark_read(*, actor: User, participant: Participant) -> int:
    """Mark the other side's messages as read when this side opens the conversation."""
    from_participant = is_own_participant(actor, participant)
    if not from_participant:
        _require_team(actor, participant)
    return Message.objects.filter(
        participant=participant, from_participant=not from_participant, read_at__isnull=True
    ).update(read_at=timezone.now())


def shared_note_create(
    *, actor: User, participant: Participant, title: str, body: str, request: HttpRequest | None = None
) -> SharedNote:
    """A note the team writes for the family; visible only under the shared_notes scope."""
    _require_team(actor, participant)
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise ValidationError({"title": "Give the note a title."})
    if not body:
        raise ValidationError({"body": "Write the note before sharing it."})
    if len(body) > 4000 or len(title) > 200:
        raise ValidationError({"body": "Keep the title under 200 and the note under 4000 characters."})
    with transaction.atomic():
        note = SharedNote.objects.create(participant=participant, title=title, body=body,
                                         shared_by=actor, shared_at=timezone.now())
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SHARED_NOTE, object_id=note.code,
                     participant=participant, request=request)
    return note


def family_access_withdraw(*, actor: User, consent: Consent, request: HttpRequest | None = None) -> Consent:
    """The participant withdraws a family member's access; it ends with this request."""
    participant = consent.participant
    if not is_own_participant(actor, participant):
        _require_team(actor, participant)
    if consent.kind != Consent.Kind.FAMILY_ACCESS:
        raise InvalidTransition("Only family portal access can be withdrawn here.")
    if consent.revoked_at is not None:
        raise InvalidTransition("This access was already withdrawn.")
    now = timezone.now()
    with transaction.atomic():
        Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(revoked_at=now)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CONSENT, object_id=consent.code,
                     participant=participant, request=request, reason="family access withdrawn")
    consent.revoked_at = now
    return consent


def family_access_regrant(*, actor: User, consent: Consent, request: HttpRequest | None = None
                          ) -> Consent:
    """The participant gives a family member back the access they withdrew: a new consent
    with the same person, scopes and wording, from now (the withdrawn one stays on record)."""
    participant = consent.participant
    if not is_own_participant(actor, participant):
        _require_team(actor, participant)
    if consent.kind != Consent.Kind.FAMILY_ACCESS:
        raise InvalidTransition("Only family portal access can be given back here.")
    if consent.revoked_at is None:
        raise InvalidTransition("This access was not withdrawn.")
    now = timezone.now()
    still_active = Consent.objects.filter(
        participant=participant, kind=Consent.Kind.FAMILY_ACCESS,
        related_person=consent.related_person, revoked_at__isnull=True,
    ).exclude(expires_at__lte=now)
    if still_active.exists():
        raise InvalidTransition("This person already has access.")
    with transaction.atomic():
        renewed = Consent.objects.create(
            participant=participant, kind=consent.kind, recipient=consent.recipient,
            related_person=consent.related_person, scopes=list(consent.scopes or []),
            purpose=consent.purpose, text=consent.text, granted_at=now, recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CONSENT, object_id=renewed.code,
                     participant=participant, request=request,
                     reason=f"family access given back (replaces {consent.code})")
    return renewed
