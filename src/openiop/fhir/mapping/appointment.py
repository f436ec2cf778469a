"""Booking (a participant's place in a Session) -> Appointment.

Calendar and booking map to Schedule / Slot / Appointment (docs/fhir-mapping.md). One
Appointment per booking, so the resource id is the booking's code: a group session seen
through a patient's Appointment names only that patient, never other attendees.

Status (R4 Appointment.status value set, https://hl7.org/fhir/R4/valueset-appointmentstatus.html):
- booking or session cancelled -> cancelled
- attendance present, late or left early -> fulfilled
- attendance absent -> noshow
- attendance excused -> cancelled, cancelationReason "Excused absence" (the participant
  was excused in advance; counting it a no-show would misstate it)
- otherwise (booked, nothing recorded yet) -> booked

No clinical content: no title, notes, attendance note or cancel reason text, only the
kind of service. Times carry the organization's UTC offset.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.appointment import Appointment

from openiop.scheduling.models import HOLISTIC_KINDS, Attendance, Booking, Session, SessionKind

from .common import ref, validated

# appointmentType text: the broad kind of visit (the brief's six categories).
APPOINTMENT_TYPES = {
    "group": "Group therapy",
    "skills": "Group therapy",
    "psychoeducation": "Psychoeducation",
    "individual": "Individual therapy",
    "family": "Family therapy",
    "medication": "Medication management",
    **{kind: "Holistic" for kind in HOLISTIC_KINDS},
}
_KIND_LABELS = dict(SessionKind.choices)


def kind_label(session: Session) -> str:
    """`session.get_kind_display()` from a table: Django's rebuilds its choices on each
    call, once or twice for every Appointment and Encounter of a bulk export."""
    return str(_KIND_LABELS.get(session.kind, session.kind))


FULFILLED = (Attendance.Status.PRESENT, Attendance.Status.LATE, Attendance.Status.LEFT_EARLY)


def appointment_status(booking: Booking) -> str:
    if booking.status == Booking.Status.CANCELLED or \
            booking.session.status == Session.Status.CANCELLED:
        return "cancelled"
    attendance = getattr(booking, "attendance", None)
    if attendance is None:
        return "booked"
    if attendance.status in FULFILLED:
        return "fulfilled"
    if attendance.status == Attendance.Status.ABSENT:
        return "noshow"
    return "cancelled"  # excused


def appointment(booking: Booking) -> dict[str, Any]:
    session = booking.session
    tz = booking.participant.organization.zone
    status = appointment_status(booking)
    place = session.site.name + (f", {session.room.name}" if session.room_id else "")
    participants: list[dict[str, Any]] = [{
        "actor": ref("Patient", booking.participant.code),
        "required": "required",
        "status": "declined" if booking.status == Booking.Status.CANCELLED else "accepted",
    }]
    if session.facilitator_id:
        participants.append({
            "actor": ref("Practitioner", session.facilitator.code, str(session.facilitator)),
            "required": "required", "status": "accepted"})
    participants.append({"actor": ref("Location", session.site.code, place),
                         "required": "required", "status": "accepted"})
    data: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(booking.code),
        "status": status,
        "serviceCategory": [{"text": "Behavioral health"}],
        "serviceType": [{"text": kind_label(session)}],
        "appointmentType": {"text": APPOINTMENT_TYPES.get(session.kind, kind_label(session))},
        "start": session.starts_at.astimezone(tz).isoformat(),
        "end": session.ends_at.astimezone(tz).isoformat(),
        "minutesDuration": session.duration_minutes,
        "created": booking.created_at.astimezone(tz).isoformat(),
        "participant": participants,
    }
    attendance = getattr(booking, "attendance", None)
    if status == "cancelled" and attendance is not None and \
            attendance.status == Attendance.Status.EXCUSED:
        data["cancelationReason"] = {"text": "Excused absence"}
    return validated(Appointment, data)
