"""The scheduling API: week sessions, rosters and attendance, hours, compliance, plans.

Every endpoint is scoped to the organization (404 elsewhere), refuses roles without the
permission (403), names the field of bad input (422) and leaves stored data unchanged.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.audit.models import AccessEvent
from openiop.participants.models import Availability
from openiop.scheduling import services
from openiop.scheduling.hours import minimum_minutes
from openiop.scheduling.locks import register_attendance_lock, unregister_attendance_lock
from openiop.scheduling.models import Attendance, Booking, PlanRun, Session
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db

API = "/api/scheduling"


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _generate(w):
    return services.sessions_generate(actor=w.director, program=w.program, start=w.next_monday,
                                      end=w.next_monday + timedelta(days=6))


@pytest.fixture
def week(sched):
    """Next week's six track sessions; Jamie is booked in all, Sam in the first one."""
    _generate(sched)
    sessions = list(Session.objects.filter(program=sched.program, template__isnull=False)
                    .order_by("starts_at"))
    for s in sessions:
        f.booking(s, sched.participant)
    f.booking(sessions[0], sched.other)
    return sessions


@pytest.fixture
def today(sched):
    """A group that started two hours ago with both participants booked."""
    s = f.session(sched.program, starts_at=timezone.now().replace(microsecond=0) - timedelta(hours=2),
                  minutes=90, track=sched.track, room=sched.group_room, facilitator=sched.colleague)
    return s, f.booking(s, sched.participant), f.booking(s, sched.other)


@pytest.fixture
def director(sched):
    return login(sched.director)


@pytest.fixture
def clinician(sched):
    return login(sched.clinician)


# --- sessions -----------------------------------------------------------------------------

def test_the_week_lists_the_organizations_sessions_with_local_offsets_and_seats(sched, week, clinician):
    elsewhere = f.program(sched.outsider_org)
    f.session(elsewhere, starts_at=datetime.combine(sched.next_monday, time(12), tzinfo=ZoneInfo("UTC")))
    response = clinician.get(f"{API}/sessions", {"week": sched.next_monday.isoformat()})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["code"] for r in rows] == [str(s.code) for s in week]
    first = rows[0]
    starts = datetime.fromisoformat(first["starts_at"])
    tz = ZoneInfo(sched.org.time_zone)
    assert (starts.hour, starts.utcoffset()) == (18, tz.utcoffset(starts.replace(tzinfo=None)))
    assert datetime.fromisoformat(first["ends_at"]) - starts == timedelta(minutes=90)
    assert first["kind"] == "group" and first["title"] == "Process group"
    assert first["site"] == {"code": str(sched.site.code), "name": sched.site.name}
    assert first["room"] == {"id": sched.group_room.pk, "name": "Group A"}
    assert first["facilitator"] == {"id": sched.colleague.pk, "name": str(sched.colleague)}
    assert first["track"] == {"code": str(sched.track.code), "name": sched.track.name}
    assert (first["capacity"], first["booked"], first["status"]) == (10, 2, "scheduled")
    assert [r["booked"] for r in rows[1:]] == [1] * 5


def test_the_week_filters_by_track_and_facilitator(sched, week, clinician):
    other_track = f.track(sched.program, name="Morning")
    by_track = clinician.get(f"{API}/sessions", {"week": sched.next_monday.isoformat(),
                                                 "track": str(other_track.code)})
    assert by_track.status_code == 200 and by_track.json() == []
    mine = clinician.get(f"{API}/sessions", {"week": sched.next_monday.isoformat(),
                                             "facilitator": sched.colleague.pk})
    assert len(mine.json()) == len(week)
    nobody = clinician.get(f"{API}/sessions", {"week": sched.next_monday.isoformat(),
                                               "facilitator": sched.clinician.pk})
    assert nobody.status_code == 200 and nobody.json() == []


