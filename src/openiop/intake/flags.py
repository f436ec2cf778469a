"""Chart header flags from intake: open safety tasks, linked to the most urgent one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from openiop.accounts.permissions import Perm
from openiop.core.chart import Flag

from .models import SafetyTask

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


def safety_flags(participant: Participant, episode: EpisodeOfCare | None) -> list[Flag]:
    open_tasks = list(SafetyTask.objects.filter(
        participant=participant, status=SafetyTask.Status.OPEN)
        .order_by("priority", "acknowledge_due_at", "created_at")
        .values_list("priority", "code"))
    if not open_tasks:
        return []
    emergent = any(p == SafetyTask.Priority.EMERGENT for p, _ in open_tasks)
    return [Flag(
        f"{len(open_tasks)} open safety task{'s' if len(open_tasks) > 1 else ''}",
        "danger",
        "Emergent: act within the hour." if emergent else "Follow up today.",
        url=reverse("dashboard:safety_task", kwargs={"task": open_tasks[0][1]}),
        url_perm=Perm.CLINICAL_WRITE,
    )]
