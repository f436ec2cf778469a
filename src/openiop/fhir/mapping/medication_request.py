"""MedicationOrder -> MedicationRequest (medication management; docs/fhir-mapping.md).

- medicationCodeableConcept: the order's name as text, with the RxNorm code
  (http://www.nlm.nih.gov/research/umls/rxnorm) when the catalog entry carries a verified
  RXCUI. Catalog entries marked `verified: false` are sent as text only: the catalog says
  those codes must be checked in RxNav before production use (medications/README.md).
  Orders outside the catalog carry the RXCUI the clinician entered, if any.
- status: an active order is `active` until its stop date has passed (`completed`); a
  stopped order is `completed` when stopped because the course was completed or when it
  was recorded with a stop date already past (no stop entry), otherwise `stopped`.
- Outside prescriptions are `reportedBoolean: true` with the outside prescriber named
  (display only); clinic orders have the prescriber as requester Practitioner.
- No change notes, acknowledgements or administrations (those are not in the request).

MOUD orders (buprenorphine, methadone, naltrexone) are Part 2 records in a Part 2 program:
see `is_moud` and views.medication_request_*.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from fhir.resources.R4B.medicationrequest import MedicationRequest

from openiop.medications import rules
from openiop.medications.models import MedicationChange, MedicationOrder

from .common import ref, validated

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
UCUM_UNITS = {"mg": "mg", "mcg": "ug", "g": "g", "mL": "mL"}
MEDICATION_STATUSES = ("active", "stopped", "completed")
MOUD_INGREDIENTS = ("buprenorphine", "methadone", "naltrexone")

# Frequency -> Timing.repeat (http://hl7.org/fhir/R4/datatypes.html#Timing).
TIMING: dict[str, dict[str, Any]] = {
    "once": {"count": 1},
    "daily": {"frequency": 1, "period": 1, "periodUnit": "d"},
    "bid": {"frequency": 2, "period": 1, "periodUnit": "d"},
    "tid": {"frequency": 3, "period": 1, "periodUnit": "d"},
    "qid": {"frequency": 4, "period": 1, "periodUnit": "d"},
    "qhs": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]},
    "weekly": {"frequency": 1, "period": 1, "periodUnit": "wk"},
    "q4w": {"frequency": 1, "period": 4, "periodUnit": "wk"},
    "prn": {},
}


def is_moud(order: MedicationOrder) -> bool:
    """A medication for opioid use disorder (or naltrexone for alcohol use disorder)."""
    entry = rules.catalog().get(order.catalog_key)
    if entry is not None and entry.category == "moud":
        return True
    text = f"{order.catalog_key} {order.name}".lower()
    return any(ingredient in text for ingredient in MOUD_INGREDIENTS)


def moud_q() -> Q:
    """`is_moud` as a filter on MedicationOrder rows."""
    keys = [key for key, entry in rules.catalog().items() if entry.category == "moud"]
    query = Q(catalog_key__in=keys)
    for ingredient in MOUD_INGREDIENTS:
        query |= Q(catalog_key__icontains=ingredient) | Q(name__icontains=ingredient)
    return query


def request_status(order: MedicationOrder, today: date) -> str:
    if order.status == MedicationOrder.Status.ACTIVE:
        return "completed" if order.stop_date and order.stop_date < today else "active"
    stop_reason = getattr(order, "stop_reason", None)
    if stop_reason is None or stop_reason == MedicationChange.Reason.COMPLETED:
        return "completed"
    return "stopped"


def _medication(order: MedicationOrder) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": order.name}
    entry = rules.catalog().get(order.catalog_key) if order.catalog_key else None
    code = (entry.rxnorm if entry.verified else "") if entry is not None else order.rxnorm
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code,
                              "display": entry.name if entry else order.name}]
    return concept


def _dose(order: MedicationOrder) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": Decimal(order.dose).normalize(),
                                "unit": order.get_unit_display()}
    if order.unit in UCUM_UNITS:
        quantity |= {"system": UCUM, "code": UCUM_UNITS[order.unit]}
    return quantity


def medication_request(order: MedicationOrder, today: date | None = None) -> dict[str, Any]:
    if today is None:
        zone = order.participant.organization.zone
        today = timezone.localdate(timezone=zone)
    bounds: dict[str, str] = {"start": order.start_date.isoformat()}
    if order.stop_date:
        bounds["end"] = order.stop_date.isoformat()
    repeat = {**TIMING[order.frequency], "boundsPeriod": bounds}
    dosage: dict[str, Any] = {
        "text": order.sig,
        "timing": {"repeat": repeat, "code": {"text": order.get_frequency_display()}},
        "route": {"text": order.get_route_display()},
        "doseAndRate": [{"doseQuantity": _dose(order)}],
    }
    if order.frequency == "prn":
        dosage["asNeededBoolean"] = True
    data: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(order.code),
        "status": request_status(order, today),
        "intent": "order",
        "medicationCodeableConcept": _medication(order),
        "subject": ref("Patient", order.participant.code),
        "authoredOn": order.created_at.isoformat(),
        "dosageInstruction": [dosage],
    }
    if order.source == MedicationOrder.Source.OUTSIDE:
        data["reportedBoolean"] = True
        # US Core requires a requester: the outside prescriber as named, if named.
        data["requester"] = {"display": order.outside_prescriber or "Outside prescriber"}
    elif order.prescriber_id:
        data["requester"] = ref("Practitioner", order.prescriber.code, str(order.prescriber))
    if order.indication:
        data["reasonCode"] = [{"text": order.indication}]
    dispense: dict[str, Any] = {"numberOfRepeatsAllowed": order.refills}
    if order.quantity is not None:
        dispense["quantity"] = {"value": order.quantity}
    data["dispenseRequest"] = dispense
    return validated(MedicationRequest, data)