def test_the_sessions_list_query_count_does_not_grow_with_sessions(sched, clinician):
    monday = sched.next_monday

    def add(n, hour):
        for i in range(n):
            room = f.room(sched.site)
            s = f.session(sched.program, starts_at=datetime.combine(
                monday + timedelta(days=i % 5), time(hour), tzinfo=ZoneInfo(sched.org.time_zone)),
                track=sched.track, room=room, facilitator=f.staff(sched.org))
            f.booking(s, sched.participant)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = clinician.get(f"{API}/sessions", {"week": monday.isoformat()})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json())

    add(2, 9)
    few, n = queries()
    assert n == 2
    add(10, 13)
    assert queries() == (few, 12)


@pytest.mark.parametrize(("query", "field"), [
    ({"week": "2026-13-45"}, "week"),
    ({"week": "tuesday"}, "week"),
    ({"week": "9999-12-27"}, "week"),  # a Monday far beyond the supported range
    ({"track": "not-a-uuid"}, "track"),
    ({"track": "11111111-1111-4111-8111-111111111111"}, "track"),
    ({"facilitator": "0"}, "facilitator"),
    ({"facilitator": str(2**70)}, "facilitator"),
])
def test_bad_week_list_input_is_a_422_naming_the_field(sched, clinician, query, field):
    response = clinician.get(f"{API}/sessions", query)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]


def test_a_week_that_is_not_a_monday_is_refused_with_the_monday_named(sched, clinician):
    tuesday = sched.next_monday + timedelta(days=1)
    response = clinician.get(f"{API}/sessions", {"week": tuesday.isoformat()})
    assert response.status_code == 422
    assert f"week: A week starts on a Monday; {tuesday.isoformat()}" in response.json()["detail"]
    assert sched.next_monday.isoformat() in response.json()["detail"]


