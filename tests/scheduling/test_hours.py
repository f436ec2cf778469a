"""Weekly hours across week boundaries, midnight and daylight-saving weeks."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from openiop.scheduling import selectors
from openiop.scheduling.hours import week_bounds, week_of, weekly_minutes

from .. import factories as f

NY = zoneinfo.ZoneInfo("America/New_York")


def row(start: datetime, minutes: int, *, kind: str = "group", status: str = "present",
        counts: bool = True, holistic: bool = True) -> dict:
    return {"starts_at": start, "kind": kind, "counts_toward_hours": counts,
            "holistic_counts": holistic, "status": status, "minutes_attended": minutes}


def test_a_daylight_saving_week_is_still_one_monday_to_monday_week():
    # US daylight saving starts Sunday 2026-03-08: that week has 167 hours.
    start, end = week_bounds(date(2026, 3, 4), NY)
    assert start == datetime(2026, 3, 2, tzinfo=NY)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=167)
    fall_start, fall_end = week_bounds(date(2026, 10, 27), NY)  # ends Sunday 2026-11-01
    assert fall_end.astimezone(UTC) - fall_start.astimezone(UTC) == timedelta(hours=169)


def test_a_session_crossing_midnight_counts_in_the_week_it_starts():
    sunday_late = datetime(2026, 3, 15, 23, 0, tzinfo=NY)  # runs to Monday 01:00
    totals = weekly_minutes([row(sunday_late, 120)], NY)
    assert totals == {date(2026, 3, 9): 120}


def test_the_week_is_taken_in_local_time_not_utc():
    # Sunday 22:30 in New York is already Monday in UTC.
    moment = datetime(2026, 3, 16, 2, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert week_of(moment, NY) == date(2026, 3, 9)


def test_only_attended_counted_minutes_add_up():
    monday = datetime(2026, 4, 6, 18, tzinfo=NY)
    rows = [row(monday, 90), row(monday, 0, status="absent"), row(monday, 60, status="late"),
            row(monday, 30, kind="yoga", holistic=False), row(monday, 30, kind="yoga"),
            row(monday, 45, counts=False)]
    assert weekly_minutes(rows, NY) == {date(2026, 4, 6): 180}


@pytest.mark.django_db
def test_a_session_across_the_clock_change_lasts_its_real_length(world):
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    end = datetime(2026, 3, 8, 3, 30, tzinfo=NY)  # 02:00 does not exist that night
    s = f.session(world.program, starts_at=start, minutes=60)
    s.ends_at = end
    s.save()
    assert s.duration_minutes == 60


@pytest.mark.django_db
def test_participant_hours_follow_the_clinic_time_zone(world):
    world.org.time_zone = "America/Los_Angeles"
    world.org.save()
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    # Sunday 23:00 in Los Angeles (Monday in New York and UTC).
    late = f.session(world.program, starts_at=datetime(2026, 3, 15, 23, tzinfo=la), minutes=60)
    f.attendance(f.booking(late, world.participant))
    monday = f.session(world.program, starts_at=datetime(2026, 3, 16, 18, tzinfo=la), minutes=90)
    f.attendance(f.booking(monday, world.participant), status="left_early", minutes=70)
    weeks = selectors.participant_hours(world.participant, weeks=2, today=date(2026, 3, 18))
    assert weeks == [{"week": date(2026, 3, 9), "minutes": 60}, {"week": date(2026, 3, 16), "minutes": 70}]
