"""Admission: care team, track seat, population check, one open episode, waitlist."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.care.models import Enrollment, EpisodeOfCare
from openiop.care.services import TrackFull, episode_admit, waitlist_admit
from openiop.core.exceptions import InvalidTransition, NotPermitted
from openiop.intake.models import Referral
from openiop.intake.services import referral_create
from tests import factories as f


def _admit(world, person, **kw):
    # A licensed clinician admitting directly, with the documented reason that an admission
    # without a screening and a decided assessment needs (tests/care/test_decisions.py).
    defaults = {"actor": world.clinician, "participant": person, "program": world.program,
                "track": world.track, "primary_therapist": world.clinician,
                "admission_exception": "Hospital step-down the same day; assessment on day one."}
    return episode_admit(**(defaults | kw))


def test_it_creates_the_episode_enrollment_and_care_team(world):
    person = f.participant(world.org)
    prescriber = f.staff(world.org, Role.PRESCRIBER)
    ep = _admit(world, person, prescriber=prescriber, case_manager=world.colleague,
                authorized_level_of_care="IOP")
    assert ep.status == "active" and ep.level_of_care == "IOP"
    assert ep.care_team_ids() == {world.clinician.pk, prescriber.pk, world.colleague.pk}
    enrollment = ep.enrollments.get()
    assert enrollment.track == world.track and enrollment.status == "active"


def test_admission_closes_the_referral_and_time_to_admission_is_measurable(world):
    person = f.participant(world.org)
    referral = referral_create(actor=world.director, source="hospital", name="A B",
                               phone="6145550100", reason="Step-down", organization=world.org)
    Referral.objects.filter(pk=referral.pk).update(
        received_at=timezone.now() - timedelta(days=4), participant=person)
    referral.refresh_from_db()
    ep = _admit(world, person, referral=referral)
    referral.refresh_from_db()
    assert referral.status == "admitted" and referral.episode == ep
    assert referral.days_to_admission == 4


def test_an_adult_cannot_be_admitted_to_the_adolescent_program(world):
    teen_program = f.program(world.org, world.site, name="Teen IOP", population="adolescent")
    teen_track = f.track(teen_program)
    adult = f.participant(world.org, date_of_birth=date(1990, 1, 1))
    with pytest.raises(InvalidTransition) as exc:
        _admit(world, adult, program=teen_program, track=teen_track)
    assert "admits adolescents" in exc.value.message
    assert not EpisodeOfCare.objects.filter(participant=adult).exists()


def test_a_teen_cannot_be_admitted_to_the_adult_program(world):
    today = timezone.localdate()
    teen = f.participant(world.org, date_of_birth=date(today.year - 15, 1, 1))  # 14 or 15
    with pytest.raises(InvalidTransition):
        _admit(world, teen)


def test_one_open_episode_per_program(world):
    with pytest.raises(InvalidTransition) as exc:
        _admit(world, world.participant)
    assert "already has an open episode" in exc.value.message
    assert world.participant.episodes.count() == 1


def test_the_track_must_belong_to_the_program(world):
    other = f.program(world.org, world.site, name="Other")
    with pytest.raises(ValidationError) as exc:
        _admit(world, f.participant(world.org), program=other)
    assert "track" in exc.value.message_dict


def test_care_team_members_must_be_staff_of_the_organization(world):
    with pytest.raises(ValidationError) as exc:
        _admit(world, f.participant(world.org), primary_therapist=world.outsider)
    assert "primary_therapist" in exc.value.message_dict


def test_clinicians_without_admit_permission_and_outsiders_are_refused(world):
    front = f.staff(world.org, Role.FRONT_DESK)
    with pytest.raises(NotPermitted):
        _admit(world, f.participant(world.org), actor=front)
    with pytest.raises(NotPermitted):
        _admit(world, f.participant(world.org), actor=world.outsider)


def test_a_full_track_refuses_and_offers_its_waitlist(world):
    world.track.capacity = 2
    world.track.save()
    _admit(world, f.participant(world.org))  # world.participant holds the first seat
    late = f.participant(world.org)
    with pytest.raises(TrackFull) as exc:
        _admit(world, late)
    assert "is full (2 of 2" in exc.value.message and "waitlist" in exc.value.message
    assert not EpisodeOfCare.objects.filter(participant=late).exists()
    waiting = _admit(world, late, waitlist=True)
    assert waiting.status == "waitlist"
    assert waiting.enrollments.get().status == "waitlisted"
    # A seat opens: the waitlisted episode takes it.
    Enrollment.objects.filter(episode=world.episode).update(status="ended")
    waitlist_admit(actor=world.clinician, episode=waiting)
    waiting.refresh_from_db()
    assert waiting.status == "active" and waiting.enrollments.get().status == "active"


def test_waitlist_admit_refuses_when_no_seat_opened(world):
    world.track.capacity = 1
    world.track.save()
    waiting = _admit(world, f.participant(world.org), waitlist=True)
    with pytest.raises(TrackFull):
        waitlist_admit(actor=world.clinician, episode=waiting)
    with pytest.raises(InvalidTransition):
        waitlist_admit(actor=world.clinician, episode=world.episode)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_admissions_for_the_last_seat_give_one_seat(world):
    """PostgreSQL: both requests race; the Track row lock lets exactly one through."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) need PostgreSQL")
    world.track.capacity = 2  # world.participant holds one seat; one left
    world.track.save()
    people = [f.participant(world.org), f.participant(world.org)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(person):
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            _admit(world, person)
            outcomes.append("admitted")
        except TrackFull:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["admitted", "full"]
    assert world.track.enrollments.filter(status="active").count() == 2