def test_one_session_shows_its_roster_with_attendance(sched, today, clinician):
    s, jamie, sam = today
    f.attendance(jamie, "late", minutes=70)
    Booking.objects.filter(pk=sam.pk).update(pinned=True)
    response = clinician.get(f"{API}/sessions/{s.code}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["code"] == str(s.code) and data["booked"] == 2 and data["attendance_lock"] is None
    roster = {r["participant_name"]: r for r in data["roster"]}
    assert roster["Jamie Rivera"] == {
        "booking": str(jamie.code), "participant": str(sched.participant.code),
        "participant_name": "Jamie Rivera", "status": "booked", "pinned": False,
        "attendance": {"status": "late", "minutes": 70, "version": 1}}
    assert roster["Sam Quill"]["pinned"] is True and roster["Sam Quill"]["attendance"] is None


def test_sessions_of_another_organization_are_404(sched, today, week):
    outsider = login(sched.outsider)
    s, jamie, _ = today
    assert outsider.get(f"{API}/sessions/{s.code}").status_code == 404
    assert post(outsider, f"{API}/sessions/{s.code}/bookings/{jamie.code}/attendance",
                {"status": "present"}).status_code == 404
    assert post(outsider, f"{API}/sessions/{s.code}/all-present").status_code == 404
    assert post(outsider, f"{API}/sessions/{week[0].code}/cancel", {"reason": "x"}).status_code == 404
    assert post(outsider, f"{API}/bookings/{jamie.code}/pin", {"pinned": True}).status_code == 404
    assert outsider.get(f"{API}/sessions", {"week": sched.next_monday.isoformat()}).json() == []
    assert not Attendance.objects.exists()
    assert Session.objects.filter(status="cancelled").count() == 0
    assert not Booking.objects.filter(pinned=True).exists()


def test_a_session_code_that_is_not_a_uuid_is_a_4xx_with_a_detail(sched, clinician):
    response = clinician.get(f"{API}/sessions/not-a-uuid")
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


# --- attendance ---------------------------------------------------------------------------

def test_attendance_is_recorded_and_corrected_with_a_version(sched, today, clinician):
    s, jamie, _ = today
    url = f"{API}/sessions/{s.code}/bookings/{jamie.code}/attendance"
    first = post(clinician, url, {"status": "present"})
    assert first.status_code == 200, first.content
    assert first.json() == {"booking": str(jamie.code), "status": "present", "minutes": 90,
                            "version": 1}
    corrected = post(clinician, url, {"status": "late", "minutes": 70, "version": 1,
                                      "reason": "arrived after check-in"})
    assert corrected.json()["minutes"] == 70 and corrected.json()["version"] == 2
    stale = post(clinician, url, {"status": "absent", "version": 1})
    assert stale.status_code == 409 and "reload" in stale.json()["detail"]
    att = Attendance.objects.get(booking=jamie)
    assert (att.status, att.minutes_attended, att.version) == ("late", 70, 2)


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "present", "minutes": 91}, "minutes: Minutes attended (91) cannot be longer"),
    ({"status": "asleep"}, "status: Choose one of"),
    ({"status": "present", "minutes": -1}, "minutes"),
    ({"status": "absent", "minutes": 10}, "minutes: Absent or excused means 0"),
    ({"status": "late", "minutes": 90}, "minutes: Late or left early"),
    ({"minutes": 10}, "status"),
    ({"status": "present", "minutes": "lots"}, "minutes"),
    ({"status": "present", "reason": "x" * 201}, "reason"),
])
def test_bad_attendance_is_a_422_naming_the_field_and_stores_nothing(sched, today, clinician,
                                                                     body, field):
    s, jamie, _ = today
    response = post(clinician, f"{API}/sessions/{s.code}/bookings/{jamie.code}/attendance", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert not Attendance.objects.filter(booking=jamie).exists()


def test_attendance_for_a_future_session_is_a_422(sched, week, clinician):
    booking = Booking.objects.filter(session=week[0], participant=sched.participant).get()
    response = post(clinician, f"{API}/sessions/{week[0].code}/bookings/{booking.code}/attendance",
                    {"status": "present"})
    assert response.status_code == 422 and "day of the session" in response.json()["detail"]
    assert not Attendance.objects.exists()


def test_locked_attendance_is_a_409_and_unchanged(sched, today, clinician):
    s, jamie, _ = today
    f.attendance(jamie, "present")

    def signed(session):
        return "the group note is signed" if session.pk == s.pk else None

    register_attendance_lock(signed)
    try:
        response = post(clinician, f"{API}/sessions/{s.code}/bookings/{jamie.code}/attendance",
                        {"status": "absent"})
        everyone = post(clinician, f"{API}/sessions/{s.code}/all-present")
        detail = clinician.get(f"{API}/sessions/{s.code}").json()
    finally:
        unregister_attendance_lock(signed)
    assert response.status_code == 409 and "the group note is signed" in response.json()["detail"]
    assert everyone.status_code == 409
    assert detail["attendance_lock"] == "the group note is signed"
    assert Attendance.objects.get(booking=jamie).status == "present"
    assert Attendance.objects.count() == 1


def test_all_present_marks_everyone_not_yet_recorded(sched, today, clinician):
    s, jamie, sam = today
    f.attendance(jamie, "late", minutes=60)
    response = post(clinician, f"{API}/sessions/{s.code}/all-present")
    assert response.status_code == 200
    assert response.json() == {"session": str(s.code), "marked": 1}
    assert Attendance.objects.get(booking=sam).minutes_attended == 90
    assert Attendance.objects.get(booking=jamie).status == "late"
    assert post(clinician, f"{API}/sessions/{s.code}/all-present").json()["marked"] == 0


def test_taking_attendance_needs_the_attendance_permission(sched, today):
    s, jamie, _ = today
    billing = login(f.staff(sched.org, Role.BILLING))
    response = post(billing, f"{API}/sessions/{s.code}/bookings/{jamie.code}/attendance",
                    {"status": "present"})
    assert response.status_code == 403 and "attendance.record" in response.json()["detail"]
    assert post(billing, f"{API}/sessions/{s.code}/all-present").status_code == 403
    assert billing.get(f"{API}/sessions/{s.code}").status_code == 200  # reading is allowed
    assert not Attendance.objects.exists()


# --- cancel and pin -----------------------------------------------------------------------

def test_cancelling_a_session_notifies_the_booked_and_offers_alternatives(sched, week, director):
    first = week[0]
    response = post(director, f"{API}/sessions/{first.code}/cancel", {"reason": "Facilitator ill"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "cancelled" and data["notified"] == 2
    same_kind = [str(s.code) for s in week[1:] if s.kind == first.kind]
    assert data["alternatives"] and set(data["alternatives"]) <= set(same_kind)
    first.refresh_from_db()
    assert (first.status, first.cancel_reason) == ("cancelled", "Facilitator ill")
    again = post(director, f"{API}/sessions/{first.code}/cancel", {"reason": "twice"})
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "   "}, "reason"), ({}, "reason"), ({"reason": "x" * 201}, "reason")])
def test_cancel_without_a_reason_is_a_422_and_the_session_stays(sched, week, director, body, field):
    response = post(director, f"{API}/sessions/{week[0].code}/cancel", body)
    assert response.status_code == 422 and field in response.json()["detail"]
    week[0].refresh_from_db()
    assert week[0].status == "scheduled"
    assert Booking.objects.filter(status="booked").count() == 7


