"""Track moves: a person whose track has no seat for them may be seated in an acceptable
other track of their program; the plan proposes the move, the director accepts or declines."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.audit.models import AccessEvent
from openiop.care.models import Enrollment
from openiop.participants.models import Availability
from openiop.scheduling import services
from openiop.scheduling.models import Booking, Session, SessionTemplate

from .. import factories as f
from ..conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(sched):
    """The evening track has one seat per session; Sam works days (evening only), Jamie can
    attend anything. A morning track of the same program has room for both."""
    w = sched
    SessionTemplate.objects.filter(track=w.track).update(capacity=1)
    morning = f.track(w.program, name="Morning", kind="morning", start_time=time(9),
                      end_time=time(12))
    for day in morning.weekdays:
        SessionTemplate.objects.create(program=w.program, track=morning, kind="group",
                                       title="Morning process group", weekday=day,
                                       start_time=time(9), end_time=time(10, 30),
                                       duration_minutes=90, room=w.group_room, capacity=10)
        SessionTemplate.objects.create(program=w.program, track=morning, kind="psychoeducation",
                                       title="Morning psychoeducation", weekday=day,
                                       start_time=time(10, 30), end_time=time(12),
                                       duration_minutes=90, room=w.group_room, capacity=10)
    for d in range(5):
        Availability.objects.create(participant=w.other, kind="work", weekday=d,
                                    start_time=time(8), end_time=time(17))
    services.sessions_generate(actor=w.director, program=w.program, start=w.next_monday,
                               end=w.next_monday + timedelta(days=6))
    w.morning = morning
    w.jamie_enrollment = Enrollment.objects.get(episode=w.episode)
    return w


def _plan(w):
    return services.plan_week(actor=w.director, organization=w.org, week_start=w.next_monday,
                              time_limit_seconds=5)


def _allow_morning(w):
    services.membership_set_alternatives(actor=w.director, enrollment=w.jamie_enrollment,
                                         tracks=[w.morning])


def _booked(person, track):
    return Booking.objects.filter(participant=person, session__track=track, status="booked")


def test_a_person_with_an_acceptable_track_is_moved_when_theirs_is_full(full):
    _allow_morning(full)
    run = _plan(full)
    (move,) = run.proposal.track_moves
    assert (move.name, move.from_track, move.to_track) == (
        full.participant.display_name, "Evening", "Morning")
    assert move.reason == "no seat in the Evening track: 6 of the 6 sessions they can attend are full"
    assert move.sessions == 6
    # Both reach the minimum: Sam takes the evening seats, Jamie the morning track.
    assert run.proposal.metrics.share_meeting_minimum == 1.0


def test_without_an_acceptable_track_nobody_is_moved(full):
    run = _plan(full)
    assert run.proposal.track_moves == []
    assert run.proposal.metrics.share_meeting_minimum == 0.5
    services.plan_apply(actor=full.director, run=run)
    assert not Booking.objects.filter(session__track=full.morning).exists()


def test_a_declined_move_books_nothing_in_the_other_track(full):
    _allow_morning(full)
    run = _plan(full)
    counts = services.plan_apply(actor=full.director, run=run, accepted_moves=[])
    assert counts["track_moves"] == 0
    assert counts["track_moves_declined"] == 1
    assert counts["declined_sessions_dropped"] == 6
    assert counts["declined_rebooked"] == 0  # Sam holds every evening seat
    assert not _booked(full.participant, full.morning).exists()
    enr = Enrollment.objects.get(episode=full.episode)
    assert (enr.track, enr.status) == (full.track, Enrollment.Status.ACTIVE)
    # Their appointment stands as planned.
    assert Booking.objects.filter(participant=full.participant, session__kind="individual",
                                  status="booked").count() == 1
    assert not AccessEvent.objects.filter(object_type="enrollment",
                                          reason__contains="track move accepted").exists()


def test_a_declined_move_gets_the_seats_left_in_their_own_track(full):
    """When the person's own track has seats left after the plan, a declined move seats
    them there instead (never in a track they are not enrolled in)."""
    _allow_morning(full)
    run = _plan(full)
    # A seat is freed in each evening session after the plan was made.
    Session.objects.filter(track=full.track).update(capacity=2)
    counts = services.plan_apply(actor=full.director, run=run)
    assert counts["declined_rebooked"] == 6
    assert _booked(full.participant, full.track).count() == 6
    assert not _booked(full.participant, full.morning).exists()


def test_an_accepted_move_changes_the_enrollment_and_is_audited(full):
    _allow_morning(full)
    run = _plan(full)
    (move,) = run.proposal.track_moves
    counts = services.plan_apply(actor=full.director, run=run, accepted_moves=[move.participant])
    assert counts["track_moves"] == 1 and counts["track_moves_declined"] == 0
    old = Enrollment.objects.get(pk=full.jamie_enrollment.pk)
    assert old.status == Enrollment.Status.ENDED
    assert old.end_date == full.next_monday - timedelta(days=1)
    new = Enrollment.objects.get(episode=full.episode, status=Enrollment.Status.ACTIVE)
    assert (new.track, new.start_date) == (full.morning, full.next_monday)
    assert list(new.acceptable_tracks.all()) == [full.track]
    assert _booked(full.participant, full.morning).count() == 6
    assert not _booked(full.participant, full.track).exists()
    events = AccessEvent.objects.filter(object_type="enrollment", reason__contains="track move accepted")
    assert {e.object_id for e in events} == {str(old.code), str(new.code)}


def test_only_moves_of_the_plan_can_be_accepted(full):
    run = _plan(full)
    with pytest.raises(ValidationError):
        services.plan_apply(actor=full.director, run=run, accepted_moves=[str(full.participant.pk)])
    assert not Booking.objects.exists()


def test_acceptable_tracks_are_other_active_tracks_of_the_program(full):
    other_program = f.program(full.org, full.site, name="Teen IOP", population="adolescent")
    teen = f.track(other_program, name="After school")
    for wrong in (teen, full.track):
        with pytest.raises(ValidationError):
            services.membership_set_alternatives(actor=full.director,
                                                 enrollment=full.jamie_enrollment, tracks=[wrong])
    assert not full.jamie_enrollment.acceptable_tracks.exists()
    _allow_morning(full)
    assert AccessEvent.objects.filter(object_type="enrollment", object_id=str(full.jamie_enrollment.code),
                                      reason="acceptable other tracks: Morning").exists()


def test_the_schedule_tab_saves_the_acceptable_tracks(full):
    client = login(full.director)
    page = client.get(f"/schedule/participants/{full.participant.code}/").content.decode()
    assert "<legend>Other tracks they can attend</legend>" in page
    response = client.post(f"/schedule/participants/{full.participant.code}/track/alternatives/",
                           {"tracks": [full.morning.pk]}, follow=True)
    assert "Other tracks they can attend: Morning." in response.content.decode()
    assert list(full.jamie_enrollment.acceptable_tracks.all()) == [full.morning]


def test_the_plan_page_lists_track_moves_and_applies_the_accepted_ones(full):
    _allow_morning(full)
    run = _plan(full)
    (move,) = run.proposal.track_moves
    client = login(full.director)
    page = client.get(f"/schedule/plan/{run.code}/").content.decode()
    assert '<h2 id="track-moves">Track moves</h2>' in page
    assert full.participant.display_name in page.split('id="track-moves"')[1].split("</section>")[0]
    assert (f'<input type="checkbox" form="apply-plan" name="accept_move" '
            f'value="{move.participant}" id="move-{move.participant}" checked>') in page
    assert "No seat in the Evening track" in page
    response = client.post(f"/schedule/plan/{run.code}/apply/", {"accept_move": [move.participant]},
                           follow=True)
    assert "1 track move approved: enrollment changed." in response.content.decode()
    assert Enrollment.objects.get(episode=full.episode, status="active").track == full.morning


def test_the_api_lists_track_moves_and_its_apply_declines_them(full):
    import json

    _allow_morning(full)
    run = _plan(full)
    client = login(full.director)
    plan = client.get(f"/api/scheduling/plans/{run.code}").json()
    assert plan["track_moves"] == [{
        "participant": str(full.participant.code), "name": full.participant.display_name,
        "from_track": "Evening", "to_track": "Morning",
        "reason": "no seat in the Evening track: 6 of the 6 sessions they can attend are full",
        "sessions": 6}]
    applied = client.post(f"/api/scheduling/plans/{run.code}/apply", json.dumps({}),
                          content_type="application/json").json()
    assert applied["counts"]["track_moves_declined"] == 1
    assert not _booked(full.participant, full.morning).exists()
