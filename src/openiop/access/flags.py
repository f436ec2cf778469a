"""The chart's header shows every emergency-access grant in force: who, until when, why."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from openiop.core.chart import Flag


def break_glass_flags(participant: Any, episode: Any) -> list[Flag]:
    from .models import BreakGlassGrant

    grants = (BreakGlassGrant.objects.active(timezone.now()).filter(participant=participant)
              .select_related("actor").order_by("expires_at", "pk"))
    return [Flag(f"Emergency access: {g.actor.get_full_name() or g.actor.username} until "
                 f"{timezone.localtime(g.expires_at):%H:%M}", "danger",
                 f"Reason: {g.reason}") for g in grants]
