"""Intake API: the referral queue and instrument scoring."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.permissions import Perm, require_perm
from openiop.api.pagination import offset_param
from openiop.api.request import StaffRequest
from openiop.care.models import Program
from openiop.intake import services
from openiop.intake.instruments import INSTRUMENTS, ScoringError, score
from openiop.intake.models import Referral
from openiop.intake.selectors import OPEN_REFERRALS, referral_queue

# Far beyond any real list; keeps the number within what the database accepts.
MAX_OFFSET = 1_000_000

router = Router(tags=["intake"])


class ReferralOut(Schema):
    code: UUID
    source: str
    status: str
    name: str
    phone: str
    email: str
    reason: str
    urgent: bool
    program: UUID | None = None
    received_at: datetime
    screening_at: datetime | None
    assessment_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_program(obj: Referral) -> UUID | None:
        return obj.program.code if obj.program else None


class ReferralIn(Schema):
    source: str = Field(..., max_length=20)
    name: str = Field(..., min_length=1, max_length=150)
    reason: str = Field(..., min_length=1, max_length=5000)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    referrer_name: str = Field("", max_length=150)
    date_of_birth: date | None = None
    program: UUID | None = None
    urgent: bool = False


class ReferralPage(Schema):
    count: int
    results: list[ReferralOut]


class ScoreIn(Schema):
    instrument: str = Field(..., max_length=20)
    answers: dict[str, Any] | list[Any]
    sex: str | None = Field(None, max_length=10)


class FlagOut(Schema):
    code: str
    level: str
    message: str
    safety: bool
    source: str


class ScoreOut(Schema):
    instrument: str
    total: int | None
    band: str
    band_label: str
    safety: bool
    imminent_risk: bool
    flags: list[FlagOut]
    answers: dict[str, int]


class ItemOut(Schema):
    id: str
    number: int
    text: str
    options: list[tuple[int, str]]


class InstrumentOut(Schema):
    code: str
    name: str
    title: str
    lookback: str
    source: str
    items: list[ItemOut]


@router.get("/referrals", response=ReferralPage)
def list_referrals(
    request: StaffRequest,
    status: str = Query("", max_length=20),
    limit: int = Query(25, ge=1, le=200),
    offset: int = offset_param(),
) -> dict:
    require_perm(request.user, Perm.INTAKE_MANAGE)
    if status and status not in (OPEN_REFERRALS, *Referral.Status.values):
        raise ValidationError({"status": f"status must be open or one of "
                               f"{', '.join(Referral.Status.values)}."})
    qs = referral_queue(user=request.user, status=status)
    return {"count": qs.count(), "results": list(qs[offset: offset + limit])}


@router.post("/referrals", response={201: ReferralOut})
def create_referral(request: StaffRequest, payload: ReferralIn) -> Status[Referral]:
    require_perm(request.user, Perm.INTAKE_MANAGE)
    org = request.user.staff_profile.organization
    program = None
    if payload.program is not None:
        program = Program.objects.filter(code=payload.program, organization=org).first()
        if program is None:
            raise ValidationError({"program": "No program with that code in your organization."})
    referral = services.referral_create(
        actor=request.user, organization=org, source=payload.source, name=payload.name,
        reason=payload.reason, phone=payload.phone, email=payload.email, program=program,
        referrer_name=payload.referrer_name, date_of_birth=payload.date_of_birth,
        urgent=payload.urgent, request=request,
    )
    return Status(201, referral)


@router.get("/instruments", response=list[InstrumentOut])
def list_instruments(request: StaffRequest) -> list[dict]:
    return [
        {"code": i.code, "name": i.name, "title": i.title, "lookback": i.lookback,
         "source": i.source,
         "items": [{"id": it.id, "number": it.number, "text": it.text,
                    "options": list(it.options)} for it in i.items]}
        for i in (INSTRUMENTS[c] for c in INSTRUMENTS)
    ]


@router.post("/score", response=ScoreOut)
def score_instrument(request: StaffRequest, payload: ScoreIn) -> dict:
    """Score answers without storing anything (pure function). 422 names each bad item."""
    try:
        result = score(payload.instrument, payload.answers, sex=payload.sex)
    except ScoringError as exc:
        raise ValidationError({f"answers.{k}" if k not in ("instrument", "sex", "answers")
                               else k: v for k, v in exc.errors.items()}) from None
    return result.as_dict()
