"""The scheduling pages render for staff, stay inside the organization, and keep their
query counts flat as data grows."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from .. import factories as f
from ..conftest import login

pytestmark = pytest.mark.django_db


def _week_of_sessions(w, n):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    base = datetime.combine(monday, time(18), tzinfo=ZoneInfo(w.org.time_zone))
    for k in range(n):
        s = f.session(w.program, track=w.track, starts_at=base + timedelta(days=k % 5, minutes=k),
                      facilitator=w.colleague)
        f.booking(s, f.participant(w.org))
    return monday


@pytest.mark.parametrize("name", ["index", "plan_new", "compliance", "attendance_flags",
                                  "templates", "my_calendar"])
def test_staff_pages_render(world, as_director, name):
    r = as_director.get(reverse(f"scheduling:{name}"))
    assert r.status_code == 200
    assert b"<h1>" in r.content


def test_the_week_grid_query_count_does_not_grow_with_sessions(world, as_director):
    monday = _week_of_sessions(world, 2)
    url = reverse("scheduling:index") + f"?week={monday}&view=track&id={world.track.code}"
    with CaptureQueriesContext(connection) as small:
        assert as_director.get(url).status_code == 200
    _week_of_sessions(world, 10)
    with CaptureQueriesContext(connection) as big:
        r = as_director.get(url)
    assert len(big) == len(small)
    assert r.content.decode().count('class="wg-event') == 12


def test_the_schedule_tab_shows_hours_against_the_minimum(world):
    from tests.clock import past_hours_in_this_week

    with past_hours_in_this_week() as now:
        s = f.session(world.program, track=world.track, starts_at=now - timedelta(hours=3))
        f.attendance(f.booking(s, world.participant))
        r = login(world.clinician).get(
            reverse("scheduling:participant_schedule", kwargs={"code": world.participant.code}))
    html = r.content.decode()
    assert r.status_code == 200
    assert "id='hours-chart'" in html and '"threshold": {"value": 9.0, "label": "9 h minimum"}' in html
    assert "1 h 30 min of 9 h" in html


def test_another_organization_cannot_open_the_schedule_tab_or_feeds(world):
    outsider = login(world.outsider)
    url = reverse("scheduling:participant_schedule", kwargs={"code": world.participant.code})
    assert outsider.get(url).status_code == 404
    create = reverse("scheduling:participant_feed_create", kwargs={"code": world.participant.code})
    assert outsider.post(create).status_code == 404
    assert not world.participant.calendar_feeds.exists()


def test_bad_plan_input_names_the_field(world, as_director):
    r = as_director.post(reverse("scheduling:plan_new"), {"week_start": "2020-01-07"})
    assert "A week starts on a Monday" in r.content.decode()
