"""iCalendar (RFC 5545) feeds with no clinical content.

Event text says only what kind of visit it is in neutral words and where: no program
name (it could disclose substance-use treatment, 42 CFR Part 2), no participant names
in staff feeds, no notes. Times carry the organization's time zone (a VTIMEZONE is
included so clients convert correctly, daylight saving included).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from .models import Session

NEUTRAL = {
    "individual": "Appointment", "family": "Family appointment", "medication": "Clinic visit",
}


def summary_for(session: Session) -> str:
    return NEUTRAL.get(session.kind, "Group session")


# RFC 5545 section 3.8.4.7: a UID must stay the same for the same event. The session's
# UUID is already unique; the suffix is fixed (never the request's Host header, which would
# make a second host name duplicate every event in a subscriber's calendar).
UID_DOMAIN = "openiop"


def build_calendar(sessions: Iterable[Session], *, name: str, tz: zoneinfo.ZoneInfo) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//OpenIOP//Schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz.key)
    now = timezone.now()
    for s in sessions:
        ev = Event()
        ev.add("uid", f"{s.code}@{UID_DOMAIN}")
        ev.add("dtstamp", now)
        ev.add("dtstart", s.starts_at.astimezone(tz))
        ev.add("dtend", s.ends_at.astimezone(tz))
        ev.add("summary", summary_for(s))
        where = s.site.name if s.site_id else ""
        if s.room_id:
            where = f"{where}, {s.room.name}" if where else s.room.name
        if where:
            ev.add("location", where)
        ev.add("status", "CANCELLED" if s.status == Session.Status.CANCELLED else "CONFIRMED")
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_window() -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(days=28), now + timedelta(days=90)
