"""Attendance marks sent twice (an answer lost on the way back, a double click) count once
and never turn into a false "someone else changed this" conflict."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.scheduling.models import Attendance, AttendanceChange

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(world):
    s = f.session(world.program, starts_at=timezone.now() - timedelta(hours=2), minutes=90)
    return s, f.booking(s, world.participant)


def _row_key(html: str, booking) -> str:
    row = html[html.index(f'id="row-{booking.code}"'):]
    return re.search(r'name="_idem" value="([0-9a-f-]{36})"', row).group(1)


def test_a_retried_htmx_mark_is_saved_once_and_the_page_reloads(world, group, as_clinician):
    s, b = group
    roster = as_clinician.get(reverse("scheduling:roster", kwargs={"code": s.code}))
    key = _row_key(roster.content.decode(), b)
    url = reverse("scheduling:attendance_mark", kwargs={"code": s.code, "booking": b.code})
    body = {"status": "present", "minutes": "90", "_idem": key}
    first = as_clinician.post(url, body, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and "90 min" in first.content.decode()
    # The row that came back has a new key; the retry of the lost answer has the old one.
    assert _row_key(first.content.decode(), b) != key
    again = as_clinician.post(url, body, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and again["HX-Refresh"] == "true"
    assert again["Idempotent-Replayed"] == "true"
    att = Attendance.objects.get(booking=b)
    assert (att.status, att.version) == ("present", 1)
    assert AccessEvent.objects.filter(object_type="attendance").count() <= 1


def test_a_retried_change_of_a_mark_is_not_a_false_conflict(world, group, as_clinician):
    s, b = group
    url = reverse("scheduling:attendance_mark", kwargs={"code": s.code, "booking": b.code})
    as_clinician.post(url, {"status": "present", "minutes": "90"})
    body = {"status": "late", "minutes": "60", "version": "1", "_idem": "6f1c2b1e-0d5e-4a53-9f36-1b2a3c4d5e6f"}
    first = as_clinician.post(url, body)
    again = as_clinician.post(url, body)  # the same form again: the first answer was lost
    assert first.status_code == 302
    assert again.status_code == 303 and again["Location"] == first["Location"]
    att = Attendance.objects.get(booking=b)
    assert (att.status, att.minutes_attended, att.version) == ("late", 60, 2)
    assert AttendanceChange.objects.filter(attendance=att).count() == 1
    # Another button of the same form (after a lost answer) is another submission: it runs,
    # and the stale version it carries is reported plainly.
    other = as_clinician.post(url, body | {"status": "absent"})
    assert other.status_code == 400 and "Someone else changed" in other.content.decode()
    assert Attendance.objects.get(booking=b).status == "late"


def test_all_present_sent_twice_marks_once(world, group, as_clinician):
    s, b = group
    url = reverse("scheduling:all_present", kwargs={"code": s.code})
    roster = as_clinician.get(reverse("scheduling:roster", kwargs={"code": s.code})).content.decode()
    form = roster[roster.index(url):]
    key = re.search(r'name="_idem" value="([0-9a-f-]{36})"', form).group(1)
    first = as_clinician.post(url, {"_idem": key})
    again = as_clinician.post(url, {"_idem": key})
    assert first.status_code == 302 and again.status_code == 303
    assert Attendance.objects.filter(booking=b, status="present").count() == 1