def test_cancelling_and_pinning_need_the_planning_permission(sched, week, clinician):
    booking = Booking.objects.filter(session=week[0]).first()
    cancel = post(clinician, f"{API}/sessions/{week[0].code}/cancel", {"reason": "x"})
    pin = post(clinician, f"{API}/bookings/{booking.code}/pin", {"pinned": True})
    assert (cancel.status_code, pin.status_code) == (403, 403)
    assert "schedule.plan" in pin.json()["detail"]
    week[0].refresh_from_db()
    booking.refresh_from_db()
    assert week[0].status == "scheduled" and booking.pinned is False


def test_a_booking_is_pinned_and_unpinned_with_an_audit_event(sched, week, director):
    booking = Booking.objects.filter(session=week[0], participant=sched.other).get()
    response = post(director, f"{API}/bookings/{booking.code}/pin", {"pinned": True})
    assert response.json() == {"booking": str(booking.code), "pinned": True}
    booking.refresh_from_db()
    assert booking.pinned is True
    assert AccessEvent.objects.filter(object_type="booking", object_id=str(booking.code),
                                      reason="pinned").exists()
    assert post(director, f"{API}/bookings/{booking.code}/pin", {"pinned": False}).json()["pinned"] is False
    bad = post(director, f"{API}/bookings/{booking.code}/pin", {"pinned": "perhaps"})
    assert bad.status_code == 422 and "pinned" in bad.json()["detail"]
    booking.refresh_from_db()
    assert booking.pinned is False


# --- one participant ----------------------------------------------------------------------

def test_hours_per_week_with_the_minimum_and_an_audit_event(sched, clinician):
    tz = ZoneInfo(sched.org.time_zone)
    this_monday = timezone.localtime(timezone.now(), tz).date()
    this_monday -= timedelta(days=this_monday.weekday())
    last_week = datetime.combine(this_monday - timedelta(days=7), time(18), tzinfo=tz)
    f.attendance(f.booking(f.session(sched.program, starts_at=last_week, minutes=90),
                           sched.participant), "present")
    before = AccessEvent.objects.filter(action="view", participant=sched.participant).count()
    response = clinician.get(f"{API}/participants/{sched.participant.code}/hours", {"weeks": 3})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["participant"] == str(sched.participant.code)
    assert data["weekly_minimum_minutes"] == minimum_minutes(sched.program.weekly_hour_minimum) > 0
    assert [w["week"] for w in data["weeks"]] == [
        (this_monday - timedelta(days=7 * i)).isoformat() for i in (2, 1, 0)]
    assert [w["minutes"] for w in data["weeks"]] == [0, 90, 0]
    assert AccessEvent.objects.filter(action="view", participant=sched.participant).count() == before + 1


