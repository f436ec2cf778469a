"""The JSON API's side of `participants.disclosure`.

A request with the browser session is the program's own staff (no disclosure; what their
role allows); a request with a bearer token speaks for a registered app, an outside
recipient: each endpoint that returns a participant's records passes them through
`disclosure(...)` and returns what it releases. What is withheld answers exactly as what
does not exist (a 404 for one record, an empty list), so that a refusal does not reveal
that the person has Part 2 records (42 CFR 2.13(c)). The 42 CFR 2.32 statement goes in the
`X-Redisclosure-Notice` header when a Part 2 record is released.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from openiop.audit.vocabulary import ObjectType
from openiop.participants import disclosure as dis

from .request import StaffRequest

if TYPE_CHECKING:
    from openiop.participants.models import Participant

NOTICE_HEADER = "X-Redisclosure-Notice"
SCOPE_HEADER = "X-Part2-Consent-Scope"


def _attach_notice(request: HttpRequest, notice: str, scope: str = "") -> None:
    response = getattr(request, "_openiop_response", None)
    if notice and response is not None:
        response[NOTICE_HEADER] = notice
    if scope and response is not None:
        response[SCOPE_HEADER] = scope  # 42 CFR 2.32(b): the consent's scope goes with it


def release(request: StaffRequest, participant: Participant, records: Iterable[Any], *,
            object_type: ObjectType) -> list[Any]:
    """The records that may go to the requester (all of them for the program's staff)."""
    recipient, purpose = dis.request_party(request)
    decision = dis.disclosure(
        request.user, participant, list(records), channel=dis.Channel.API,
        recipient=recipient, purpose=purpose, request=request,
        object_type=object_type, object_id=participant.code,
        audit=not recipient.internal)
    _attach_notice(request, decision.notice, decision.consent_scope)
    return decision.released


def release_one(request: StaffRequest, participant: Participant, record: Any, *,
                object_type: ObjectType) -> Any:
    released = release(request, participant, [record], object_type=object_type)
    if not released:
        raise Http404
    return released[0]


def participants_released(request: HttpRequest, qs: QuerySet) -> QuerySet:
    """A participant list without those whose records may not go to the requester."""
    recipient, purpose = dis.request_party(request)
    if recipient.internal:
        return qs
    return qs.filter(dis.released_q("", None, recipient, purpose, timezone.now()))
