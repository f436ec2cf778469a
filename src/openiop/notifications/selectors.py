"""Reads: a user's notifications, and who is on call for a program at a moment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from .models import Notification, OnCallShift

if TYPE_CHECKING:
    from openiop.accounts.models import User


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def rota_for(program: Any) -> QuerySet[OnCallShift]:
    return (OnCallShift.objects.filter(program=program).select_related("user")
            .order_by("weekday", "start_time"))


def on_call_for(program: Any, at: datetime) -> Any | None:
    """The active clinician on call for the program at `at` (the organization's local time),
    or None. When blocks overlap, the one that started latest wins."""
    if program is None:
        return None
    tz = program.organization.zone
    local = at.astimezone(tz)
    shifts = [s for s in OnCallShift.objects.filter(program=program, weekday=local.weekday(),
                                                    user__is_active=True).select_related("user")
              if s.covers(local.time())]
    if not shifts:
        return None
    return max(shifts, key=lambda s: s.start_time).user
