"""Step-up, step-down, authorized level and discharge; illegal transitions change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.care.models import Discharge, LevelOfCareChange
from openiop.care.services import (
    episode_admit,
    episode_change_level,
    episode_discharge,
    episode_set_authorized_level,
    episode_step_down,
    episode_step_up,
)
from openiop.core.exceptions import InvalidTransition
from tests import factories as f


def _today():
    return timezone.localdate()


def test_step_down_records_the_change_and_moves_the_level(world):
    change = episode_step_down(
        actor=world.clinician, episode=world.episode, to_level="OP",
        effective_on=_today(), reason="PHQ-9 in remission; attending work again",
        criteria_met=["PHQ-9 below 10 for 2 weeks", "Safety plan in place", " "])
    world.episode.refresh_from_db()
    assert world.episode.level_of_care == "OP"
    assert (change.from_level, change.to_level, change.direction) == ("IOP", "OP", "down")
    assert change.criteria_met == ["PHQ-9 below 10 for 2 weeks", "Safety plan in place"]


def test_step_up_moves_to_a_new_track_seat(world):
    php = f.program(world.org, world.site, name="PHP", level_of_care="PHP")
    php_track = f.track(php, name="Day", kind="daytime", start_time=timezone.datetime(2020, 1, 1, 9).time(),
                        end_time=timezone.datetime(2020, 1, 1, 15).time())
    change = episode_step_up(actor=world.clinician, episode=world.episode, to_level="PHP",
                             effective_on=_today(), reason="Worsening despite IOP",
                             to_track=php_track)
    assert change.direction == "up" and change.to_track == php_track
    active = world.episode.enrollments.get(status="active")
    assert active.track == php_track
    assert world.episode.enrollments.get(status="ended").track == world.track


def test_stepping_to_the_same_level_is_refused(world):
    with pytest.raises(InvalidTransition) as exc:
        episode_change_level(actor=world.clinician, episode=world.episode, to_level="IOP",
                             effective_on=_today(), reason="x")
    assert "already at" in exc.value.message
    assert not LevelOfCareChange.objects.exists()


def test_a_step_down_to_a_higher_level_is_refused(world):
    with pytest.raises(InvalidTransition) as exc:
        episode_step_down(actor=world.clinician, episode=world.episode, to_level="PHP",
                          effective_on=_today(), reason="x")
    assert "step-down goes to a lower level" in exc.value.message
    with pytest.raises(InvalidTransition):
        episode_step_up(actor=world.clinician, episode=world.episode, to_level="OP",
                        effective_on=_today(), reason="x")
    world.episode.refresh_from_db()
    assert world.episode.level_of_care == "IOP"


def test_a_change_needs_a_reason_and_a_date_after_admission(world):
    with pytest.raises(ValidationError) as exc:
        episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                          effective_on=world.episode.admitted_on - timedelta(days=1), reason="")
    assert {"reason", "effective_on"} <= set(exc.value.message_dict)


def test_a_change_cannot_predate_the_last_one(world):
    episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                      effective_on=_today(), reason="better")
    with pytest.raises(ValidationError) as exc:
        episode_step_up(actor=world.clinician, episode=world.episode, to_level="IOP",
                        effective_on=_today() - timedelta(days=2), reason="worse")
    assert "effective_on" in exc.value.message_dict


def test_authorized_level_is_kept_apart_and_flagged_on_mismatch(world, as_clinician):
    episode_set_authorized_level(actor=world.clinician, episode=world.episode, level="OP")
    world.episode.refresh_from_db()
    assert (world.episode.level_of_care, world.episode.authorized_level_of_care) == ("IOP", "OP")
    assert world.episode.level_mismatch
    page = as_clinician.get(f"/programs/participants/{world.participant.code}/")
    assert b"Authorized OP differs from clinical IOP" in page.content


def _discharge(world, **kw):
    defaults = {"actor": world.clinician, "episode": world.episode, "discharged_on": _today(),
                "reason": "completed", "summary": "Met treatment goals.",
                "next_provider": "Dr. Outpatient, Main St Counseling",
                "aftercare_appointments": "Therapy Tue 4 pm", "supports": "SMART Recovery"}
    return episode_discharge(**(defaults | kw))


def test_discharge_records_aftercare_and_ends_the_seat(world):
    discharge = _discharge(world)
    world.episode.refresh_from_db()
    assert world.episode.status == "finished" and world.episode.discharged_on == _today()
    assert world.episode.enrollments.get().status == "ended"
    assert discharge.next_provider.startswith("Dr. Outpatient")


def test_discharging_a_discharged_episode_is_refused(world):
    _discharge(world)
    world.episode.refresh_from_db()
    with pytest.raises(InvalidTransition) as exc:
        _discharge(world)
    assert "already closed" in exc.value.message
    assert Discharge.objects.count() == 1


def test_a_discharged_episode_cannot_change_level(world):
    _discharge(world)
    world.episode.refresh_from_db()
    with pytest.raises(InvalidTransition):
        episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                          effective_on=_today(), reason="x")


def test_a_planned_discharge_needs_a_summary_and_next_provider(world):
    with pytest.raises(ValidationError) as exc:
        _discharge(world, summary="", next_provider="")
    assert {"summary", "next_provider"} <= set(exc.value.message_dict)
    left = _discharge(world, reason="against_advice", next_provider="")
    assert left.reason == "against_advice"


def test_discharge_dates_must_make_sense(world):
    with pytest.raises(ValidationError) as exc:
        _discharge(world, discharged_on=world.episode.admitted_on - timedelta(days=1))
    assert "discharged_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _discharge(world, discharged_on=_today() + timedelta(days=1))


def test_readmission_opens_a_new_episode(world):
    _discharge(world)
    again = episode_admit(actor=world.clinician, participant=world.participant,
                          program=world.program, track=world.track,
                          admission_exception="Readmitted after a relapse; assessed on arrival.")
    assert again.pk != world.episode.pk and again.status == "active"
    assert world.participant.episodes.count() == 2
