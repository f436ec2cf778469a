"""Urgent safety tasks raised by screening flags (PHQ-9 item 9, C-SSRS).

Kept apart from `intake.services` so that `outcomes.services.measure_record` can open a task
without importing the referral workflow. The person who answered is shown the crisis line
(`CRISIS_LINE`, 988 in the US) by whichever page took the answers; this module tells the
care team.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.core.exceptions import InvalidTransition

from .instruments import ScoreResult
from .models import SafetyTask

# 988 Suicide & Crisis Lifeline (US): call or text 988. Shown whenever an answer signals risk.
CRISIS_LINE = {
    "number": "988",
    "text": "If you are thinking about suicide or are in crisis, call or text 988 (Suicide & "
    "Crisis Lifeline, free, 24/7) or call 911 if you are in immediate danger.",
}


def safety_task_open(
    *,
    organization: Any,
    result: ScoreResult,
    participant: Any = None,
    referral: Any = None,
    measure_response: Any = None,
    assigned_to: Any = None,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> SafetyTask | None:
    """Open an urgent task for the care team when `result` carries a safety flag.

    Returns None (and writes nothing) when no safety flag fired. The task's title names the
    instrument and rule, never the person's answers in detail (no clinical content in logs).
    """
    safety = [f for f in result.flags if f.safety]
    if not safety:
        return None
    imminent = result.imminent_risk
    from .instruments import INSTRUMENTS

    name = INSTRUMENTS[result.instrument].name
    task = SafetyTask(
        organization=organization, participant=participant, referral=referral,
        measure_response=measure_response, assigned_to=assigned_to,
        priority=SafetyTask.Priority.EMERGENT if imminent else SafetyTask.Priority.URGENT,
        title=f"Safety follow-up: {name} {result.band_label.lower()}"
        if result.instrument == "cssrs" else f"Safety follow-up: {name} item 9 above 0",
        detail=" ".join(f.message for f in safety),
    )
    with transaction.atomic():
        task.save()
        audit_record(actor=actor, action="create", object_type="safety_task",
                     object_id=task.code, participant=participant, organization=organization,
                     request=request)
    return task


def safety_task_resolve(
    *, actor: Any, task: SafetyTask, resolution: str, request: HttpRequest | None = None
) -> SafetyTask:
    """Close a task with what the clinician did. A resolved task cannot be resolved again."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    if not resolution.strip():
        raise ValidationError({"resolution": "Say what was done (for example: called, safety "
                               "plan reviewed, sent to emergency department)."})
    with transaction.atomic():
        updated = SafetyTask.objects.filter(pk=task.pk, status=SafetyTask.Status.OPEN).update(
            status=SafetyTask.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=actor,
            resolution=resolution.strip(),
        )
        if updated != 1:
            raise InvalidTransition("This safety task is already resolved.", field="status")
        audit_record(actor=actor, action="change", object_type="safety_task",
                     object_id=task.code, participant=task.participant,
                     organization=task.organization, request=request, reason="resolved")
    task.refresh_from_db()
    return task
