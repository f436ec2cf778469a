"""Attendance: one click per person, minutes rules, corrections audited, locks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.core.exceptions import Conflict, InvalidTransition
from openiop.scheduling import services
from openiop.scheduling.locks import register_attendance_lock, unregister_attendance_lock
from openiop.scheduling.models import Attendance, AttendanceChange

from .. import factories as f
from ..conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(world):
    s = f.session(world.program, starts_at=timezone.now() - timedelta(hours=2), minutes=90)
    return s, f.booking(s, world.participant)


def test_present_defaults_to_the_session_length_and_late_takes_minutes_off(world, group):
    _s, b = group
    att = services.attendance_record(actor=world.clinician, booking=b, status="present")
    assert att.minutes_attended == 90
    att = services.attendance_record(actor=world.clinician, booking=b, status="late", minutes=70)
    assert (att.status, att.minutes_attended, att.version) == ("late", 70, 2)


def test_minutes_longer_than_the_session_are_refused_and_nothing_is_stored(world, group):
    _, b = group
    with pytest.raises(ValidationError) as exc:
        services.attendance_record(actor=world.clinician, booking=b, status="present", minutes=91)
    assert "longer than the session (90 min)" in exc.value.message_dict["minutes_attended"][0]
    assert not Attendance.objects.filter(booking=b).exists()


def test_absent_with_minutes_is_refused(world, group):
    with pytest.raises(ValidationError, match="0 minutes"):
        services.attendance_record(actor=world.clinician, booking=group[1], status="absent", minutes=10)


def test_a_correction_keeps_the_old_values_and_is_audited(world, group):
    _, b = group
    services.attendance_record(actor=world.clinician, booking=b, status="present")
    before = AccessEvent.objects.filter(object_type="attendance", action="change").count()
    services.attendance_record(actor=world.colleague, booking=b, status="absent", reason="signed in by mistake")
    change = AttendanceChange.objects.get(attendance__booking=b)
    assert (change.old_status, change.old_minutes, change.new_status, change.new_minutes) == (
        "present", 90, "absent", 0)
    assert change.changed_by == world.colleague
    assert AccessEvent.objects.filter(object_type="attendance", action="change").count() == before + 1


def test_a_stale_version_is_a_conflict(world, group):
    _, b = group
    services.attendance_record(actor=world.clinician, booking=b, status="present")
    with pytest.raises(Conflict):
        services.attendance_record(actor=world.colleague, booking=b, status="absent", version=7)


def test_a_registered_lock_freezes_attendance(world, group):
    s, b = group

    def signed(session):
        return "the group note is signed" if session.pk == s.pk else None

    register_attendance_lock(signed)
    try:
        with pytest.raises(InvalidTransition, match="the group note is signed"):
            services.attendance_record(actor=world.clinician, booking=b, status="present")
    finally:
        unregister_attendance_lock(signed)


def test_attendance_cannot_be_taken_for_a_later_day(world):
    s = f.session(world.program, starts_at=timezone.now() + timedelta(days=3))
    with pytest.raises(ValidationError, match="day of the session"):
        services.attendance_record(actor=world.clinician, booking=f.booking(s, world.participant),
                                   status="present")


def test_all_present_marks_only_the_unrecorded(world, group):
    s, b = group
    other = f.participant(world.org)
    b2 = f.booking(s, other)
    services.attendance_record(actor=world.clinician, booking=b, status="absent")
    assert services.attendance_all_present(actor=world.clinician, session=s) == 1
    assert Attendance.objects.get(booking=b).status == "absent"
    assert Attendance.objects.get(booking=b2).minutes_attended == 90


def test_the_roster_records_one_person_with_one_htmx_click(world, group, as_clinician):
    s, b = group
    url = reverse("scheduling:attendance_mark", kwargs={"code": s.code, "booking": b.code})
    r = as_clinician.post(url, {"status": "present", "minutes": "90"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert f'id="row-{b.code}"' in r.content.decode() and "90 min" in r.content.decode()
    assert Attendance.objects.get(booking=b).status == "present"
    # Late with the untouched full length takes the default 15 minutes off.
    as_clinician.post(url, {"status": "late", "minutes": "90", "version": "1"}, HTTP_HX_REQUEST="true")
    assert Attendance.objects.get(booking=b).minutes_attended == 75
    r = as_clinician.post(url, {"status": "present", "minutes": "500"}, HTTP_HX_REQUEST="true")
    assert "cannot be longer than the session" in r.content.decode()
    assert Attendance.objects.get(booking=b).minutes_attended == 75


def test_the_roster_page_query_count_does_not_grow_with_the_group(world, group, as_clinician):
    s, _ = group
    url = reverse("scheduling:roster", kwargs={"code": s.code})
    as_clinician.get(url)
    with CaptureQueriesContext(connection) as small:
        assert as_clinician.get(url).status_code == 200
    for _ in range(6):
        f.booking(s, f.participant(world.org))
    with CaptureQueriesContext(connection) as big:
        as_clinician.get(url)
    assert len(big) == len(small)


def test_another_organization_cannot_open_a_roster(world, group):
    s, _ = group
    assert login(world.outsider).get(reverse("scheduling:roster", kwargs={"code": s.code})).status_code == 404
