"""Safety tasks raised by screening flags (PHQ-9 item 9, C-SSRS): open, route, acknowledge,
resolve and escalate.

Kept apart from `intake.services` so that `intake.measures.measure_record` can open a task
without importing the referral workflow. The person who answered is shown the crisis line
(`CRISIS_LINE`, 988 in the US) by whichever page took the answers; this module tells the
care team.

Routing: the primary therapist, else the program's on-call clinician for that hour
(`notifications.OnCallShift`), never someone whose role cannot open the task; with neither,
the organization's directors are told. Deadlines: `intake.safety_policy`. Escalation of an
unacknowledged task past its deadline: supervisor, then on-call, then director, one step
per deadline, each step audited and stored once (`SafetyTaskEscalation`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import InvalidTransition, NotPermitted
from openiop.notifications.selectors import on_call_for
from openiop.notifications.services import notify, task_message

from .instruments import ScoreResult
from .models import SafetyTask, SafetyTaskEscalation
from .safety_policy import acknowledge_deadline, escalation_interval

if TYPE_CHECKING:
    from openiop.participants.models import Participant

# 988 Suicide & Crisis Lifeline (US): call or text 988. Shown whenever an answer signals risk.
CRISIS_LINE = {
    "number": "988",
    "text": "If you are thinking about suicide or are in crisis, call or text 988 (Suicide & "
    "Crisis Lifeline, free, 24/7) or call 911 if you are in immediate danger.",
}
NOTE_MAX_CHARS = 4_000


# --- who may hold a task ---------------------------------------------------------------

def can_hold_task(user: User | None, organization_id: int | None) -> bool:
    """Assignable = able to open, acknowledge and resolve: active clinical staff with write
    permission in the task's organization."""
    return (user is not None and user.is_active and has_perm(user, Perm.CLINICAL_WRITE)
            and getattr(user, "staff_organization_id", None) == organization_id)


def directors_of(organization_id: int) -> list[User]:
    return list(User.objects.filter(role=Role.DIRECTOR, is_active=True,
                                    staff_profile__organization_id=organization_id)
                .order_by("username"))


def route_assignee(*, organization_id: int, program: Any, primary_therapist: Any,
                   at: datetime) -> Any | None:
    """The primary therapist when they can hold the task, else the on-call clinician."""
    if can_hold_task(primary_therapist, organization_id):
        return primary_therapist
    on_call = on_call_for(program, at)
    return on_call if can_hold_task(on_call, organization_id) else None


def task_url(task: SafetyTask) -> str:
    return reverse("dashboard:safety_task", kwargs={"task": task.code})


# --- open ------------------------------------------------------------------------------

def safety_task_open(
    *,
    organization: Any,
    result: ScoreResult,
    participant: Participant | None = None,
    referral: Any = None,
    measure_response: Any = None,
    assigned_to: Any = None,
    program: Any = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> SafetyTask | None:
    """Open a task for the care team when `result` carries a safety flag.

    Returns None (and writes nothing) when no safety flag fired. `assigned_to` is the
    primary therapist when the caller knows one; the task goes to them when they can hold
    it, else to the program's on-call clinician. The task's title names the instrument and
    rule, never the person's answers in detail (no clinical content in logs). Side effects:
    the task, an audit event, a notification to the assignee (or to the directors when
    nobody can be assigned).
    """
    safety = [f for f in result.flags if f.safety]
    if not safety:
        return None
    from .instruments import INSTRUMENTS

    if program is None:
        episode = getattr(measure_response, "episode", None)
        program = getattr(episode, "program", None) or getattr(referral, "program", None)
    now = timezone.now()
    priority = SafetyTask.Priority.EMERGENT if result.imminent_risk else SafetyTask.Priority.URGENT
    assignee = route_assignee(organization_id=organization.pk, program=program,
                              primary_therapist=assigned_to, at=now)
    name = INSTRUMENTS[result.instrument].name
    task = SafetyTask(
        organization=organization, program=program, participant=participant,
        referral=referral, measure_response=measure_response, assigned_to=assignee,
        priority=priority,
        title=f"Safety follow-up: {name} {result.band_label.lower()}"
        if result.instrument == "cssrs" else f"Safety follow-up: {name} item 9 above 0",
        detail=" ".join(f.message for f in safety),
        acknowledge_due_at=acknowledge_deadline(program, priority, now),
    )
    with transaction.atomic():
        task.save()
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SAFETY_TASK,
                     object_id=task.code, participant=participant, organization=organization,
                     request=request,
                     reason="assigned" if assignee else "no assignee: directors told")
        notify(users=[assignee] if assignee else directors_of(organization.pk),
               text=task_message(program), url=task_url(task), now=now)
    return task


def safety_tasks_attach_referral(*, tasks: Any, referral: Any) -> None:
    """Tasks raised during intake screening (before any episode) belong to the referral's
    program: set it, and give an unassigned task to that program's on-call clinician (who
    is told)."""
    now = timezone.now()
    for task in tasks.filter(status=SafetyTask.Status.OPEN).select_related("program"):
        task.referral = referral
        task.program = task.program or referral.program
        fields = ["referral", "program"]
        if task.assigned_to_id is None:
            task.assigned_to = route_assignee(organization_id=task.organization_id,
                                              program=task.program, primary_therapist=None,
                                              at=now)
            fields.append("assigned_to")
        task.save(update_fields=fields)
        if task.assigned_to is not None and "assigned_to" in fields:
            notify(users=[task.assigned_to], text=task_message(task.program),
                   url=task_url(task), now=now)


# --- acknowledge and resolve ---------------------------------------------------------------

def _check_holder(actor: User, task: SafetyTask) -> None:
    if not can_hold_task(actor, task.organization_id):
        raise NotPermitted("Only clinical staff of the participant's organization can act on a "
                           "safety task.")


