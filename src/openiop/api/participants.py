"""Participants API: list and read, scoped to the user's organization and audited."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.api.pagination import offset_param
from openiop.participants import services
from openiop.participants.selectors import get_participant_for_user, participant_list

router = Router(tags=["participants"])


class ParticipantOut(Schema):
    code: UUID
    mrn: str
    display_name: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    pronouns: str
    date_of_birth: date
    preferred_language: str
    version: int


class ParticipantIn(Schema):
    mrn: str = Field(..., min_length=1, max_length=30)
    legal_first_name: str = Field(..., min_length=1, max_length=100)
    legal_last_name: str = Field(..., min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    pronouns: str = Field("", max_length=40)
    date_of_birth: date
    preferred_language: str = Field("English", max_length=40)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)


class ParticipantPage(Schema):
    count: int
    results: list[ParticipantOut]


@router.get("", response=ParticipantPage)
def list_participants(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    limit: int = Query(25, ge=1, le=200),
    offset: int = offset_param(),
) -> dict:
    qs = participant_list(user=request.user, query=q)
    return {"count": qs.count(), "results": list(qs[offset : offset + limit])}


@router.get("/{code}", response=ParticipantOut)
def get_participant(request: HttpRequest, code: UUID) -> object:
    return get_participant_for_user(request.user, code, request=request)


@router.post("", response={201: ParticipantOut})
def create_participant(request: HttpRequest, payload: ParticipantIn) -> Status:
    profile = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise ValidationError("Only clinic staff can create participants.")
    participant = services.participant_create(
        actor=request.user, organization=profile.organization, data=payload.dict(),
        request=request,
    )
    return Status(201, participant)
