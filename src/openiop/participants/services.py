"""Writes to participant records: one path for views, API and commands."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict

from .models import Availability, Participant, ParticipantRevision, RelatedPerson

PARTICIPANT_FIELDS = (
    "mrn", "legal_first_name", "legal_last_name", "preferred_name", "pronouns",
    "administrative_sex", "sex_at_birth", "gender_identity",
    "date_of_birth", "preferred_language", "phone", "email", "address1", "address2",
    "city", "state", "zip_code", "emergency_contact_name", "emergency_contact_phone",
    "emergency_contact_relationship",
)


def mrn_in_use(*, organization_id: int, mrn: str, exclude_pk: int | None = None) -> bool:
    """True when another participant of the organization has this MRN (case-insensitive)."""
    others = Participant.objects.filter(organization_id=organization_id, mrn__iexact=mrn)
    return (
        (others.exclude(pk=exclude_pk) if exclude_pk is not None else others)
        .exists()
    )


def duplicate_mrn_message(mrn: str) -> str:
    return f"MRN {mrn} is already used in this organization."


def _validate_unique_mrn(participant: Participant) -> None:
    if mrn_in_use(organization_id=participant.organization_id, mrn=participant.mrn,
                  exclude_pk=participant.pk):
        raise ValidationError({"mrn": duplicate_mrn_message(participant.mrn)})


def _revision(participant: Participant, actor: User) -> None:
    """Keep the demographics as saved, one row per version (the record's history)."""
    data = {f: getattr(participant, f) for f in PARTICIPANT_FIELDS}
    data["date_of_birth"] = participant.date_of_birth.isoformat()
    ParticipantRevision.objects.create(
        participant=participant, version=participant.version, data=data,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None)


def participant_create(
    *, actor: User, organization: Any, data: dict[str, Any], request: HttpRequest | None = None
) -> Participant:
    """Create a participant. Raises ValidationError naming the field; writes nothing then."""
    require_perm(actor, Perm.PARTICIPANT_CREATE)
    participant = Participant(organization=organization)
    for field in PARTICIPANT_FIELDS:
        if field in data:
            setattr(participant, field, data[field])
    _validate_unique_mrn(participant)
    participant.full_clean(validate_unique=False)
    with transaction.atomic():
        participant.save()
        _revision(participant, actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.PARTICIPANT,
                     object_id=participant.code, participant=participant, request=request)
    return participant


def participant_update(
    *,
    actor: User,
    participant: Participant,
    data: dict[str, Any],
    version: int,
    request: HttpRequest | None = None,
) -> Participant:
    """Update demographics if nobody saved since `version` was read; else raise Conflict."""
    require_perm(actor, Perm.PARTICIPANT_EDIT)
    for field in PARTICIPANT_FIELDS:
        if field in data:
            setattr(participant, field, data[field])
    _validate_unique_mrn(participant)
    participant.full_clean(validate_unique=False)
    with transaction.atomic():
        updated = Participant.objects.filter(pk=participant.pk, version=version).update(
            version=version + 1, **{f: getattr(participant, f) for f in PARTICIPANT_FIELDS}
        )
        if updated != 1:
            raise Conflict(
                "Someone else saved this record after you opened it. Your changes were not "
                "saved; reload to see their version, then apply yours again.",
                field="version",
            )
        participant.version = version + 1
        _revision(participant, actor)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.PARTICIPANT,
                     object_id=participant.code, participant=participant, request=request)
    participant.refresh_from_db()
    return participant


def availability_add(
    *, actor: User, participant: Participant, data: dict[str, Any], request: HttpRequest | None = None
) -> Availability:
    require_perm(actor, Perm.PARTICIPANT_EDIT)
    window = Availability(participant=participant, **data)
    window.full_clean()
    with transaction.atomic():
        window.save()
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.AVAILABILITY,
                     object_id=window.pk, participant=participant, request=request)
    return window


def availability_remove(
    *, actor: User, window: Availability, request: HttpRequest | None = None
) -> None:
    require_perm(actor, Perm.PARTICIPANT_EDIT)
    participant = window.participant
    with transaction.atomic():
        window_id = window.pk
        window.delete()
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.AVAILABILITY,
                     object_id=window_id, participant=participant, request=request,
                     reason="window removed")


def related_person_add(
    *, actor: User, participant: Participant, data: dict[str, Any], request: HttpRequest | None = None
) -> RelatedPerson:
    require_perm(actor, Perm.PARTICIPANT_EDIT)
    person = RelatedPerson(participant=participant, **data)
    person.full_clean()
    with transaction.atomic():
        person.save()
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.RELATED_PERSON,
                     object_id=person.code, participant=participant, request=request)
    return person
