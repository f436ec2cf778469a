"""Medications API: a participant's medication list, create and adjust orders, allergies.

Reads go through get_participant_for_user (scoped and audited); writes through
openiop.medications.services. Bad input answers 422 naming the field; a non-prescriber
403; unacknowledged interaction warnings 409 with the warnings to acknowledge.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from openiop.access.policy import Kind
from openiop.accounts.permissions import Perm
from openiop.api.request import StaffRequest
from openiop.audit.vocabulary import ObjectType
from openiop.medications import selectors, services
from openiop.medications.models import Allergy, MedicationOrder
from openiop.participants.disclosure import Record
from openiop.participants.models import Participant
from openiop.participants.selectors import get_participant_for_user

from . import disclose

router = Router(tags=["medications"])


class OrderOut(Schema):
    code: UUID
    name: str
    catalog_key: str
    rxnorm: str
    coding: str
    checked_for_interactions: bool
    source: str
    prescriber: str
    dose: Decimal
    unit: str
    route: str
    frequency: str
    max_doses_per_day: int | None
    quantity: int | None
    refills: int
    start_date: date
    stop_date: date | None
    status: str
    version: int

    @staticmethod
    def resolve_prescriber(obj: MedicationOrder) -> str:
        return obj.prescriber_label


# What the database holds (DecimalField(max_digits=10, decimal_places=3), CHECK dose > 0):
# a dose such as 3.78e-285 is refused here (422 naming `dose`), not rounded to 0 and
# refused by the database.
DOSE = Field(..., gt=0, max_digits=10, decimal_places=3,
             description="A positive amount with at most 3 decimals and 7 whole digits.")


class OrderIn(Schema):
    catalog_key: str = Field("", max_length=60)
    name: str = Field("", max_length=200)
    source: str = Field("clinic", max_length=10)
    outside_prescriber: str = Field("", max_length=200)
    dose: Decimal = DOSE
    unit: str = Field(..., max_length=10)
    route: str = Field(..., max_length=20)
    frequency: str = Field(..., max_length=10)
    max_doses_per_day: int | None = Field(None, ge=1, le=24)
    quantity: int | None = Field(None, ge=0, le=10000)
    refills: int = Field(0, ge=0, le=12)
    start_date: date
    stop_date: date | None = None
    indication: str = Field("", max_length=200)
    contains_alcohol: bool = False
    confirm_dose_change: bool = False
    dose_override_reason: str = Field("", max_length=500)
    acknowledgements: dict[str, str] = Field(default_factory=dict)


class AdjustIn(Schema):
    version: int
    reason: str = Field(..., max_length=30)
    dose: Decimal | None = Field(None, gt=0, max_digits=10, decimal_places=3,
                                 description=DOSE.description)
    unit: str | None = Field(None, max_length=10)
    frequency: str | None = Field(None, max_length=10)
    route: str | None = Field(None, max_length=20)
    max_doses_per_day: int | None = Field(None, ge=1, le=24)
    refills: int | None = Field(None, ge=0, le=12)
    effective_date: date | None = None
    note: str = Field("", max_length=500)
    confirm_dose_change: bool = False
    dose_override_reason: str = Field("", max_length=500)
    acknowledgements: dict[str, str] = Field(default_factory=dict)


def _participant(request: StaffRequest, code: UUID) -> Participant:
    return get_participant_for_user(request.user, code, request=request,
                                    perm=Perm.MEDICATION_VIEW, object_type=ObjectType.MEDICATIONS,
                                    kind=Kind.MEDICATIONS)


def _warnings_response(request: StaffRequest, exc: services.InteractionWarningsPending
                       ) -> HttpResponse:
    from .api import api

    return api.create_response(request, {
        "detail": exc.message, "field": exc.field,
        "warnings": [{"rule_id": w.rule_id, "title": w.title, "severity": w.severity,
                      "medications": list(w.medications), "message": w.message,
                      "mechanism": w.mechanism, "action": w.action, "source": w.source} for w in exc.warnings],
    }, status=409)


@router.get("/participants/{code}/orders", response=list[OrderOut])
def list_orders(request: StaffRequest, code: UUID) -> list[MedicationOrder]:
    from openiop.fhir.mapping.medication_request import is_moud

    participant = _participant(request, code)
    orders = MedicationOrder.objects.filter(participant=participant).select_related(
        "prescriber").order_by("status", "name")
    return disclose.release(request, participant,
                            [Record("MedicationOrder", o, is_moud(o)) for o in orders],
                            object_type=ObjectType.API_MEDICATIONS)


@router.post("/participants/{code}/orders", response={201: OrderOut})
def create_order(request: StaffRequest, code: UUID, payload: OrderIn) -> object:
    participant = _participant(request, code)
    data = payload.dict()
    acks = data.pop("acknowledgements")
    if data["source"] == MedicationOrder.Source.CLINIC:
        # The prescriber of a clinic order is the signed-in user; the service refuses
        # anyone without the prescriber role.
        data["prescriber"] = request.user
    try:
        order = services.order_create(actor=request.user, participant=participant, data=data,
                                      acknowledgements=acks, request=request)
    except services.InteractionWarningsPending as exc:
        return _warnings_response(request, exc)
    return Status(201, order)


@router.post("/participants/{code}/orders/{order_code}/adjust", response=OrderOut)
def adjust_order(request: StaffRequest, code: UUID, order_code: UUID, payload: AdjustIn
                 ) -> object:
    participant = _participant(request, code)
    order = get_object_or_404(MedicationOrder, participant=participant, code=order_code)
    data = payload.dict()
    try:
        return services.order_adjust(
            actor=request.user, order=order, version=data["version"], reason=data["reason"],
            dose=data["dose"], unit=data["unit"], frequency=data["frequency"],
            route=data["route"], max_doses_per_day=data["max_doses_per_day"],
            refills=data["refills"], effective_date=data["effective_date"], note=data["note"],
            confirm_dose_change=data["confirm_dose_change"],
            dose_override_reason=data["dose_override_reason"],
            acknowledgements=data["acknowledgements"], request=request)
    except services.InteractionWarningsPending as exc:
        return _warnings_response(request, exc)


# --- allergies -------------------------------------------------------------------------

class AllergyOut(Schema):
    code: UUID
    substance: str
    catalog_key: str
    drug_class: str
    kind: str
    reaction: str
    severity: str
    status: str
    noted_on: date
    version: int


class AllergyListOut(Schema):
    allergies: list[AllergyOut]
    no_known_drug_allergies_on: date | None
    statement_on_file: bool


class AllergyIn(Schema):
    substance: str = Field("", max_length=200)
    catalog_key: str = Field("", max_length=60)
    drug_class: str = Field("", max_length=40)
    kind: str = Field("allergy", max_length=12)
    reaction: str = Field(..., max_length=300)
    severity: str = Field(..., max_length=10)
    noted_on: date


class NoKnownAllergiesIn(Schema):
    stated_on: date
    note: str = Field("", max_length=300)


@router.get("/participants/{code}/allergies", response=AllergyListOut)
def list_allergies(request: StaffRequest, code: UUID) -> dict:
    participant = _participant(request, code)
    status = selectors.allergy_status(participant)
    items = disclose.release(request, participant, [
        Record("AllergyStatement", status), *Allergy.objects.filter(participant=participant)],
        object_type=ObjectType.API_ALLERGIES)
    allergies = [item for item in items if item is not status]
    if len(allergies) == len(items):  # withheld: answer as a chart with nothing on file
        status = {"nkda": None, "on_file": False}
    return {"allergies": allergies,
            "no_known_drug_allergies_on": status["nkda"].stated_on if status["nkda"] else None,
            "statement_on_file": status["on_file"]}


@router.post("/participants/{code}/allergies", response={201: AllergyOut})
def create_allergy(request: StaffRequest, code: UUID, payload: AllergyIn) -> object:
    participant = _participant(request, code)
    row = services.allergy_record(actor=request.user, participant=participant,
                                  request=request, **payload.dict())
    return Status(201, row)


@router.post("/participants/{code}/allergies/none-known", response={201: AllergyListOut})
def record_no_known_allergies(request: StaffRequest, code: UUID, payload: NoKnownAllergiesIn
                              ) -> object:
    participant = _participant(request, code)
    services.no_known_allergies_record(actor=request.user, participant=participant,
                                       stated_on=payload.stated_on, note=payload.note,
                                       request=request)
    return Status(201, list_allergies(request, code))


class AllergyStatusIn(Schema):
    version: int
    status: str = Field(..., max_length=20)


@router.post("/participants/{code}/allergies/{allergy_code}/status", response=AllergyOut)
def set_allergy_status(request: StaffRequest, code: UUID, allergy_code: UUID,
                       payload: AllergyStatusIn) -> Allergy:
    participant = _participant(request, code)
    allergy = get_object_or_404(Allergy.objects.select_related("participant"),
                                participant=participant, code=allergy_code)
    return services.allergy_set_status(actor=request.user, allergy=allergy,
                                       version=payload.version, status=payload.status,
                                       request=request)
