"""Membership changes, cancellations with notices, calendars, compliance and flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from openiop.scheduling import selectors, services
from openiop.scheduling.models import Attendance, Booking, Notification

from .. import factories as f
from ..conftest import login

pytestmark = pytest.mark.django_db


def _series(w, weeks_back=2, weeks_ahead=2):
    now = timezone.now().replace(microsecond=0)
    sessions = [f.session(w.program, track=w.track, starts_at=now + timedelta(days=7 * k))
                for k in range(-weeks_back, weeks_ahead + 1) if k]
    for s in sessions:
        b = f.booking(s, w.participant)
        if s.starts_at < now:
            f.attendance(b)
    return sessions


def test_leaving_a_track_mid_series_touches_only_future_bookings(world):
    sessions = _series(world)
    enrollment = world.episode.enrollments.get()
    n = services.membership_leave(actor=world.director, enrollment=enrollment,
                                  end_date=timezone.localdate())
    assert n == 2
    past = Booking.objects.filter(session__starts_at__lt=timezone.now())
    assert past.count() == 2 and set(past.values_list("status", flat=True)) == {"booked"}
    assert Attendance.objects.count() == 2
    future = Booking.objects.filter(session__starts_at__gt=timezone.now())
    assert set(future.values_list("status", flat=True)) == {"cancelled"}
    assert len(sessions) == 4


def test_joining_a_track_books_only_upcoming_sessions(world):
    _series(world)
    newcomer = f.participant(world.org)
    ep = f.episode(newcomer, world.program)
    _enr, made = services.membership_join(actor=world.director, episode=ep, track=world.track,
                                          start_date=timezone.localdate() - timedelta(days=30))
    assert made == 2
    assert not Booking.objects.filter(participant=newcomer, session__starts_at__lt=timezone.now()).exists()


def test_cancelling_a_session_notifies_the_booked_with_alternatives(world):
    now = timezone.now()
    s = f.session(world.program, track=world.track, starts_at=now + timedelta(days=2))
    alt = f.session(world.program, track=world.track, starts_at=now + timedelta(days=4))
    f.booking(s, world.participant)
    notices = services.session_cancel(actor=world.director, session=s, reason="Facilitator ill")
    assert [n.participant for n in notices] == [world.participant]
    n = Notification.objects.get(participant=world.participant)
    assert "cancelled" in n.message and "ill" not in n.message
    assert list(n.alternatives.all()) == [alt]
    assert Booking.objects.get(session=s).status == "cancelled"


def test_the_participant_feed_parses_with_time_zones_and_no_clinical_content(world):
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    s = f.session(world.program, track=world.track, starts_at=start, title="Relapse prevention group")
    f.booking(s, world.participant)
    feed = services.feed_create(actor=world.director, participant=world.participant)
    url = reverse("scheduling:feed", kwargs={"token": feed.token})
    r = login(world.outsider).get(url)  # a feed needs no login: the secret URL is the key
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert str(event.get("dtstart").params["TZID"]) == "America/New_York"
    assert [tz.get("TZID") for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    text = r.content.decode()
    assert "Relapse" not in text and world.program.name not in text and "Jamie" not in text
    assert str(event.get("summary")) == "Group session"
    services.feed_revoke(actor=world.director, feed=feed)
    assert login(world.outsider).get(url).status_code == 410  # Gone: revoked for good


def test_a_clinician_feed_lists_the_sessions_they_lead(world):
    s = f.session(world.program, starts_at=timezone.now() + timedelta(days=1), facilitator=world.clinician)
    f.session(world.program, starts_at=timezone.now() + timedelta(days=1), facilitator=world.colleague)
    feed = services.feed_create(actor=world.clinician, user=world.clinician)
    cal = Calendar.from_ical(login(world.clinician).get(
        reverse("scheduling:feed", kwargs={"token": feed.token})).content)
    assert [str(e.get("uid")).split("@")[0] for e in cal.walk("VEVENT")] == [str(s.code)]


def test_the_attendance_policy_flags_three_absences_in_two_weeks(world):
    now = timezone.now()
    for k in range(3):
        s = f.session(world.program, track=world.track, starts_at=now - timedelta(days=2 + k))
        f.attendance(f.booking(s, world.participant), status="absent", minutes=0)
    s = f.session(world.program, track=world.track, starts_at=now - timedelta(days=6))
    f.attendance(f.booking(s, f.participant(world.org)),
                 status="excused", minutes=0)
    world.program.settings = {"attendance_policy": {"absences": 3, "period_days": 14}}
    world.program.save()
    rows = selectors.attendance_flags(world.org)
    assert [(r.participant, r.absences) for r in rows] == [(world.participant, 3)]
    world.program.settings = {"attendance_policy": {"absences": 4, "period_days": 14}}
    world.program.save()
    assert selectors.attendance_flags(world.org) == []


def test_a_makeup_offer_books_and_notifies(world):
    now = timezone.now()
    missed = f.session(world.program, track=world.track, starts_at=now - timedelta(days=1))
    b = f.booking(missed, world.participant)
    f.attendance(b, status="absent", minutes=0)
    upcoming = f.session(world.program, starts_at=now + timedelta(days=2))
    assert selectors.makeup_options(b) == [upcoming]
    services.makeup_offer(actor=world.director, booking=b, session=upcoming)
    assert Booking.objects.get(session=upcoming).pinned
    assert Notification.objects.get(participant=world.participant).kind == "makeup"


def test_compliance_lists_who_is_under_the_minimum_with_the_reason(world):
    from tests.clock import past_hours_in_this_week

    with past_hours_in_this_week() as now:
        monday = now.date() - timedelta(days=now.weekday())
        s = f.session(world.program, track=world.track,
                      starts_at=now.replace(microsecond=0) - timedelta(minutes=200))
        f.attendance(f.booking(s, world.participant), status="absent", minutes=0)
        (row,) = selectors.compliance(world.org, monday)
    assert row.participant == world.participant
    assert "1 absence" in row.reason and "scheduled for only 1.5 h" in row.reason
