"""Weekly hours: which minutes count, and which week they belong to (no database).

Rules:
- Weekly hours = attended minutes of sessions that count toward hours (docs/DEVELOPING.md,
  core model). Holistic sessions (mindfulness, yoga, art, exercise) count only when the
  program says so (Program.holistic_counts_toward_hours).
- Weeks run Monday 00:00 to Monday 00:00 in the organization's time zone, so a
  daylight-saving week is 167 or 169 hours long and still one week.
- A session belongs to the week of its local start: a session from Sunday 23:00 to
  Monday 01:00 counts in the week that holds the Sunday (the date of service, as claims
  use it).
- Session length is real elapsed time (end minus start in UTC), so a session across a
  daylight-saving change is not inflated or shortened by the clock change.

- The minimum applies to the weeks a person is in care: a week that ends before admission
  (or starts after discharge) has no minimum at all, and the week of admission or
  discharge is partial, its minimum pro-rated by the calendar days in care (admitted on a
  Wednesday: 5 of 7 days, so 9 h becomes 6.4 h). Pro-rating by calendar days is OpenIOP's
  program default, not a published rule; ASAM states the minimum per week of care.

Source for the minimums: care/levels.py (ASAM 2.1: 9 h adults, 6 h adolescents).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

HOLISTIC_KINDS = frozenset({"mindfulness", "yoga", "art", "exercise"})
ATTENDED_STATUSES = frozenset({"present", "late", "left_early"})


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(week_start: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """Aware datetimes [Monday 00:00, next Monday 00:00) local time."""
    monday = monday_of(week_start)
    return (datetime.combine(monday, time(0), tzinfo=tz),
            datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz))


def week_of(moment: datetime, tz: zoneinfo.ZoneInfo) -> date:
    """The Monday (local) of the week a moment belongs to."""
    return monday_of(moment.astimezone(tz).date())


def counts_toward_hours(*, kind: str, counts: bool, holistic_counts: bool) -> bool:
    if not counts:
        return False
    return holistic_counts or kind not in HOLISTIC_KINDS


def session_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """Real elapsed minutes (timezone-aware datetimes)."""
    return int((ends_at.astimezone(UTC) - starts_at.astimezone(UTC)).total_seconds() // 60)


def weekly_minutes(rows: list[dict], tz: zoneinfo.ZoneInfo) -> dict[date, int]:
    """Sum attended counted minutes per local week.

    rows: dicts with starts_at, kind, counts_toward_hours, holistic_counts, status,
    minutes_attended (one per attendance record).
    """
    totals: dict[date, int] = {}
    for r in rows:
        if r["status"] not in ATTENDED_STATUSES:
            continue
        if not counts_toward_hours(kind=r["kind"], counts=r["counts_toward_hours"],
                                   holistic_counts=r["holistic_counts"]):
            continue
        wk = week_of(r["starts_at"], tz)
        totals[wk] = totals.get(wk, 0) + int(r["minutes_attended"])
    return totals


def minimum_minutes(weekly_hour_minimum: object) -> int:
    return round(float(weekly_hour_minimum or 0) * 60)


def week_minimum(minimum: int, *, week_start: date, admitted_on: date | None,
                 discharged_on: date | None = None) -> tuple[int | None, bool]:
    """(minutes required this week, partial?) for an episode of care.

    None when the person was not in care that week (admitted after it, discharged before
    it); pro-rated by the calendar days in care, and partial, for the week of admission or
    discharge; the full minimum otherwise.
    """
    monday = monday_of(week_start)
    sunday = monday + timedelta(days=6)
    if admitted_on is None:
        return minimum, False
    if admitted_on > sunday or (discharged_on is not None and discharged_on < monday):
        return None, False
    first = max(monday, admitted_on)
    last = min(sunday, discharged_on) if discharged_on is not None else sunday
    days = (last - first).days + 1
    if days >= 7:
        return minimum, False
    return round(minimum * days / 7), True
