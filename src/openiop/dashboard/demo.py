"""Demo data for My work: on-call rotas, deadlines on the demo's safety tasks, one task
escalated past its deadline, a few notifications. Deterministic, relative to `ctx.today`."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.demo.generator import DemoContext
from openiop.intake.models import Referral, SafetyTask, SafetyTaskEscalation
from openiop.intake.safety import route_assignee
from openiop.intake.safety_policy import acknowledge_deadline
from openiop.notifications.models import ContactPreference, Notification, OnCallShift
from openiop.notifications.services import task_message


def build(ctx: DemoContext) -> None:
    _rotas(ctx)
    _task_deadlines(ctx)
    _new_contacts(ctx)
    ContactPreference.objects.create(user=ctx.staff["clinician"], sms_number="+16145550100")


def _new_contacts(ctx: DemoContext) -> None:
    """A contact request from the program finder and a self-check submission that came in
    this morning, waiting for intake's first call."""
    program = sorted(ctx.programs.values(), key=lambda p: p.name)[0]
    morning = ctx.at(ctx.today, time(8, 20))
    Referral.objects.bulk_create([
        Referral(organization=ctx.organization, program=program, source="finder",
                 name="Dana Whitfield", phone="614-555-0142", reason="Asked to be called back "
                 "about evening groups.", received_at=morning, status=Referral.Status.NEW),
        Referral(organization=ctx.organization, program=program, source="self_check",
                 name="Lee Okafor", email="lee.okafor@example.org", reason="Self-check: "
                 "moderate depression and anxiety; asked to be contacted.",
                 received_at=morning - timedelta(hours=20), status=Referral.Status.NEW),
    ])


def _rotas(ctx: DemoContext) -> None:
    """Evenings and nights on weekdays, whole weekend days: the licensed therapists take
    turns (clinician, lmft, counselor) so every hour of the week has someone on call."""
    people = [ctx.staff[u] for u in ("clinician", "lmft", "counselor")]
    rows = []
    for n, program in enumerate(sorted(ctx.programs.values(), key=lambda p: p.name)):
        for day in range(7):
            who = people[(day + n) % len(people)]
            if day < 5:
                rows += [OnCallShift(program=program, weekday=day, start_time=time(0),
                                     end_time=time(9), user=who),
                         OnCallShift(program=program, weekday=day, start_time=time(9),
                                     end_time=time(17), user=people[(day + n + 1) % 3]),
                         OnCallShift(program=program, weekday=day, start_time=time(17),
                                     end_time=time(0), user=who)]
            else:
                rows.append(OnCallShift(program=program, weekday=day, start_time=time(0),
                                        end_time=time(0), user=who))
    OnCallShift.objects.bulk_create(rows)
    ctx.progress(f"{len(rows)} on-call blocks in {len(ctx.programs)} program rotas")


def _task_deadlines(ctx: DemoContext) -> None:
    """Give the open tasks their program and deadline (as if raised in the last days),
    acknowledge about half, and let the oldest unacknowledged one escalate."""
    tasks = list(SafetyTask.objects.filter(organization=ctx.organization,
                                           status=SafetyTask.Status.OPEN)
                 .select_related("measure_response__episode__program__organization",
                                 "referral__program__organization", "assigned_to")
                 .order_by("pk"))
    for n, task in enumerate(tasks):
        episode = getattr(task.measure_response, "episode", None)
        task.program = (episode.program if episode else None) or getattr(task.referral, "program",
                                                                         None)
        raised = ctx.at(ctx.today - timedelta(days=n % 3), time(10 + n % 6, 15))
        task.created_at = raised
        task.acknowledge_due_at = acknowledge_deadline(task.program, task.priority, raised)
        if task.assigned_to is None:  # raised before the rota existed: the on-call person
            task.assigned_to = route_assignee(organization_id=ctx.organization.pk,
                                              program=task.program, primary_therapist=None,
                                              at=raised)
        if n % 2 == 1 and task.assigned_to is not None:
            task.acknowledged_at, task.acknowledged_by = raised + timedelta(minutes=40), task.assigned_to
    SafetyTask.objects.bulk_update(tasks, ["program", "created_at", "acknowledge_due_at",
                                           "acknowledged_at", "acknowledged_by", "assigned_to"])
    # The clinician's own open tasks (the demo's "clinician" login): one emergent, unacknowledged.
    mine = [t for t in tasks if t.assigned_to_id == ctx.staff["clinician"].pk]
    if mine:
        first = mine[0]
        SafetyTask.objects.filter(pk=first.pk).update(
            priority="emergent", acknowledged_at=None, acknowledged_by=None,
            acknowledge_due_at=acknowledge_deadline(first.program, "emergent", first.created_at))
    _escalated(ctx, [t for t in tasks if t.acknowledged_at is None and t not in mine[:1]])
    _notifications(ctx, tasks)
    ctx.progress(f"{len(tasks)} open safety tasks with deadlines")


def _escalated(ctx: DemoContext, unacknowledged: list[Any]) -> None:
    if not unacknowledged:
        return
    task = unacknowledged[0]
    director = ctx.staff["director"]
    at = task.acknowledge_due_at
    SafetyTask.objects.filter(pk=task.pk).update(escalation_level=3,
                                                 acknowledge_due_at=at + timedelta(hours=1))
    SafetyTaskEscalation.objects.create(task=task, step=3, recipient=director, escalated_at=at)
    audit_record(actor=None, action=Action.CHANGE, object_type=ObjectType.SAFETY_TASK, object_id=task.code,
                 participant=task.participant, organization=ctx.organization,
                 reason=f"escalated to program director (user {director.pk})")


def _notifications(ctx: DemoContext, tasks: list[Any]) -> None:
    rows = []
    for task in tasks[:6]:
        for user in {task.assigned_to, ctx.staff["director"]} - {None}:
            rows.append(Notification(user=user, text=task_message(task.program),
                                     url=f"/dashboard/safety-tasks/{task.code}/",
                                     created_at=task.created_at))
    Notification.objects.bulk_create(rows)
