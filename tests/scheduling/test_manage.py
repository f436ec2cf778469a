"""The director's set-up in the app: session templates (with optimistic locking), site
closures, staff hours, and pinning / track moves on the participant's schedule tab.

Every write goes through a service that needs schedule.plan; bad input names the field
and the rule and stores nothing.
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.care.models import Enrollment
from openiop.scheduling import planning, services
from openiop.scheduling.hours import monday_of
from openiop.scheduling.models import (
    Attendance,
    Booking,
    Session,
    SessionTemplate,
    SiteClosure,
    StaffHours,
)

from .. import factories as f

pytestmark = pytest.mark.django_db


def _today(w):
    return timezone.localtime(timezone.now(), ZoneInfo(w.org.time_zone)).date()


def _template_post(w, **overrides):
    data = {"program": str(w.program.pk), "track": str(w.track.pk), "kind": "skills",
            "title": "DBT skills", "weekday": "1", "start_time": "17:00", "end_time": "18:15",
            "duration_minutes": "", "counts_toward_hours": "on", "required_credentials": "",
            "room": str(w.group_room.pk), "facilitator": str(w.colleague.pk), "capacity": "10"}
    return {k: v for k, v in (data | overrides).items() if v is not None}


def _edit_post(t, **overrides):
    data = {"track": str(t.track_id or ""), "kind": t.kind, "title": t.title,
            "weekday": "" if t.weekday is None else str(t.weekday),
            "start_time": t.start_time.strftime("%H:%M") if t.start_time else "",
            "end_time": t.end_time.strftime("%H:%M") if t.end_time else "",
            "duration_minutes": str(t.duration_minutes), "counts_toward_hours": "on",
            "required_credentials": ", ".join(t.required_credentials), "room": str(t.room_id or ""),
            "facilitator": str(t.facilitator_id or ""), "capacity": str(t.capacity),
            "version": str(t.version)}
    return data | overrides


def _snapshot():
    return sorted(SessionTemplate.objects.values_list("title", "weekday", "start_time", "end_time",
                                                      "required_credentials", "facilitator_id",
                                                      "version", "is_active"), key=str)


# --- pages ----------------------------------------------------------------------------------

def test_every_set_up_page_renders_for_the_director(sched, as_director):
    t = SessionTemplate.objects.filter(track=sched.track).first()
    for url in [reverse("scheduling:templates"), reverse("scheduling:template_new"),
                reverse("scheduling:template_edit", kwargs={"code": t.code}),
                reverse("scheduling:staff_hours"),
                reverse("scheduling:staff_edit", kwargs={"code": sched.clinician.code}),
                reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code})]:
        r = as_director.get(url)
        assert r.status_code == 200, url
        assert b"<h1>" in r.content
    html = as_director.get(reverse("scheduling:templates")).content.decode()
    assert "New template" in html and reverse("scheduling:staff_hours") in html
    assert "Monday<br>" in html and "6:00 PM\u20137:30 PM" in html  # the weekday shows (it was blank)


def test_the_schedule_index_links_to_staff_hours(world, as_director):
    assert reverse("scheduling:staff_hours") in as_director.get(reverse("scheduling:index")).content.decode()


# --- session templates ------------------------------------------------------------------------

def test_a_director_creates_a_weekly_template_that_takes_its_length_from_its_times(sched, as_director):
    r = as_director.post(reverse("scheduling:template_new"), _template_post(sched))
    assert r.status_code == 302
    t = SessionTemplate.objects.get(title="DBT skills")
    assert (t.weekday, t.start_time, t.end_time, t.duration_minutes) == (1, time(17), time(18, 15), 75)
    assert t.program == sched.program and t.version == 1 and t.is_active
    assert AccessEvent.objects.filter(object_type="session_template", object_id=str(t.code),
                                      action="create").exists()


def test_a_flexible_family_template_needs_a_length_and_parses_credentials(sched, as_director):
    lmft = f.staff(sched.org, Role.CLINICIAN, credentials=["LMFT"])
    data = _template_post(sched, track="", kind="family", title="Family session", weekday="",
                          start_time="", end_time="", duration_minutes="50",
                          required_credentials="lmft", facilitator=str(lmft.pk), room="")
    assert as_director.post(reverse("scheduling:template_new"), data).status_code == 302
    t = SessionTemplate.objects.get(title="Family session")
    assert t.is_flexible and t.duration_minutes == 50 and t.required_credentials == ["LMFT"]

    before = _snapshot()
    r = as_director.post(reverse("scheduling:template_new"),
                         data | {"title": "Another", "duration_minutes": "", "kind": "medication"})
    assert r.status_code == 400
    assert "Length (minutes): A flexible appointment needs its length in minutes" in r.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize(("overrides", "message"), [
    ({"start_time": "18:00", "end_time": "17:00"}, "Ends: The session must end after it starts."),
    ({"end_time": ""}, "Weekday: A fixed session needs a weekday, a start and an end time"),
    ({"weekday": ""}, "Weekday: A fixed session needs a weekday, a start and an end time"),
    ({"required_credentials": "LMFT"}, "Facilitator: Clinician Tester"),
    ({"required_credentials": "LMTF"}, "Facilitator must hold one of: Unknown credential LMTF"),
    ({"track": ""}, "Track: A weekly session belongs to a track; pick one."),
    ({"capacity": "0"}, "Capacity: Ensure this value is greater than or equal to 1."),
    ({"title": ""}, "Title: This field is required."),
])
def test_bad_template_input_names_the_field_and_the_rule_and_stores_nothing(sched, as_director,
                                                                          overrides, message):
    before = _snapshot()
    events = AccessEvent.objects.count()
    r = as_director.post(reverse("scheduling:template_new"), _template_post(sched, **overrides))
    html = r.content.decode()
    assert r.status_code == 400
    assert message in html, html[html.find('class="error"') - 200:][:800]
    assert "Nothing was saved" in html
    assert _snapshot() == before and AccessEvent.objects.count() == events


def test_the_facilitator_message_says_what_they_hold_and_what_is_needed(sched, as_director):
    r = as_director.post(reverse("scheduling:template_new"), _template_post(sched, required_credentials="LMFT"))
    assert f"{sched.colleague} holds LPC; this session needs one of LMFT." in r.content.decode()


def test_a_director_edits_a_template_and_the_version_goes_up(sched, as_director):
    t = SessionTemplate.objects.filter(track=sched.track, kind="group").first()
    url = reverse("scheduling:template_edit", kwargs={"code": t.code})
    r = as_director.post(url, _edit_post(t, title="Process group (new room)", end_time="19:45",
                                         required_credentials="lpc, LCSW"))
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.title == "Process group (new room)" and t.duration_minutes == 105 and t.version == 2
    assert t.required_credentials == ["LPC", "LCSW"]
    assert AccessEvent.objects.filter(object_type="session_template", action="change").count() == 1


def test_a_stale_edit_shows_a_conflict_keeps_what_was_typed_and_overwrites_nothing(sched, as_director):
    t = SessionTemplate.objects.filter(track=sched.track, kind="group").first()
    stale = _edit_post(t, title="My title from the old page")
    # Someone else saves first.
    from openiop.scheduling import services
    services.template_save(actor=sched.director, template=t, data={"title": "Their title"}, version=1)
    r = as_director.post(reverse("scheduling:template_edit", kwargs={"code": t.code}), stale)
    html = r.content.decode()
    assert r.status_code == 409
    assert "Someone else saved this template after you opened it. Nothing was saved" in html
    assert 'value="My title from the old page"' in html  # what they typed is still in the form
    assert "Their title" in html  # and the saved version is shown beside it
    t.refresh_from_db()
    assert t.title == "Their title" and t.version == 2
    # The re-rendered form carries the current version: saving again is a deliberate overwrite.
    assert 'name="version" value="2"' in html
    again = as_director.post(reverse("scheduling:template_edit", kwargs={"code": t.code}),
                             stale | {"version": "2"})
    assert again.status_code == 302
    t.refresh_from_db()
    assert t.title == "My title from the old page" and t.version == 3


def test_deactivating_keeps_the_template_and_its_sessions_and_stops_generation(sched, as_director):
    t = SessionTemplate.objects.filter(track=sched.track, kind="group", weekday=0).get()
    s = f.session(sched.program, track=sched.track, template=t)
    r = as_director.post(reverse("scheduling:template_active", kwargs={"code": t.code}), {"active": "0"})
    assert r.status_code == 302
    t.refresh_from_db()
    s.refresh_from_db()
    assert not t.is_active and s.template == t
    monday = monday_of(_today(sched)) + timedelta(days=7)
    as_director.post(reverse("scheduling:templates"), {"program": str(sched.program.code),
                                                       "start": str(monday), "end": str(monday)})
    made = Session.objects.filter(starts_at__date=monday).values_list("template_id", flat=True)
    assert t.pk not in set(made) and len(made) == 1  # only the psychoeducation template
    assert "inactive" in as_director.get(reverse("scheduling:templates")).content.decode()
    as_director.post(reverse("scheduling:template_active", kwargs={"code": t.code}), {"active": "1"})
    t.refresh_from_db()
    assert t.is_active


# --- closures -----------------------------------------------------------------------------------

def test_a_director_adds_and_removes_an_upcoming_closure(sched, as_director):
    day = _today(sched) + timedelta(days=10)
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(day), "site": "", "reason": "Staff training day"})
    assert r.status_code == 302
    c = SiteClosure.objects.get(date=day)
    assert c.site is None and c.reason == "Staff training day"
    assert "Staff training day" in as_director.get(reverse("scheduling:templates")).content.decode()
    assert as_director.post(reverse("scheduling:closure_remove", kwargs={"pk": c.pk})).status_code == 302
    assert not SiteClosure.objects.exists()


def test_a_closure_can_cancel_that_days_sessions_and_tell_the_booked(sched, as_director):
    from openiop.scheduling.models import Notification, Session

    start = _today(sched) + timedelta(days=7)
    day = next(start + timedelta(days=i) for i in range(7)
               if (start + timedelta(days=i)).weekday() in sched.track.weekdays)
    services.sessions_generate(actor=sched.director, program=sched.program, start=day,
                               end=day + timedelta(days=7))
    tz = ZoneInfo(sched.org.time_zone)
    on_day = [s for s in Session.objects.all() if timezone.localtime(s.starts_at, tz).date() == day]
    assert len(on_day) == 2  # the evening track's process group and psychoeducation
    later = Session.objects.exclude(pk__in=[s.pk for s in on_day])
    for s in on_day:
        f.booking(s, sched.participant)
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(day), "site": str(sched.site.pk), "reason": "Snow day",
                          "cancel_sessions": "on"}, follow=True)
    assert r.status_code == 200
    assert (f"{len(on_day)} sessions that day were cancelled and the booked participants told."
            in r.content.decode())
    assert {s.status for s in Session.objects.filter(pk__in=[s.pk for s in on_day])} == {"cancelled"}
    assert set(Session.objects.filter(pk__in=[s.pk for s in on_day])
               .values_list("cancel_reason", flat=True)) == {"Site closed: Snow day"}
    assert {s.status for s in later} == {"scheduled"}
    assert Notification.objects.filter(participant=sched.participant).count() == len(on_day)


def test_a_closure_without_the_box_leaves_the_days_sessions_alone(sched, as_director):
    from openiop.scheduling.models import Session

    day = _today(sched) + timedelta(days=9)
    services.sessions_generate(actor=sched.director, program=sched.program, start=day,
                               end=day + timedelta(days=7))
    before = dict(Session.objects.values_list("pk", "status"))
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(day), "site": "", "reason": "Training"}, follow=True)
    assert "Sessions already generated for it are not cancelled." in r.content.decode()
    assert dict(Session.objects.values_list("pk", "status")) == before


@pytest.mark.parametrize("site", ["", "site"])
def test_a_duplicate_closure_is_a_field_message_not_an_error_page(sched, as_director, site):
    day = _today(sched) + timedelta(days=3)
    SiteClosure.objects.create(organization=sched.org, site=sched.site if site else None, date=day, reason="Snow")
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(day), "site": str(sched.site.pk) if site else "", "reason": "Again"})
    assert r.status_code == 400
    where = sched.site.name if site else "all sites"
    assert f"Date: There is already a closure on {day:%b %-d, %Y} for {where}." in r.content.decode()
    assert SiteClosure.objects.count() == 1


def test_closures_refuse_a_past_day_and_a_missing_reason(sched, as_director):
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(_today(sched) - timedelta(days=1)), "site": "", "reason": "Late"})
    assert "Date: Pick today or a later date" in r.content.decode()
    r = as_director.post(reverse("scheduling:closure_add"),
                         {"date": str(_today(sched) + timedelta(days=1)), "site": "", "reason": ""})
    assert "Reason: This field is required." in r.content.decode()
    assert not SiteClosure.objects.exists()


# --- staff hours ----------------------------------------------------------------------------------

def test_the_staff_list_shows_windows_the_default_and_the_weekly_limit(sched, as_director):
    StaffHours.objects.create(user=sched.colleague, weekday=0, start_time=time(9), end_time=time(17))
    html = as_director.get(reverse("scheduling:staff_hours")).content.decode()
    assert str(sched.colleague) in html and "Mon 9:00 AM\u20135:00 PM" in html
    assert "Default: Monday to Friday, 8:00 AM to 8:00 PM" in html  # the clinician has no windows
    assert "40 h" in html
    assert str(sched.director) not in html.split("<tbody>")[1]  # no credentials: not clinical staff


def test_the_staff_list_query_count_does_not_grow_with_staff(sched, as_director):
    url = reverse("scheduling:staff_hours")
    as_director.get(url)
    with CaptureQueriesContext(connection) as small:
        assert as_director.get(url).status_code == 200
    for k in range(6):
        u = f.staff(sched.org, Role.CLINICIAN, credentials=["LPC"])
        StaffHours.objects.create(user=u, weekday=k % 5, start_time=time(9), end_time=time(12))
    with CaptureQueriesContext(connection) as big:
        r = as_director.get(url)
    # Session, user, profile, organization, the staff and their windows, the session save.
    assert len(big) == len(small) <= 10
    assert r.content.decode().count("Edit hours of") == 8


def test_staff_hours_changes_appear_in_the_next_plan(sched, as_director):
    code = {"code": sched.clinician.code}
    monday = monday_of(_today(sched)) + timedelta(days=7)

    def clinician():
        inst = planning.build_week(sched.org, monday).instance
        return next(c for c in inst.clinicians if c.id == str(sched.clinician.pk))

    assert len(clinician().windows) == 5 and clinician().max_weekly_minutes == 40 * 60  # the default
    assert as_director.post(reverse("scheduling:staff_window_add", kwargs=code),
                            {"weekday": "2", "start_time": "10:00", "end_time": "14:30"}
                            ).status_code == 302
    assert as_director.post(reverse("scheduling:staff_max_hours", kwargs=code),
                            {"max_weekly_hours": "12"}).status_code == 302
    c = clinician()
    assert [(w.start, w.end) for w in c.windows] == [(2 * 1440 + 600, 2 * 1440 + 870)]
    assert c.max_weekly_minutes == 12 * 60
    # Removing the last window brings the default back.
    w = StaffHours.objects.get(user=sched.clinician)
    r = as_director.post(reverse("scheduling:staff_window_remove", kwargs={"code": sched.clinician.code, "pk": w.pk}),
                         follow=True)
    assert "the planner uses the default" in r.content.decode()
    assert len(clinician().windows) == 5


@pytest.mark.parametrize(("name", "data", "message"), [
    ("staff_window_add", {"weekday": "1", "start_time": "15:00", "end_time": "09:00"},
     "To: The window must end after it starts."),
    ("staff_window_add", {"weekday": "9", "start_time": "09:00", "end_time": "10:00"},
     "Weekday: Select a valid choice."),
    ("staff_max_hours", {"max_weekly_hours": "0"}, "Most hours a week: Enter whole hours from 1 to 80."),
    ("staff_max_hours", {"max_weekly_hours": "81"}, "Most hours a week: Enter whole hours from 1 to 80."),
])
def test_bad_staff_hours_input_names_the_field_and_changes_nothing(sched, as_director, name, data,
                                                                   message):
    r = as_director.post(reverse(f"scheduling:{name}", kwargs={"code": sched.clinician.code}), data)
    assert r.status_code == 400
    assert message in r.content.decode()
    assert not StaffHours.objects.exists()
    sched.clinician.staff_profile.refresh_from_db()
    assert sched.clinician.staff_profile.max_weekly_hours == 40


def test_an_overlapping_window_is_refused(sched, as_director):
    StaffHours.objects.create(user=sched.clinician, weekday=1, start_time=time(9), end_time=time(13))
    r = as_director.post(reverse("scheduling:staff_window_add", kwargs={"code": sched.clinician.code}),
                         {"weekday": "1", "start_time": "12:00", "end_time": "15:00"})
    assert "From: Overlaps the Tuesday 09:00-13:00 window" in r.content.decode()
    assert StaffHours.objects.count() == 1


def test_another_organization_cannot_reach_our_staff_or_templates(sched, as_outsider):
    t = SessionTemplate.objects.first()
    assert as_outsider.get(reverse("scheduling:staff_edit", kwargs={"code": sched.clinician.code})).status_code == 404
    assert as_outsider.post(reverse("scheduling:template_edit", kwargs={"code": t.code}),
                            _edit_post(t, title="Hijacked")).status_code == 404
    assert as_outsider.get(reverse("scheduling:staff_hours")).content.decode().count(str(sched.clinician)) == 0
    t.refresh_from_db()
    assert t.title != "Hijacked"


# --- permission -------------------------------------------------------------------------------

def test_staff_without_the_planning_permission_see_no_edit_buttons_and_get_403(sched, as_clinician):
    t = SessionTemplate.objects.filter(track=sched.track).first()
    s = f.session(sched.program, track=sched.track)
    b = f.booking(s, sched.participant)
    closure = SiteClosure.objects.create(organization=sched.org, date=_today(sched) + timedelta(days=2),
                                         reason="Snow")
    html = as_clinician.get(reverse("scheduling:templates")).content.decode()
    assert "New template" not in html and "Deactivate" not in html and "Add closure" not in html
    assert "Edit hours of" not in as_clinician.get(reverse("scheduling:staff_hours")).content.decode()
    tab = as_clinician.get(reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code}))
    assert 'name="pinned"' not in tab.content.decode() and "Move to track" not in tab.content.decode()
    before, events = _snapshot(), AccessEvent.objects.filter(action__in=["create", "change"]).count()
    posts = [
        (reverse("scheduling:template_new"), _template_post(sched)),
        (reverse("scheduling:template_edit", kwargs={"code": t.code}), _edit_post(t, title="X")),
        (reverse("scheduling:template_active", kwargs={"code": t.code}), {"active": "0"}),
        (reverse("scheduling:templates"), {"program": str(sched.program.code), "start": "2030-01-07",
                                           "end": "2030-01-08"}),
        (reverse("scheduling:closure_add"), {"date": str(_today(sched) + timedelta(days=5)), "reason": "x"}),
        (reverse("scheduling:closure_remove", kwargs={"pk": closure.pk}), {}),
        (reverse("scheduling:staff_max_hours", kwargs={"code": sched.clinician.code}),
         {"max_weekly_hours": "10"}),
        (reverse("scheduling:staff_window_add", kwargs={"code": sched.clinician.code}),
         {"weekday": "1", "start_time": "09:00", "end_time": "10:00"}),
        (reverse("scheduling:booking_pin", kwargs={"code": sched.participant.code, "booking": b.code}),
         {"pinned": "1"}),
        (reverse("scheduling:track_move", kwargs={"code": sched.participant.code}),
         {"leave": "1", "start_date": str(_today(sched))}),
    ]
    for url, data in posts:
        assert as_clinician.post(url, data).status_code == 403, url
    assert as_clinician.get(reverse("scheduling:template_new")).status_code == 403
    assert _snapshot() == before
    assert AccessEvent.objects.filter(action__in=["create", "change"]).count() == events
    b.refresh_from_db()
    assert not b.pinned and SiteClosure.objects.count() == 1
    assert Enrollment.objects.get(episode=sched.episode).status == Enrollment.Status.ACTIVE


# --- the schedule tab -------------------------------------------------------------------------

def test_pin_and_unpin_a_booking_from_the_schedule_tab(sched, as_director):
    s = f.session(sched.program, track=sched.track, facilitator=sched.colleague,
                  starts_at=timezone.now().replace(microsecond=0) + timedelta(days=1))
    b = f.booking(s, sched.participant)
    week = monday_of(timezone.localtime(s.starts_at, ZoneInfo(sched.org.time_zone)).date())
    tab = reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code})
    pin = reverse("scheduling:booking_pin", kwargs={"code": sched.participant.code, "booking": b.code})
    html = as_director.get(f"{tab}?week={week}").content.decode()
    assert f'id="booking-{b.code}"' in html and ">Pin</button>" in html and "Pinned</span>" not in html
    r = as_director.post(pin, {"pinned": "1", "week": str(week)})
    assert r.status_code == 302 and r.url == f"{tab}?week={week}"
    b.refresh_from_db()
    assert b.pinned
    html = as_director.get(r.url).content.decode()
    assert '<span class="badge badge-primary">Pinned</span>' in html and ">Unpin</button>" in html
    as_director.post(pin, {"pinned": "0"})
    b.refresh_from_db()
    assert not b.pinned
    assert AccessEvent.objects.filter(object_type="booking", object_id=str(b.code)).count() == 2


def test_a_booking_of_another_participant_cannot_be_pinned_through_this_chart(sched, as_director):
    b = f.booking(f.session(sched.program, track=sched.track), sched.other)
    url = reverse("scheduling:booking_pin", kwargs={"code": sched.participant.code, "booking": b.code})
    assert as_director.post(url, {"pinned": "1"}).status_code == 404
    b.refresh_from_db()
    assert not b.pinned


def test_moving_track_drops_future_bookings_of_the_old_track_and_keeps_past_attendance(sched, as_director):
    morning = f.track(sched.program, name="Morning", kind="morning", start_time=time(9), end_time=time(12))
    now = timezone.now().replace(microsecond=0)
    past = f.session(sched.program, track=sched.track, starts_at=now - timedelta(days=2))
    past_booking = f.booking(past, sched.participant)
    attended = f.attendance(past_booking)
    future_old = f.session(sched.program, track=sched.track, starts_at=now + timedelta(days=2))
    future_booking = f.booking(future_old, sched.participant)
    future_new = f.session(sched.program, track=morning, starts_at=now + timedelta(days=3))
    tab = reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code})
    assert "Move to track" in as_director.get(tab).content.decode()

    r = as_director.post(reverse("scheduling:track_move", kwargs={"code": sched.participant.code}),
                         {"track": str(morning.pk), "start_date": str(_today(sched))}, follow=True)
    assert "Moved to the Morning track" in r.content.decode()
    assert "1 upcoming booking(s) of the old track cancelled, 1 booked" in r.content.decode()
    past_booking.refresh_from_db()
    future_booking.refresh_from_db()
    assert past_booking.status == Booking.Status.BOOKED
    assert Attendance.objects.get(pk=attended.pk).minutes_attended == attended.minutes_attended
    assert future_booking.status == Booking.Status.CANCELLED
    assert Booking.objects.get(session=future_new, participant=sched.participant).status == Booking.Status.BOOKED
    old, new = (Enrollment.objects.get(episode=sched.episode, track=sched.track),
                Enrollment.objects.get(episode=sched.episode, track=morning))
    assert old.status == Enrollment.Status.ENDED and new.status == Enrollment.Status.ACTIVE
    assert "In the <strong>Morning</strong> track" in r.content.decode()


def test_a_track_move_into_the_past_or_the_same_track_changes_nothing(sched, as_director):
    morning = f.track(sched.program, name="Morning", kind="morning", start_time=time(9), end_time=time(12))
    url = reverse("scheduling:track_move", kwargs={"code": sched.participant.code})
    r = as_director.post(url, {"track": str(morning.pk), "start_date": str(_today(sched) - timedelta(days=3))},
                         follow=True)
    assert "Nothing was changed. Start date: The move date cannot be in the past" in r.content.decode()
    r = as_director.post(url, {"track": str(sched.track.pk), "start_date": str(_today(sched))}, follow=True)
    assert "Nothing was changed. Move to track: Select a valid choice." in r.content.decode()
    r = as_director.post(url, {"track": "", "start_date": str(_today(sched))}, follow=True)
    assert "Nothing was changed. Move to track: Pick the track to move to." in r.content.decode()
    assert list(Enrollment.objects.filter(episode=sched.episode).values_list("track", "status")) == [
        (sched.track.pk, Enrollment.Status.ACTIVE)]


def test_leaving_a_track_without_a_new_one_cancels_only_its_future_bookings(sched, as_director):
    now = timezone.now().replace(microsecond=0)
    future = f.booking(f.session(sched.program, track=sched.track, starts_at=now + timedelta(days=2)),
                       sched.participant)
    r = as_director.post(reverse("scheduling:track_move", kwargs={"code": sched.participant.code}),
                         {"leave": "1", "start_date": str(_today(sched))}, follow=True)
    assert "Left the Evening track" in r.content.decode()
    future.refresh_from_db()
    assert future.status == Booking.Status.CANCELLED
    assert Enrollment.objects.get(episode=sched.episode).status == Enrollment.Status.ENDED


def test_the_pin_and_move_urls_are_participant_scoped():
    from tests.urlwalk import participant_routes

    routes = participant_routes()
    assert "schedule/participants/<uuid:code>/bookings/<uuid:booking>/pin/" in routes
    assert "schedule/participants/<uuid:code>/track/" in routes


def test_public_holidays_close_each_site_once_and_generation_skips_them(sched, client):
    from datetime import date

    from openiop.scheduling.models import Session, SiteClosure

    year = timezone.localdate().year + 1
    client.force_login(sched.director)
    response = client.post("/schedule/closures/holidays/", {"year": str(year)})
    assert response.status_code == 302
    closures = {c.date: c.reason for c in SiteClosure.objects.filter(site=sched.site)}
    # The test site is in Ohio: federal holidays (Ohio adds none of its own).
    assert closures[date(year, 7, 4)] == "Independence Day"
    assert closures[date(year, 1, 1)] == "New Year's Day"
    assert any(r.startswith("Thanksgiving") for r in closures.values())
    assert len(closures) >= 11
    # Running it again adds nothing.
    client.post("/schedule/closures/holidays/", {"year": str(year)})
    assert SiteClosure.objects.filter(site=sched.site).count() == len(closures)
    # No session is generated on a holiday.
    thanksgiving = next(d for d, r in closures.items() if r.startswith("Thanksgiving"))
    monday = thanksgiving - timedelta(days=thanksgiving.weekday())
    services.sessions_generate(actor=sched.director, program=sched.program, start=monday,
                               end=monday + timedelta(days=6))
    assert Session.objects.filter(starts_at__date__gte=monday).exists()
    assert not Session.objects.filter(starts_at__date=thanksgiving).exists()


def test_holidays_for_a_far_year_are_refused_by_name(sched):
    from openiop.scheduling.models import SiteClosure

    year = timezone.localdate().year + 5
    with pytest.raises(ValidationError) as exc:
        services.closures_add_holidays(actor=sched.director, organization=sched.org, year=year)
    assert "year" in exc.value.message_dict
    assert not SiteClosure.objects.exists()


def test_past_bookings_offer_no_pin_button(sched, as_director):
    past = f.session(sched.program, track=sched.track, minutes=60,
                     starts_at=timezone.now().replace(microsecond=0) - timedelta(hours=3))
    b = f.booking(past, sched.participant)
    week = monday_of(timezone.localtime(past.starts_at, ZoneInfo(sched.org.time_zone)).date())
    tab = reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code})
    html = as_director.get(f"{tab}?week={week}").content.decode()
    row = html[html.index(f'id="booking-{b.code}"'):]
    row = row[:row.index("</tr>")]
    assert "Pin</button>" not in row


def test_a_program_with_one_track_says_there_is_nowhere_to_move(sched, as_director):
    tab = reverse("scheduling:participant_schedule", kwargs={"code": sched.participant.code})
    html = as_director.get(tab).content.decode()
    assert "The program has no other active track to move to." in html
    assert "Move to track" not in html and ">Leave the track</button>" in html