@pytest.mark.parametrize("weeks", ["0", "53", "100000000000000000000", "eight"])
def test_hours_weeks_out_of_range_is_a_422_naming_weeks(sched, clinician, weeks):
    response = clinician.get(f"{API}/participants/{sched.participant.code}/hours", {"weeks": weeks})
    assert response.status_code == 422 and "weeks" in response.json()["detail"]


def test_the_participants_bookings_of_a_week_are_listed_and_audited(sched, week, clinician):
    Booking.objects.filter(session=week[1], participant=sched.participant).update(status="cancelled")
    before = AccessEvent.objects.filter(action="view", participant=sched.participant).count()
    response = clinician.get(f"{API}/participants/{sched.participant.code}/sessions",
                             {"week": sched.next_monday.isoformat()})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["session"]["code"] for r in rows] == [str(s.code) for s in week]
    assert [r["status"] for r in rows[:2]] == ["booked", "cancelled"]
    assert rows[0]["session"]["booked"] == 2 and rows[1]["session"]["booked"] == 0
    assert rows[0]["attendance"] is None and rows[0]["pinned"] is False
    assert AccessEvent.objects.filter(action="view", participant=sched.participant).count() == before + 1
    other_week = clinician.get(f"{API}/participants/{sched.participant.code}/sessions",
                               {"week": (sched.next_monday + timedelta(days=7)).isoformat()})
    assert other_week.json() == []
    tuesday = clinician.get(f"{API}/participants/{sched.participant.code}/sessions",
                            {"week": (sched.next_monday + timedelta(days=1)).isoformat()})
    assert tuesday.status_code == 422 and "week" in tuesday.json()["detail"]


def test_participant_reads_are_404_across_organizations_and_not_audited(sched, week):
    outsider = login(sched.outsider)
    before = AccessEvent.objects.filter(participant=sched.participant).count()
    for path in ("hours", "sessions"):
        response = outsider.get(f"{API}/participants/{sched.participant.code}/{path}")
        assert response.status_code == 404 and response.json()["detail"] == "Not found"
    assert AccessEvent.objects.filter(participant=sched.participant).count() == before


