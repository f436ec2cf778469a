"""An attended session (Booking + Attendance present, late or left early) -> Encounter.

US Core 6.1 Encounter (https://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-encounter.html):
status `finished`; class `AMB` (ambulatory, v3-ActCode: the participant comes for the
session and goes home the same day); type as text (the kind of session; no CPT or SNOMED
code is recorded per session); `length` the minutes the participant attended (the figure
the hour rules and claims count), `period` the session's scheduled times. The id is the
booking's code, like the Appointment it fulfils (`appointment`). No clinical content.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.encounter import Encounter

from openiop.scheduling.models import Booking

from .appointment import APPOINTMENT_TYPES, kind_label
from .common import ref, validated


def encounter(booking: Booking) -> dict[str, Any]:
    session = booking.session
    attendance = booking.attendance
    tz = booking.participant.organization.zone
    data: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(booking.code),
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                  "code": "AMB", "display": "ambulatory"},
        "type": [{"text": APPOINTMENT_TYPES.get(session.kind, kind_label(session))}],
        "serviceType": {"text": kind_label(session)},
        "subject": ref("Patient", booking.participant.code),
        "appointment": [ref("Appointment", booking.code)],
        "period": {"start": session.starts_at.astimezone(tz).isoformat(),
                   "end": session.ends_at.astimezone(tz).isoformat()},
        "length": {"value": attendance.minutes_attended, "unit": "min",
                   "system": "http://unitsofmeasure.org", "code": "min"},
        "location": [{"location": ref("Location", session.site.code, session.site.name)}],
        "serviceProvider": ref("Organization", session.site.organization.code),
    }
    if session.facilitator_id:
        data["participant"] = [{
            "type": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "PPRF", "display": "primary performer"}]}],
            "individual": ref("Practitioner", session.facilitator.code,
                              str(session.facilitator))}]
    return validated(Encounter, data)
