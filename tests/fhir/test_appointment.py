"""FHIR Appointment (a participant's booking in a session): read, search by date, status,
privacy of group rosters, organization scoping, audit, Part 2, query counts."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.scheduling.models import Booking, Session
from tests import factories as f
from tests.conftest import login

from .conftest import part2_consent

NY = ZoneInfo("America/New_York")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def book(world, starts_at: datetime, participant=None, **session_kw) -> Booking:
    session = f.session(world.program, starts_at=starts_at, **session_kw)
    return f.booking(session, participant or world.participant)


def search(client, world, query: str = ""):
    return client.get(f"/fhir/R4/Appointment?patient=Patient/{world.participant.code}{query}")


def ids(response) -> list[str]:
    bundle = Bundle.model_validate(response.json())
    return [e.resource.id for e in bundle.entry or [] if e.search.mode == "match"]


def test_appointment_read_maps_times_service_and_participants(mh, world, as_clinician):
    room = f.room(world.site, name="Oak room")
    b = book(mh, at(2026, 1, 14, 18, 0), room=room, facilitator=world.clinician)
    response = as_clinician.get(f"/fhir/R4/Appointment/{b.code}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    appt = Appointment.model_validate(response.json())
    assert appt.id == str(b.code) and appt.status == "booked"
    data = response.json()
    assert data["start"] == "2026-01-14T18:00:00-05:00"
    assert data["end"] == "2026-01-14T19:30:00-05:00"
    assert appt.minutesDuration == 90
    assert appt.serviceType[0].text == "Group therapy"
    assert appt.appointmentType.text == "Group therapy"
    actors = {p.actor.reference: p for p in appt.participant}
    assert set(actors) == {f"Patient/{world.participant.code}",
                           f"Practitioner/{world.clinician.code}", f"Location/{world.site.code}"}
    assert actors[f"Location/{world.site.code}"].actor.display == "Main, Oak room"
    assert "description" not in data and "comment" not in data
    assert "security" not in data["meta"] and "X-Redisclosure-Notice" not in response


def test_summer_times_carry_the_daylight_offset(mh, world, as_clinician):
    b = book(mh, at(2026, 7, 1, 9, 30))
    assert as_clinician.get(f"/fhir/R4/Appointment/{b.code}").json()["start"] == \
        "2026-07-01T09:30:00-04:00"


@pytest.mark.parametrize("kind, expected", [
    ("individual", "Individual therapy"), ("family", "Family therapy"),
    ("medication", "Medication management"), ("psychoeducation", "Psychoeducation"),
    ("yoga", "Holistic"), ("skills", "Group therapy"),
])
def test_appointment_type_names_the_kind_of_visit(mh, world, as_clinician, kind, expected):
    b = book(mh, at(2026, 1, 14, 10, 0), kind=kind, title="Synthetic")
    appt = Appointment.model_validate(
        as_clinician.get(f"/fhir/R4/Appointment/{b.code}").json())
    assert appt.appointmentType.text == expected


def test_group_appointment_names_only_the_requesting_patient(mh, world, as_clinician):
    b = book(mh, at(2026, 1, 14, 18, 0))
    other = f.participant(world.org, legal_first_name="Robin", legal_last_name="Quill")
    f.booking(b.session, other)
    for path in (f"Appointment/{b.code}",
                 f"Appointment?patient={world.participant.code}"):
        body = as_clinician.get(f"/fhir/R4/{path}").content.decode()
        assert str(other.code) not in body and "Quill" not in body and "Robin" not in body
    appt = Appointment.model_validate(as_clinician.get(f"/fhir/R4/Appointment/{b.code}").json())
    assert [p.actor.reference for p in appt.participant if
            p.actor.reference.startswith("Patient/")] == [f"Patient/{world.participant.code}"]


def test_no_session_title_or_attendance_note_leaves_in_an_appointment(mh, world, as_clinician):
    b = book(mh, at(2026, 1, 14, 18, 0), title="Synthetic relapse topic")
    f.attendance(b, "absent", 0, note="Synthetic attendance note")
    body = as_clinician.get(f"/fhir/R4/Appointment/{b.code}").content.decode()
    assert "Synthetic relapse topic" not in body and "Synthetic attendance note" not in body


@pytest.mark.parametrize("attendance, expected", [
    (None, "booked"), ("present", "fulfilled"), ("late", "fulfilled"),
    ("left_early", "fulfilled"), ("absent", "noshow"), ("excused", "cancelled"),
])
def test_status_follows_attendance(mh, world, as_clinician, attendance, expected):
    b = book(mh, at(2026, 1, 14, 18, 0))
    if attendance:
        f.attendance(b, attendance, 0 if attendance in ("absent", "excused") else None)
    data = as_clinician.get(f"/fhir/R4/Appointment/{b.code}").json()
    Appointment.model_validate(data)
    assert data["status"] == expected
    if attendance == "excused":
        assert data["cancelationReason"]["text"] == "Excused absence"


def test_cancelled_booking_or_session_is_cancelled(mh, world, as_clinician):
    b = book(mh, at(2026, 1, 14, 18, 0))
    Booking.objects.filter(pk=b.pk).update(status=Booking.Status.CANCELLED)
    data = as_clinician.get(f"/fhir/R4/Appointment/{b.code}").json()
    assert data["status"] == "cancelled"
    patient = next(p for p in data["participant"] if p["actor"]["reference"].startswith("Pat"))
    assert patient["status"] == "declined"
    b2 = book(mh, at(2026, 1, 15, 18, 0))
    Session.objects.filter(pk=b2.session_id).update(status=Session.Status.CANCELLED)
    assert as_clinician.get(f"/fhir/R4/Appointment/{b2.code}").json()["status"] == "cancelled"


@pytest.fixture
def month(mh, world):
    """Bookings around January 2026 (New York time)."""
    return {
        "dec31": book(mh, at(2025, 12, 31, 23, 30)).code,  # 04:30 UTC on Jan 1
        "jan1": book(mh, at(2026, 1, 1, 9, 0)).code,
        "jan31": book(mh, at(2026, 1, 31, 20, 0)).code,  # 01:00 UTC on Feb 1
        "feb1": book(mh, at(2026, 2, 1, 9, 0)).code,
    }


@pytest.mark.parametrize("query, expected", [
    ("&date=ge2026-01-01&date=lt2026-02-01", ["jan1", "jan31"]),
    ("&date=gt2026-01-01", ["jan31", "feb1"]),
    ("&date=le2026-01-01", ["dec31", "jan1"]),
    ("&date=lt2026-01-01", ["dec31"]),
    ("&date=2026-01-31", ["jan31"]),
    ("&date=eq2026-01-31", ["jan31"]),
    ("&date=2026-01", ["jan1", "jan31"]),
    ("&date=2025", ["dec31"]),
    ("&date=ge2026-01-31T20:00:00-05:00", ["jan31", "feb1"]),
    ("", ["dec31", "jan1", "jan31", "feb1"]),
])
def test_date_search_prefixes(month, world, as_clinician, query, expected):
    response = search(as_clinician, world, query)
    assert response.status_code == 200
    assert ids(response) == [str(month[k]) for k in expected]


@pytest.mark.parametrize("value", [
    "ne2026-01-01", "sa2026-01-01", "xx2026", "2026-13-01", "ge2026-02-30", "tomorrow", "ge",
    "2026-01-01T10:00", "99999-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00",
])
def test_bad_date_is_a_400_operation_outcome(mh, world, as_clinician, value):
    response = search(as_clinician, world, f"&date={value}")
    assert response.status_code == 400
    data = response.json()
    assert data["resourceType"] == "OperationOutcome"
    assert data["issue"][0]["expression"] == ["date"]


def test_bad_input_gets_operation_outcomes(mh, world, as_clinician):
    for path, status in [("Appointment/not-a-uuid", 404),
                         ("Appointment/00000000-0000-0000-0000-000000000000", 404),
                         ("Appointment?patient=Patient/not-a-uuid", 400),
                         ("Appointment?patient=Patient/00000000-0000-0000-0000-000000000000",
                          404),
                         ("Appointment?_sort=date", 400),
                         (f"Appointment?patient={world.participant.code}&status=booked", 400),
                         (f"Appointment?patient={world.participant.code}&_count=1001", 400)]:
        response = as_clinician.get(f"/fhir/R4/{path}")
        assert response.status_code == status, path
        assert response.json()["resourceType"] == "OperationOutcome", path


def test_another_organization_gets_not_found(mh, world, as_outsider):
    b = book(mh, at(2026, 1, 14, 18, 0))
    assert as_outsider.get(f"/fhir/R4/Appointment/{b.code}").status_code == 404
    response = as_outsider.get(f"/fhir/R4/Appointment?patient={world.participant.code}")
    assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"


def test_read_and_search_are_audited_once_each(mh, world, as_clinician):
    b = book(mh, at(2026, 1, 14, 18, 0))
    book(mh, at(2026, 1, 15, 18, 0))
    as_clinician.get(f"/fhir/R4/Appointment/{b.code}")
    search(as_clinician, world)
    events = AccessEvent.objects.filter(participant=world.participant,
                                        object_type="fhir.Appointment")
    assert [e.action for e in events] == ["view", "view"]
    assert all(e.actor == world.clinician for e in events)


def test_front_desk_reads_appointments(mh, world):
    desk = login(f.staff(world.org, Role.FRONT_DESK))
    b = book(mh, at(2026, 1, 14, 18, 0))
    assert desk.get(f"/fhir/R4/Appointment/{b.code}").status_code == 200


def test_part2_appointments_need_consent_and_are_labelled(world, as_hie, hie):
    """The world's co-occurring program makes the participant a Part 2 record."""
    b = book(world, at(2026, 1, 14, 18, 0))
    assert as_hie.get(f"/fhir/R4/Appointment/{b.code}").status_code == 404
    refused = search(as_hie, world)
    assert refused.status_code == 200 and ids(refused) == []
    part2_consent(world.participant, world.clinician, app=hie)
    response = as_hie.get(f"/fhir/R4/Appointment/{b.code}")
    assert response.status_code == 200 and "X-Redisclosure-Notice" in response
    assert {"42CFRPart2", "R"} <= {s["code"] for s in response.json()["meta"]["security"]}
    Appointment.model_validate(response.json())


def test_search_query_count_does_not_grow_with_appointments(mh, world, as_clinician):
    room = f.room(world.site)
    first = book(mh, at(2026, 1, 5, 18, 0), room=room, facilitator=world.clinician)
    f.attendance(first, "present")
    with CaptureQueriesContext(connection) as one:
        assert len(ids(search(as_clinician, world))) == 1
    for day in range(6, 11):
        b = book(mh, at(2026, 1, day, 18, 0), room=room, facilitator=world.colleague)
        f.attendance(b, "late")
    with CaptureQueriesContext(connection) as six:
        response = search(as_clinician, world, "&date=ge2026-01-01")
    assert len(ids(response)) == 6
    assert len(six) == len(one)
    json.loads(response.content)
