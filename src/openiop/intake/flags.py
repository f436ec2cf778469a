"""Chart header flags from intake: open safety tasks."""

from __future__ import annotations

from typing import Any

from openiop.core.chart import Flag

from .models import SafetyTask


def safety_flags(participant: Any, episode: Any) -> list[Flag]:
    open_tasks = list(SafetyTask.objects.filter(
        participant=participant, status=SafetyTask.Status.OPEN).values_list("priority", flat=True))
    if not open_tasks:
        return []
    emergent = "emergent" in open_tasks
    return [Flag(
        f"{len(open_tasks)} open safety task{'s' if len(open_tasks) > 1 else ''}",
        "danger",
        "Emergent: act within the hour." if emergent else "Follow up today.",
    )]
