"""Safety tasks: routing to a person who can open them, deadlines, acknowledge, resolve."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.core.exceptions import InvalidTransition, NotPermitted
from openiop.intake.measures import measure_record
from openiop.intake.models import SafetyTask
from openiop.intake.safety import (
    safety_task_acknowledge,
    safety_task_open,
    safety_task_resolve,
)
from openiop.intake.safety_policy import acknowledge_deadline, response_hours
from openiop.notifications.models import Notification
from tests import factories as f
from tests.intake.safety_helpers import SAT_11AM, WED_8PM, WED_10AM, imminent, on_call, phq9_item9


def _open(world, result=None, therapist="default"):
    return safety_task_open(organization=world.org, result=result or phq9_item9(),
                            participant=world.participant, program=world.program,
                            assigned_to=world.clinician if therapist == "default" else therapist)


# --- deadlines (program policy defaults; see intake/safety_policy.py) ----------------------

def test_emergent_must_be_acknowledged_within_15_minutes_while_the_program_is_open(world):
    assert acknowledge_deadline(world.program, "emergent", WED_10AM) == WED_10AM + timedelta(
        minutes=15)


def test_emergent_raised_after_hours_is_due_15_minutes_after_the_next_opening(world):
    # Wednesday 8 p.m. -> Thursday 9:00 New York (14:00 UTC) + 15 minutes.
    assert acknowledge_deadline(world.program, "emergent", WED_8PM) == datetime(
        2026, 3, 5, 14, 15, tzinfo=UTC)
    # Saturday -> Monday 9:15.
    assert acknowledge_deadline(world.program, "emergent", SAT_11AM) == datetime(
        2026, 3, 9, 13, 15, tzinfo=UTC)  # EDT from 8 March: 9:15 New York is 13:15 UTC


def test_urgent_is_due_by_the_close_of_the_program_day(world):
    assert acknowledge_deadline(world.program, "urgent", WED_10AM) == datetime(
        2026, 3, 4, 22, 0, tzinfo=UTC)  # 17:00 New York
    assert acknowledge_deadline(world.program, "urgent", WED_8PM) == datetime(
        2026, 3, 5, 22, 0, tzinfo=UTC)  # Thursday's close


def test_a_program_sets_its_own_hours_and_deadlines(world):
    world.program.settings = {"response_hours": {"weekdays": [0, 1, 2, 3, 4, 5, 6],
                                                 "start": "07:00", "end": "22:00"},
                              "safety_task_deadlines": {"emergent": {"acknowledge_minutes": 5}}}
    assert acknowledge_deadline(world.program, "emergent", WED_8PM) == WED_8PM + timedelta(
        minutes=5)
    assert response_hours(world.program).label() == "Monday to Sunday, 7:00 a.m. to 10:00 p.m."


def test_the_default_hours_read_plainly(world):
    assert response_hours(world.program).label() == "Monday to Friday, 9:00 a.m. to 5:00 p.m."


# --- routing ------------------------------------------------------------------------------

@time_machine.travel(WED_10AM, tick=False)
def test_a_task_goes_to_the_primary_therapist_with_its_deadline_and_a_notification(world):
    task = _open(world, imminent())
    assert task.assigned_to == world.clinician and task.program == world.program
    assert task.priority == "emergent"
    assert task.acknowledge_due_at == WED_10AM + timedelta(minutes=15)
    note = Notification.objects.get(user=world.clinician)
    assert note.text == "A task for a participant of Adult IOP needs you — open OpenIOP"
    assert note.url == f"/dashboard/safety-tasks/{task.code}/"


@time_machine.travel(WED_8PM, tick=False)
def test_without_a_primary_therapist_the_on_call_clinician_of_that_hour_gets_it(world):
    nurse = f.staff(world.org, Role.NURSE, username="nightnurse")
    day_person = f.staff(world.org, Role.CLINICIAN, username="dayperson")
    on_call(world, day_person, weekday=2, start=time(9), end=time(17))
    on_call(world, nurse, weekday=2, start=time(17), end=time(0))  # Wed 5 p.m. to midnight
    task = _open(world, therapist=None)
    assert task.assigned_to == nurse
    assert Notification.objects.filter(user=nurse).count() == 1


@time_machine.travel(WED_10AM, tick=False)
def test_a_therapist_whose_role_cannot_open_tasks_is_never_the_only_assignee(world):
    intake = f.staff(world.org, Role.INTAKE, username="intaker")
    covering = f.staff(world.org, Role.CLINICIAN, username="covering")
    on_call(world, covering, weekday=2)
    task = _open(world, therapist=intake)
    assert task.assigned_to == covering
    assert not Notification.objects.filter(user=intake).exists()


@time_machine.travel(WED_10AM, tick=False)
def test_with_nobody_to_assign_the_directors_are_told(world):
    task = _open(world, therapist=None)
    assert task.assigned_to is None
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["boss"]


@time_machine.travel(WED_10AM, tick=False)
def test_a_portal_phq9_with_item_9_goes_to_the_episodes_therapist(world):
    response = measure_record(actor=world.clinician, participant=world.participant,
                              instrument="phq9", answers=[0] * 8 + [2])
    task = SafetyTask.objects.get(measure_response=response)
    assert (task.assigned_to, task.program, task.priority) == (
        world.clinician, world.program, "urgent")


# --- acknowledge and resolve ---------------------------------------------------------------

@time_machine.travel(WED_10AM, tick=False)
def test_acknowledging_records_who_and_when_once_and_is_audited(world):
    task = _open(world)
    done = safety_task_acknowledge(actor=world.colleague, task=task)
    assert (done.acknowledged_by, done.acknowledged_at) == (world.colleague, WED_10AM)
    assert AccessEvent.objects.filter(object_type="safety_task", object_id=str(task.code),
                                      reason="acknowledged", actor=world.colleague).exists()
    with pytest.raises(InvalidTransition):
        safety_task_acknowledge(actor=world.clinician, task=task)


def test_a_role_that_cannot_hold_a_task_cannot_acknowledge_or_resolve_it(world):
    task = _open(world)
    intake = f.staff(world.org, Role.INTAKE, username="intaker")
    with pytest.raises(NotPermitted):
        safety_task_acknowledge(actor=intake, task=task)
    with pytest.raises(NotPermitted):
        safety_task_resolve(actor=world.outsider, task=task, outcome="contacted",
                            resolution="Called.")
    task.refresh_from_db()
    assert task.acknowledged_at is None and task.status == "open"


def test_resolving_needs_a_structured_outcome_and_a_note_naming_the_field(world):
    task = _open(world)
    with pytest.raises(ValidationError) as no_outcome:
        safety_task_resolve(actor=world.clinician, task=task, outcome="", resolution="Called.")
    assert "outcome" in no_outcome.value.message_dict
    with pytest.raises(ValidationError) as no_note:
        safety_task_resolve(actor=world.clinician, task=task, outcome="contacted",
                            resolution="   ")
    assert "resolution" in no_note.value.message_dict
    task.refresh_from_db()
    assert task.status == "open" and task.outcome == ""


@time_machine.travel(WED_10AM, tick=False)
def test_resolving_stores_the_outcome_and_note_acknowledges_and_audits(world):
    task = _open(world)
    done = safety_task_resolve(actor=world.clinician, task=task, outcome="emergency_services",
                               resolution="Mobile crisis team sent; family present.")
    assert (done.status, done.outcome, done.resolved_by) == (
        "resolved", "emergency_services", world.clinician)
    assert done.acknowledged_by == world.clinician and done.acknowledged_at == WED_10AM
    assert AccessEvent.objects.filter(object_type="safety_task", object_id=str(task.code),
                                      reason="resolved: emergency_services").exists()
    with pytest.raises(InvalidTransition):
        safety_task_resolve(actor=world.clinician, task=task, outcome="contacted",
                            resolution="Again.")


@time_machine.travel(WED_10AM, tick=False)
def test_a_task_from_intake_screening_goes_to_the_referral_programs_on_call(world):
    from openiop.intake.services import (
        referral_create,
        referral_record_screen,
        referral_start_screening,
    )

    intake = f.staff(world.org, Role.INTAKE, username="intaker")
    on_call(world, world.colleague, weekday=2)
    referral = referral_create(source="self", name="Robin Q Example", phone="614-555-0100",
                               organization=world.org, program=world.program,
                               reason="Wants help", actor=intake,
                               date_of_birth=date(1990, 1, 2))
    referral_start_screening(actor=intake, referral=referral)
    referral_record_screen(actor=intake, referral=referral, instrument="phq9",
                           answers=[0] * 8 + [1])
    task = SafetyTask.objects.get()
    assert (task.referral, task.program, task.assigned_to) == (
        referral, world.program, world.colleague)
    assert Notification.objects.filter(user=world.colleague, url__contains=str(task.code)).exists()
