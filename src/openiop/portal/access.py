"""Who may see what in the portal.

A participant sees only their own record; a family member sees only the parts the
participant consented to (participants.Consent of kind family_access, active now:
revocation takes effect on the next request), as the access module decides
(`openiop.access.decisions.family_allows`: the consent's scope, then the policy table). Anything else is a 404, and the attempt is
written to the audit trail as "denied" (a 404 says nothing about whether the record exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from openiop.access.decisions import family_allows, family_consents, family_scopes
from openiop.accounts.models import Role
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.participants.consents import FAMILY_SCOPES
from openiop.participants.models import Participant, RelatedPerson

if TYPE_CHECKING:
    from openiop.accounts.models import User

__all__ = ["FAMILY_SCOPES", "audit_view", "deny", "family_consents", "family_portal",
           "family_scopes", "own_object", "participant_portal"]


def deny(request: HttpRequest, *, object_type: ObjectType, object_id: object = "",
         participant: Participant | None = None, reason: str = "") -> Http404:
    """Audit a refused portal access and return the 404 to raise."""
    audit_record(actor=request.user, action=Action.DENIED, object_type=object_type,
                 object_id=object_id, participant=participant, request=request, reason=reason)
    return Http404()


def _participant_of(user: User) -> Participant | None:
    if getattr(user, "role", "") != Role.PARTICIPANT:
        return None
    try:
        return user.participant
    except Participant.DoesNotExist:
        return None


def _related_person_of(user: User) -> RelatedPerson | None:
    if getattr(user, "role", "") != Role.FAMILY:
        return None
    try:
        return RelatedPerson.objects.select_related("participant", "participant__organization").get(user=user)
    except RelatedPerson.DoesNotExist:
        return None


def participant_portal(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in participants with a record; sets request.participant. Others: login or 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        participant = _participant_of(request.user)
        if participant is None:
            raise deny(request, object_type=ObjectType.PORTAL, reason="not a participant account")
        request.participant = participant
        return view(request, *args, **kwargs)

    return wrapped


def family_portal(scope: str | None = None) -> Callable:
    """Signed-in family members; with `scope`, only while a consent grants it."""
    # The scope is also the object type of the disclosure (ValueError here, at import, for
    # a scope the audit vocabulary does not list).
    scope_type = ObjectType(scope) if scope is not None else None

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            related = _related_person_of(request.user)
            if related is None:
                raise deny(request, object_type=ObjectType.FAMILY_PORTAL, reason="not a family account")
            scopes = family_scopes(related)
            if scope is not None and not family_allows(request.user, related.participant, scope):
                raise deny(request, object_type=ObjectType.FAMILY_PORTAL, object_id=scope,
                           participant=related.participant, reason=f"no consent for {scope}")
            request.related_person = related
            request.participant = related.participant
            request.family_scopes = scopes
            if scope_type is not None:
                # A family member seeing consented parts is a disclosure; record it.
                audit_record(actor=request.user, action=Action.DISCLOSE, object_type=scope_type,
                             object_id=related.participant.code, participant=related.participant,
                             request=request, reason="family portal under consent")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def own_object(request: HttpRequest, queryset: QuerySet, code: object, object_type: ObjectType) -> Model:
    """The object with `code` if it belongs to request.participant; else audited 404."""
    obj = queryset.filter(code=code).select_related("participant").first()
    if obj is None or obj.participant_id != request.participant.pk:
        raise deny(request, object_type=object_type, object_id=code,
                   participant=obj.participant if obj is not None else None,
                   reason="portal: not the participant's own record")
    return obj


def audit_view(request: HttpRequest, object_type: ObjectType) -> None:
    """A participant reading their own record is an access too."""
    audit_record(actor=request.user, action=Action.VIEW, object_type=object_type,
                 object_id=request.participant.code, participant=request.participant, request=request)
