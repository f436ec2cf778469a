"""Participants API: list and read, scoped to the user's organization and audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from openiop.access.policy import Kind
from openiop.accounts.permissions import Perm
from openiop.api.pagination import offset_param
from openiop.api.request import StaffRequest
from openiop.audit.vocabulary import ObjectType
from openiop.participants import consents, services
from openiop.participants.selectors import get_participant_for_user, participant_list

from . import disclose

# Far beyond any real list; keeps the number within what the database accepts.
MAX_OFFSET = 1_000_000

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
    request: StaffRequest,
    q: str = Query("", max_length=100),
    limit: int = Query(25, ge=1, le=200),
    offset: int = offset_param(),
) -> dict:
    qs = disclose.participants_released(request, participant_list(user=request.user, query=q))
    return {"count": qs.count(), "results": list(qs[offset : offset + limit])}


@router.get("/{code}", response=ParticipantOut)
def get_participant(request: StaffRequest, code: UUID) -> object:
    participant = get_participant_for_user(request.user, code, request=request,
                                           kind=Kind.DEMOGRAPHICS)
    return disclose.release_one(request, participant, participant, object_type=ObjectType.API_PARTICIPANT)


@router.post("", response={201: ParticipantOut})
def create_participant(request: StaffRequest, payload: ParticipantIn) -> Status:
    profile = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise ValidationError("Only clinic staff can create participants.")
    participant = services.participant_create(
        actor=request.user, organization=profile.organization, data=payload.dict(),
        request=request,
    )
    return Status(201, participant)


# --- consents (the chart's Consents tab, as JSON) ----------------------------------------

class ConsentOut(Schema):
    code: UUID
    kind: str
    recipient: str
    recipient_kind: str
    recipient_app: str | None = Field(None, description="The registered app's client id.")
    purpose_code: str
    purpose: str
    information: str
    disclosing_party: str
    scopes: list[str]
    granted_at: datetime
    expires_at: datetime | None
    expiry_event: str
    signed_by_name: str
    signed_on: date | None
    revoked_at: datetime | None
    revocation_reason: str
    text: str

    @staticmethod
    def resolve_recipient_app(obj: Any) -> str | None:
        return obj.recipient_app.client_id if obj.recipient_app_id else None


_TEXT = r"^[^\x00]*$"  # no NUL characters (a database refuses them)


class ConsentIn(Schema):
    kind: str = Field(..., max_length=30, description="part2_tpo, part2_disclosure or "
                                                       "family_access")
    signed_by_name: str = Field(..., max_length=200, pattern=_TEXT)
    signed_on: date
    signer_relationship: str = Field("", max_length=60, pattern=_TEXT)
    recipient: str = Field("", max_length=200, pattern=_TEXT)
    recipient_kind: str = Field("", max_length=20, description="For a Part 2 consent: "
                                "person, organization, class or app (42 CFR 2.31(a)(4)).")
    recipient_app: str = Field("", max_length=100, pattern=_TEXT,
                               description="The client id of a registered app, when "
                                           "recipient_kind is app.")
    purpose_code: str = Field("", max_length=20, description="treatment, payment, "
                              "operations, tpo, research, patient_request or other "
                              "(42 CFR 2.31(a)(5); a TPO consent is always tpo).")
    purpose: str = Field("", max_length=200, pattern=_TEXT)
    information: str = Field("", max_length=500, pattern=_TEXT)
    disclosing_party: str = Field("", max_length=200, pattern=_TEXT)
    related_person: UUID | None = None
    scopes: list[str] = Field([], max_length=10)
    expires_at: AwareDatetime | None = None
    expiry_event: str = Field("", max_length=200, pattern=_TEXT)


class RevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300, pattern=_TEXT)


@router.get("/{code}/consents", response=list[ConsentOut])
def list_consents(request: StaffRequest, code: UUID) -> object:
    participant = get_participant_for_user(request.user, code, request=request,
                                           object_type=ObjectType.CONSENTS, kind=Kind.CONSENTS)
    return disclose.release(request, participant, list(participant.consents.order_by(
        "-granted_at")), object_type=ObjectType.API_CONSENTS)


@router.post("/{code}/consents", response={201: ConsentOut})
def record_consent(request: StaffRequest, code: UUID, payload: ConsentIn) -> Status:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.ADMIT, audit_action=None,
                                           kind=Kind.CONSENTS)
    data = payload.dict()
    related = None
    data.pop("related_person")
    if payload.related_person is not None:
        related = participant.related_people.filter(code=payload.related_person).first()
        if related is None:
            raise ValidationError({"related_person": "Not one of this participant's people."})
    app_id = data.pop("recipient_app")
    if app_id:
        from oauth2_provider.models import Application

        data["recipient_app"] = Application.objects.filter(
            client_id=app_id,
            user__staff_profile__organization_id=request.user.staff_organization_id).first()
        if data["recipient_app"] is None:
            raise ValidationError({"recipient_app": "Not a registered app of your "
                                                    "organization."})
    consent = consents.consent_record(actor=request.user, participant=participant,
                                      related_person=related, request=request, **data)
    return Status(201, consent)


@router.post("/{code}/consents/{consent_code}/revoke", response=ConsentOut)
def revoke_consent(request: StaffRequest, code: UUID, consent_code: UUID,
                   payload: RevokeIn) -> object:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.ADMIT, audit_action=None,
                                           kind=Kind.CONSENTS)
    consent = participant.consents.filter(code=consent_code).first()
    if consent is None:
        raise Http404
    return consents.consent_revoke(actor=request.user, consent=consent, reason=payload.reason,
                                   request=request)
