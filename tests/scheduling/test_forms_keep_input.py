"""Scheduling forms keep what was typed on an error and say what was wrong: attendance
minutes, generating sessions, times such as 25:99."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.scheduling.models import Attendance, Session, StaffHours

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(world):
    s = f.session(world.program, starts_at=timezone.now() - timedelta(hours=2), minutes=90)
    return s, f.booking(s, world.participant)


@pytest.mark.parametrize(("typed", "message"), [
    ("500", "cannot be longer than the session"),
    ("abc", "Minutes attended: enter a whole number."),
])
def test_attendance_minutes_keep_what_was_typed_on_an_error(world, group, as_clinician,
                                                            typed, message):
    s, b = group
    url = reverse("scheduling:attendance_mark", kwargs={"code": s.code, "booking": b.code})
    row = as_clinician.post(url, {"status": "present", "minutes": typed},
                            HTTP_HX_REQUEST="true").content.decode()
    assert message in row and f'value="{typed}"' in row and 'aria-invalid="true"' in row
    page = as_clinician.post(url, {"status": "present", "minutes": typed})
    assert page.status_code == 400
    assert message in page.content.decode() and f'value="{typed}"' in page.content.decode()
    assert not Attendance.objects.filter(booking=b).exists()


def test_a_saved_row_shows_the_stored_minutes_again(world, group, as_clinician):
    s, b = group
    url = reverse("scheduling:attendance_mark", kwargs={"code": s.code, "booking": b.code})
    row = as_clinician.post(url, {"status": "present", "minutes": "80"},
                            HTTP_HX_REQUEST="true").content.decode()
    assert 'value="80"' in row and "aria-invalid" not in row


def test_generate_sessions_keeps_the_program_and_dates_on_an_error(sched, as_director):
    url = reverse("scheduling:templates")
    before = Session.objects.count()
    response = as_director.post(url, {"program": str(sched.program.code),
                                      "start": "2027-03-01", "end": "2027-02-31"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'value="2027-03-01"' in body and 'value="2027-02-31"' in body
    assert f'<option value="{sched.program.code}" selected>' in body
    assert "To: enter a date such as 2026-03-02." in body
    assert Session.objects.count() == before


def test_generate_sessions_reports_a_rule_and_keeps_the_dates(sched, as_director):
    response = as_director.post(reverse("scheduling:templates"), {
        "program": str(sched.program.code), "start": "2027-03-10", "end": "2027-03-01"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'value="2027-03-10"' in body and 'value="2027-03-01"' in body
    assert "No sessions generated." in body


@pytest.mark.parametrize(("typed", "message"), [
    ("25:99", "Not a valid time: enter one such as 09:30 (hours 0 to 23, minutes 0 to 59)."),
    # A browser's time box sends nothing when what was typed is not a time.
    ("", "Enter a time such as 09:30 (hours 0 to 23, minutes 0 to 59)."),
])
def test_an_impossible_time_says_the_time_is_invalid(sched, as_director, world, as_clinician,
                                                     typed, message):
    r = as_director.post(reverse("scheduling:staff_window_add", kwargs={"code": sched.clinician.code}),
                         {"weekday": "1", "start_time": typed,
                          "end_time": "10:00"})
    body = r.content.decode()
    assert r.status_code == 400 and message in body
    assert "This field is required" not in body
    assert not StaffHours.objects.exists()
    r = as_clinician.post(f"/participants/{world.participant.code}/availability/",
                          {"kind": "work", "weekday": 0, "start_time": "09:00",
                           "end_time": typed}, headers={"HX-Request": "true"})
    assert message in r.content.decode()
    assert "This field is required" not in r.content.decode()
    assert not world.participant.availability.exists()
