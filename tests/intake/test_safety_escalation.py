"""Escalation of unacknowledged safety tasks: supervisor, on-call, director; once per step."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils.module_loading import import_string

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.intake import tasks as intake_tasks
from openiop.intake.models import SafetyTask, SafetyTaskEscalation
from openiop.intake.safety import safety_task_acknowledge, safety_task_open, safety_tasks_escalate
from openiop.notifications.models import Notification
from tests import factories as f
from tests.intake.safety_helpers import WED_10AM, imminent, on_call, supervised


def _task(world):
    return safety_task_open(organization=world.org, result=imminent(),
                            participant=world.participant, program=world.program,
                            assigned_to=world.clinician)


def _recipients(task):
    return [(e.step, e.recipient.username) for e in task.escalations.select_related("recipient")]


def test_an_unacknowledged_task_escalates_step_by_step_with_an_audit_event_each(world):
    senior = supervised(world)
    covering = f.staff(world.org, Role.NURSE, username="covering")
    on_call(world, covering, weekday=2)  # all Wednesday
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)  # due 10:15
    with time_machine.travel(WED_10AM + timedelta(minutes=14), tick=False):
        assert safety_tasks_escalate(now=WED_10AM + timedelta(minutes=14)) == []
    at = WED_10AM + timedelta(minutes=15)
    made = safety_tasks_escalate(now=at)
    assert [(e.step, e.recipient) for e in made] == [(1, senior)]
    task.refresh_from_db()
    assert task.escalation_level == 1 and task.acknowledge_due_at == at + timedelta(minutes=15)
    assert Notification.objects.filter(user=senior).count() == 1
    # Then on-call, then the director, each at the next deadline.
    safety_tasks_escalate(now=at + timedelta(minutes=15))
    safety_tasks_escalate(now=at + timedelta(minutes=30))
    assert _recipients(task) == [(1, "senior"), (2, "covering"), (3, "boss")]
    reasons = list(AccessEvent.objects.filter(object_type="safety_task", object_id=str(task.code),
                                              reason__startswith="escalated")
                   .order_by("seq").values_list("reason", flat=True))
    assert [r.split(" (")[0] for r in reasons] == [
        "escalated to supervisor", "escalated to on-call clinician", "escalated to program director"]
    # Nobody left: later sweeps change nothing.
    assert safety_tasks_escalate(now=at + timedelta(hours=5)) == []
    assert SafetyTaskEscalation.objects.count() == 3


def test_running_twice_at_the_same_instant_escalates_once(world):
    supervised(world)
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)
    at = WED_10AM + timedelta(minutes=20)
    assert len(safety_tasks_escalate(now=at)) == 1
    assert safety_tasks_escalate(now=at) == []
    assert task.escalations.count() == 1
    assert AccessEvent.objects.filter(object_id=str(task.code),
                                      reason__startswith="escalated").count() == 1


def test_steps_without_a_person_are_skipped_not_repeated(world):
    # No supervisor and no on-call rota: the first escalation goes to the director.
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)
    made = safety_tasks_escalate(now=WED_10AM + timedelta(minutes=16))
    assert [(e.step, e.recipient.username) for e in made] == [(3, "boss")]
    task.refresh_from_db()
    assert task.escalation_level == 3


def test_an_acknowledged_or_resolved_task_does_not_escalate(world):
    supervised(world)
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)
        safety_task_acknowledge(actor=world.clinician, task=task)
    assert safety_tasks_escalate(now=WED_10AM + timedelta(hours=3)) == []
    SafetyTask.objects.filter(pk=task.pk).update(acknowledged_at=None, status="resolved")
    assert safety_tasks_escalate(now=WED_10AM + timedelta(hours=3)) == []


def test_the_command_and_the_background_task_run_the_sweep(world):
    supervised(world)
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)
    with time_machine.travel(WED_10AM + timedelta(minutes=20), tick=False):
        out = StringIO()
        call_command("escalate_safety_tasks", stdout=out)
        assert out.getvalue().strip() == "1 safety task escalation(s)."
    with time_machine.travel(WED_10AM + timedelta(minutes=40), tick=False):
        # Nobody is on call, so the next step is the director's.
        assert intake_tasks.escalate_safety_tasks.call() == 1
    task.refresh_from_db()
    assert task.escalation_level == 3
    assert _recipients(task) == [(1, "senior"), (3, "boss")]


def test_the_periodic_entry_names_the_escalation_task():
    ((name, every, path),) = intake_tasks.PERIODIC
    assert (name, every) == ("safety-escalation", timedelta(minutes=1))
    assert import_string(path) is intake_tasks.escalate_safety_tasks


def test_the_person_a_task_was_escalated_to_finds_it_in_their_list(world):
    from openiop.intake.selectors import safety_tasks_for

    senior = supervised(world)  # not on the participant's care team
    with time_machine.travel(WED_10AM, tick=False):
        task = _task(world)
    assert list(safety_tasks_for(user=senior)) == []
    safety_tasks_escalate(now=WED_10AM + timedelta(minutes=15))
    assert list(safety_tasks_for(user=senior)) == [task]
