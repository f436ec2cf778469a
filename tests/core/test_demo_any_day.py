"""The demo clinic is alive on any day it is built: a current week, the coming weeks,
notes due, a co-signature waiting, and a home page that is not empty on a Sunday."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from openiop.accounts.models import User
from openiop.clinical.models import Note
from openiop.demo.generator import DEMO_STEPS, build_demo, demo_freshness
from openiop.organizations.models import Organization
from openiop.scheduling.models import Attendance, Session
from tests.conftest import login

NY = ZoneInfo("America/New_York")
SUNDAY = date(2026, 11, 29)
DAYS = {
    "sunday": SUNDAY,
    "monday": date(2026, 11, 30),
    "dst_starts": date(2026, 3, 8),
    "new_years_day": date(2027, 1, 1),
    "leap_day": date(2028, 2, 29),
}


def _build(day: date, hour: int = 10) -> str:
    out = io.StringIO()
    with time_machine.travel(datetime.combine(day, time(hour), tzinfo=NY), tick=True):
        assert build_demo(seed=5, participants=25, today=day, out=out) is True
    return out.getvalue()


def _sessions_between(first: date, last: date) -> int:
    return Session.objects.filter(
        starts_at__gte=datetime.combine(first, time.min, tzinfo=NY),
        starts_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=NY),
    ).exclude(status="cancelled").count()


@pytest.mark.parametrize("name", sorted(DAYS))
def test_the_demo_built_on_any_day_has_a_live_calendar_and_work_waiting(db, name):
    day = DAYS[name]
    _build(day)
    monday = day - timedelta(days=day.weekday())
    # This week, and each of the two coming weeks, have sessions.
    assert _sessions_between(monday, monday + timedelta(days=6)) > 10
    assert _sessions_between(monday + timedelta(weeks=1), monday + timedelta(days=13)) > 10
    assert _sessions_between(monday + timedelta(weeks=2), monday + timedelta(days=20)) > 10
    # Nothing after "now" has attendance; the past weeks do.
    now = datetime.combine(day, time(10), tzinfo=NY)
    assert not Attendance.objects.filter(booking__session__starts_at__gt=now).exists()
    assert Attendance.objects.filter(booking__session__starts_at__lt=now).count() > 300
    # Work waiting: drafts, a supervisor's co-signature queue, notes in every state.
    assert Note.objects.filter(status="draft").exists()
    assert Note.objects.filter(status="signed", needs_cosignature=True).exists()
    assert {"signed", "cosigned", "locked"} <= set(Note.objects.values_list("status", flat=True))


def test_on_a_weekday_the_home_page_lists_todays_sessions(db):
    _build(DAYS["monday"])
    clinician = User.objects.get(username="clinician")
    with time_machine.travel(datetime(2026, 11, 30, 8, 0, tzinfo=NY), tick=True):
        page = login(clinician).get("/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Today&#x27;s sessions" in html or "Today's sessions" in html
    assert "My work" in html
    assert "Next sessions" not in html


def test_on_a_sunday_the_home_page_shows_the_next_day_with_sessions(db):
    _build(SUNDAY)
    clinician = User.objects.get(username="clinician")
    with time_machine.travel(datetime(2026, 11, 29, 10, 0, tzinfo=NY), tick=True):
        page = login(clinician).get("/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Next sessions: Monday, November 30" in html
    assert "No sessions today." in html
    assert html.count("<tr>") > 3  # the Monday's sessions are listed


def test_an_old_demo_says_plainly_how_to_rebuild_it(db):
    _build(date(2026, 10, 5))
    org = Organization.objects.get(slug="riverbend-demo")
    out = io.StringIO()
    assert build_demo(seed=5, participants=25, today=date(2026, 11, 29), out=out) is False
    message = out.getvalue()
    assert "make demo-reset" in message
    last = Session.objects.order_by("-starts_at").first().starts_at.astimezone(NY).date()
    assert date(2026, 10, 19) <= last <= date(2026, 10, 25)  # the third week shown
    assert f"its calendar ended on {last}" in message
    fresh = demo_freshness(org, date(2026, 10, 7))
    assert "nothing to do" in fresh and "make demo-reset" not in fresh


def test_the_demo_prints_each_steps_real_duration(db):
    text = _build(SUNDAY)
    durations = re.findall(r"done in (\d+) ms|done in (\d+\.\d) s", text)
    # the core step and every app's step, and on PostgreSQL the planner's statistics
    analyzed = connection.vendor == "postgresql"
    assert len(durations) == 1 + len(DEMO_STEPS) + analyzed
    assert ("planner statistics (ANALYZE) done in" in text) == analyzed
    total_ms = sum(int(ms) if ms else float(s) * 1000 for ms, s in durations)
    assert total_ms > 0
    assert re.search(r"Demo clinic ready in (\d+ ms|\d+\.\d s)", text)