def test_reading_the_schedule_needs_the_schedule_permission(sched, week):
    user = User.objects.create_user(username="pt-api", password="x" * 14, role=Role.PARTICIPANT)
    f.participant(sched.org, user=user)
    client = login(user)
    urls = [f"{API}/sessions", f"{API}/sessions/{week[0].code}", f"{API}/compliance",
            f"{API}/participants/{sched.participant.code}/hours",
            f"{API}/participants/{sched.participant.code}/sessions"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "schedule.view" in response.json()["detail"]
    assert not AccessEvent.objects.filter(actor=user, action="view").exists()


# --- compliance ---------------------------------------------------------------------------

def test_compliance_lists_who_is_under_the_minimum_and_why(sched, week, clinician):
    response = clinician.get(f"{API}/compliance", {"week": sched.next_monday.isoformat()})
    assert response.status_code == 200, response.content
    rows = {r["participant"]: r for r in response.json()["results"]}
    need = minimum_minutes(sched.program.weekly_hour_minimum)
    jamie, sam = rows[str(sched.participant.code)], rows[str(sched.other.code)]
    assert (jamie["minutes"], jamie["minimum"], jamie["scheduled"]) == (0, need, 6 * 90)
    assert jamie["participant_name"] == "Jamie Rivera"
    assert sam["reason"].startswith("scheduled for only 1.5 h")
    assert "still to come" in jamie["reason"]
    assert str(sched.outsider_participant.code) not in rows
    bad = clinician.get(f"{API}/compliance", {"week": "2026-02-31"})
    assert bad.status_code == 422 and "week" in bad.json()["detail"]


# --- plans --------------------------------------------------------------------------------

def _plan(client, run_worker, body):
    """Start planning through the API (202 and the job), run the job, return the plan."""
    started = post(client, f"{API}/plans", body)
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["state"] == "queued" and started["Location"] == job["status_url"]
    assert job["plan"] is None and job["page_url"] == f"/schedule/plan/progress/{job['job']}/"
    run_worker()
    status = client.get(job["status_url"])
    assert status.status_code == 200, status.content
    done = status.json()
    assert done["state"] == "succeeded" and done["percent"] == 100, done
    assert done["plan_url"] == f"{API}/plans/{done['plan']}"
    return client.get(done["plan_url"]).json()


@pytest.fixture
def planned(sched, director, run_worker):
    _generate(sched)
    for d in range(5):
        Availability.objects.create(participant=sched.other, kind="work", weekday=d,
                                    start_time=time(9), end_time=time(19, 30))
    return _plan(director, run_worker, {"week_start": sched.next_monday.isoformat()})


def test_a_plan_is_made_with_its_diff_and_explanations_and_applied(sched, director, planned):
    assert planned["status"] == "proposed" and planned["week_start"] == sched.next_monday.isoformat()
    assert planned["counts"]["participants"] == 2
    diff = planned["diff"]
    assert diff["adds"] == len(diff["changes"]) > 0 and diff["removes"] == 0
    assert {c["participant"] for c in diff["changes"]} == {str(sched.participant.code),
                                                           str(sched.other.code)}
    sam = next(e for e in planned["explanations"] if e["participant"] == str(sched.other.code))
    assert sam["reason"].startswith("Work 9\u201319:30 Mon\u2013Fri leaves only")
    assert sam["planned_minutes"] < sam["minimum_minutes"] and sam["suggestion"]
    assert director.get(f"{API}/plans/{planned['code']}").json() == planned

    applied = post(director, f"{API}/plans/{planned['code']}/apply")
    assert applied.status_code == 200, applied.content
    assert applied.json()["status"] == "applied"
    assert applied.json()["counts"]["appointments_added"] == 2
    assert Booking.objects.filter(status="booked", participant=sched.participant,
                                  session__track=sched.track).count() == 6
    again = post(director, f"{API}/plans/{planned['code']}/apply")
    assert again.status_code == 409 and "latest proposed" in again.json()["detail"]


def test_applying_a_stale_plan_is_a_409_and_writes_nothing(sched, director, planned):
    session = Session.objects.filter(track=sched.track).first()
    Booking.objects.create(session=session, participant=sched.participant, pinned=True)
    response = post(director, f"{API}/plans/{planned['code']}/apply")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Nothing was applied.")
    assert "plan again" in response.json()["detail"]
    assert Booking.objects.count() == 1
    assert not Session.objects.filter(kind="individual").exists()
    assert PlanRun.objects.get(code=planned["code"]).status == "proposed"


@pytest.mark.parametrize("week_start", [
    "next-tuesday", "2026-02-30", "tuesday", "9999-12-27", None])
def test_a_plan_for_a_bad_week_is_a_422_naming_week_start(sched, director, week_start):
    if week_start == "next-tuesday":
        week_start = (sched.next_monday + timedelta(days=1)).isoformat()
    body = {} if week_start is None else {"week_start": week_start}
    response = post(director, f"{API}/plans", body)
    assert response.status_code == 422, response.content
    assert "week_start" in response.json()["detail"]
    assert not PlanRun.objects.exists()


def test_a_started_week_and_a_bad_seed_are_refused(sched, director):
    started = post(director, f"{API}/plans",
                   {"week_start": (sched.next_monday - timedelta(days=7)).isoformat()})
    assert started.status_code == 422
    assert "week_start: Only a week that has not started" in started.json()["detail"]
    seed = post(director, f"{API}/plans", {"week_start": sched.next_monday.isoformat(), "seed": -1})
    assert seed.status_code == 422 and "seed" in seed.json()["detail"]
    assert not PlanRun.objects.exists()


def test_plans_need_the_planning_permission_and_stay_in_the_organization(sched, clinician, planned):
    response = post(clinician, f"{API}/plans", {"week_start": sched.next_monday.isoformat()})
    assert response.status_code == 403
    assert clinician.get(f"{API}/plans/{planned['code']}").status_code == 403
    assert post(clinician, f"{API}/plans/{planned['code']}/apply").status_code == 403
    outsider = login(sched.outsider)
    assert outsider.get(f"{API}/plans/{planned['code']}").status_code == 404
    assert post(outsider, f"{API}/plans/{planned['code']}/apply").status_code == 404
    assert PlanRun.objects.get().status == "proposed"


def test_the_api_gives_the_planner_the_configured_time_limit(sched, director, settings):
    from openiop.jobs.models import Job

    settings.OPENIOP_API_PLAN_SECONDS = 3
    response = post(director, f"{API}/plans", {"week_start": sched.next_monday.isoformat()})
    assert response.status_code == 202
    assert Job.objects.get(code=response.json()["job"]).params["time_limit_seconds"] == 3.0


def test_planning_through_the_api_is_a_job_the_page_also_shows(sched, director, run_worker):
    from openiop.jobs.models import Job

    _generate(sched)
    started = post(director, f"{API}/plans", {"week_start": sched.next_monday.isoformat()})
    job = Job.objects.get(code=started.json()["job"])
    assert job.kind == "plan_week" and job.started_by == sched.director
    assert not PlanRun.objects.exists()  # nothing planned in the request
    assert AccessEvent.objects.filter(object_type="job", object_id=str(job.code)).exists()
    page = director.get(started.json()["page_url"])
    assert page.status_code == 200 and "Plan the week of" in page.content.decode()
    run_worker()
    assert PlanRun.objects.get().code.hex == director.get(
        started.json()["status_url"]).json()["plan"].replace("-", "")


def test_a_retried_plan_request_with_the_same_key_starts_one_job(sched, director):
    import uuid

    from openiop.jobs.models import Job

    key = str(uuid.uuid4())
    body = json.dumps({"week_start": sched.next_monday.isoformat()})
    first = director.post(f"{API}/plans", body, content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY=key)
    again = director.post(f"{API}/plans", body, content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 202
    assert again.status_code == 303 and again["Location"] == first.json()["status_url"]
    assert Job.objects.filter(kind="plan_week").count() == 1


def test_a_plan_job_status_needs_the_permission_and_the_organization(sched, director, clinician):
    started = post(director, f"{API}/plans", {"week_start": sched.next_monday.isoformat()})
    url = started.json()["status_url"]
    assert clinician.get(url).status_code == 403
    assert login(sched.outsider).get(url).status_code == 404
    assert director.get(f"{API}/plan-jobs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_failed_plan_job_says_why(sched, director, run_worker, monkeypatch):
    from openiop.core.exceptions import InvalidTransition
    from openiop.scheduling.services import plans

    def broken(**kwargs):
        raise InvalidTransition("The planner produced an invalid plan: a room is double-booked")

    started = post(director, f"{API}/plans", {"week_start": sched.next_monday.isoformat()})
    monkeypatch.setattr(plans, "plan_week", broken)
    run_worker()
    status = director.get(started.json()["status_url"]).json()
    assert status["state"] == "failed" and "double-booked" in status["error"]
    assert status["plan"] is None and status["plan_url"] is None


def test_a_plan_names_the_due_appointments_no_plan_can_book(sched, director, run_worker):
    from openiop.participants.models import Consent

    from .. import factories as f

    f.room(sched.site, name="Family room", capacity=6)
    Consent.objects.create(participant=sched.participant, kind=Consent.Kind.FAMILY_INVOLVEMENT,
                           purpose="family sessions")
    plan = _plan(director, run_worker, {"week_start": sched.next_monday.isoformat()})
    assert plan["counts"]["cadence_met"] is False and plan["counts"]["due_appointments"] == 3
    assert plan["cadence_gaps"] == [{
        "participant": str(sched.participant.code), "name": sched.participant.display_name,
        "kind": "family", "rule": "family session every 2 weeks (family involvement consented)",
        "reason": "no clinician holds LMFT",
        "suggestion": "Give a clinician with that credential hours at this site, or refer out.",
        "proven": True,
    }]
