"""Break the glass: create and revoke emergency-access grants (audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

from .decisions import AccessDenied, require_organization
from .models import BreakGlassGrant

if TYPE_CHECKING:
    from openiop.participants.models import Participant

BREAK_GLASS_MINUTES = 60
REASON_LIMIT = 500


def break_glass_grant(*, actor: User, participant: Participant, reason: str,
                      request: HttpRequest | None = None) -> BreakGlassGrant:
    """Emergency read access to this participant's clinical records for 60 minutes.

    Staff of the participant's organization with clinical access only; the reason is
    required and goes into the audit trail (45 CFR 164.312(a)(2)(ii), (b)).
    """
    require_organization(actor, participant.organization_id)
    try:
        require_perm(actor, Perm.CLINICAL_VIEW)
    except Exception as exc:
        raise AccessDenied("Your role may not read clinical records, even in an emergency.") from exc
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError({"reason": "Give the reason for emergency access."})
    if len(text) > REASON_LIMIT:
        raise ValidationError({"reason": f"Keep the reason under {REASON_LIMIT} characters."})
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            actor=actor, participant=participant, reason=text, created_at=now,
            expires_at=now + timedelta(minutes=BREAK_GLASS_MINUTES))
        audit_record(actor=actor, action=Action.BREAK_GLASS, object_type=ObjectType.CLINICAL_RECORD,
                     object_id=participant.code, participant=participant, request=request,
                     reason=text)
    return grant


def break_glass_revoke(*, actor: User, grant: BreakGlassGrant,
                       request: HttpRequest | None = None) -> BreakGlassGrant:
    """End a grant early: its holder, or a director/administrator reviewing grants."""
    require_organization(actor, grant.participant.organization_id)
    if actor.pk != grant.actor_id:
        try:
            require_perm(actor, Perm.AUDIT_VIEW)
        except Exception as exc:
            raise AccessDenied("Only the holder or a reviewer may end emergency access.") from exc
    now = timezone.now()
    with transaction.atomic():
        updated = BreakGlassGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor)
        if updated:
            audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.BREAK_GLASS_GRANT,
                         object_id=grant.pk, participant=grant.participant, request=request,
                         reason="emergency access ended")
    grant.refresh_from_db()
    return grant