def safety_task_acknowledge(*, actor: User, task: SafetyTask,
                            request: HttpRequest | None = None) -> SafetyTask:
    """Record who saw the task and when; stops escalation. Once only."""
    _check_holder(actor, task)
    with transaction.atomic():
        updated = SafetyTask.objects.filter(
            pk=task.pk, status=SafetyTask.Status.OPEN, acknowledged_at__isnull=True,
        ).update(acknowledged_at=timezone.now(), acknowledged_by=actor)
        if updated != 1:
            raise InvalidTransition("This safety task is already acknowledged or resolved.",
                                    field="status")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SAFETY_TASK,
                     object_id=task.code, participant=task.participant,
                     organization=task.organization, request=request, reason="acknowledged")
    task.refresh_from_db()
    return task


def safety_task_resolve(
    *, actor: User, task: SafetyTask, resolution: str, outcome: str = "",
    request: HttpRequest | None = None,
) -> SafetyTask:
    """Close a task with the action taken (a structured outcome) and a note. Resolving also
    acknowledges a task nobody acknowledged yet. A resolved task cannot be resolved again."""
    _check_holder(actor, task)
    if outcome not in SafetyTask.Outcome.values:
        raise ValidationError({"outcome": "Choose what was done: "
                               + ", ".join(str(label) for label in SafetyTask.Outcome.labels)
                               + "."})
    note = resolution.strip()
    if not note:
        raise ValidationError({"resolution": "Write a note saying what was done (for example: "
                               "called, reviewed the safety plan, next contact tomorrow)."})
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError({"resolution": f"At most {NOTE_MAX_CHARS:,} characters."})
    now = timezone.now()
    with transaction.atomic():
        updated = SafetyTask.objects.filter(pk=task.pk, status=SafetyTask.Status.OPEN).update(
            status=SafetyTask.Status.RESOLVED, resolved_at=now, resolved_by=actor,
            outcome=outcome, resolution=note,
        )
        if updated != 1:
            raise InvalidTransition("This safety task is already resolved.", field="status")
        SafetyTask.objects.filter(pk=task.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=actor)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SAFETY_TASK,
                     object_id=task.code, participant=task.participant,
                     organization=task.organization, request=request,
                     reason=f"resolved: {outcome}")
    task.refresh_from_db()
    return task


# --- escalate --------------------------------------------------------------------------------

def _escalation_chain(task: SafetyTask, at: datetime) -> list[tuple[int, Any]]:
    """(step, person) for each step after the task's level that has a person who can hold
    it and was not already told (the assignee, earlier steps)."""
    told = {task.assigned_to_id, *task.escalations.values_list("recipient_id", flat=True)}
    supervisor = None
    profile = getattr(task.assigned_to, "staff_profile", None) if task.assigned_to else None
    if profile is not None and profile.supervisor is not None:
        supervisor = profile.supervisor.user
    directors = directors_of(task.organization_id)
    candidates = [
        (SafetyTaskEscalation.Step.SUPERVISOR, supervisor),
        (SafetyTaskEscalation.Step.ON_CALL, on_call_for(task.program, at)),
        (SafetyTaskEscalation.Step.DIRECTOR, directors[0] if directors else None),
    ]
    return [(int(step), person) for step, person in candidates
            if step > task.escalation_level and person is not None
            and person.pk not in told and can_hold_task(person, task.organization_id)]


def _escalate_one(task: SafetyTask, now: datetime) -> SafetyTaskEscalation | None:
    chain = _escalation_chain(task, now)
    due = SafetyTask.objects.filter(
        pk=task.pk, status=SafetyTask.Status.OPEN, acknowledged_at__isnull=True,
        escalation_level=task.escalation_level, acknowledge_due_at__lte=now)
    with transaction.atomic():
        if not chain:
            # Nobody left to tell: stop sweeping this task (it stays on every My work list).
            due.update(escalation_level=SafetyTaskEscalation.Step.DIRECTOR)
            return None
        step, person = chain[0]
        if due.update(escalation_level=step,
                      acknowledge_due_at=now + escalation_interval(task.program,
                                                                   task.priority)) != 1:
            return None  # acknowledged, resolved or escalated by someone else meanwhile
        try:
            with transaction.atomic():
                escalation = SafetyTaskEscalation.objects.create(
                    task=task, step=step, recipient=person, escalated_at=now)
        except IntegrityError:
            transaction.set_rollback(True)  # this step was stored by a concurrent sweep
            return None
        audit_record(actor=None, action=Action.CHANGE, object_type=ObjectType.SAFETY_TASK,
                     object_id=task.code, participant=task.participant,
                     organization=task.organization,
                     reason=f"escalated to {SafetyTaskEscalation.Step(step).label.lower()} "
                            f"(user {person.pk})")
        notify(users=[person], text=task_message(task.program), url=task_url(task), now=now)
    return escalation


def safety_tasks_escalate(*, now: datetime) -> list[SafetyTaskEscalation]:
    """Escalate every open, unacknowledged task past its deadline by one step.

    Idempotent: each step moves the deadline forward and is a unique row, so running twice
    at the same instant escalates once. Returns the escalations made.
    """
    due = (SafetyTask.objects.filter(
        status=SafetyTask.Status.OPEN, acknowledged_at__isnull=True,
        acknowledge_due_at__lte=now, escalation_level__lt=SafetyTaskEscalation.Step.DIRECTOR)
        .select_related("program__organization", "organization", "participant",
                        "assigned_to__staff_profile__supervisor__user")
        .order_by("acknowledge_due_at", "pk"))
    made = []
    for task in due:
        escalation = _escalate_one(task, now)
        if escalation is not None:
            made.append(escalation)
    return made
