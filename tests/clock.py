"""Clock helpers for tests that place a session a few hours in the past "this week"."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import time_machine
from django.utils import timezone


@contextlib.contextmanager
def past_hours_in_this_week(hours: int = 4) -> Iterator[datetime]:
    """Yield a moment from which `hours` back is still in the same local week (Monday
    start): now, or, in the first `hours` of a Monday, that Monday at `hours` o'clock (the
    clock moved there, ticking). A test that puts a session "3 hours ago" and expects it in
    this week's hours would otherwise fail every Monday just after midnight. Sign in inside
    the block: moving the clock can end a session started before it."""
    now = timezone.localtime()
    monday = now.date() - timedelta(days=now.weekday())
    start_of_week = timezone.make_aware(datetime.combine(monday, time(0)))
    if now - timedelta(hours=hours) >= start_of_week:
        yield now
        return
    moved = start_of_week + timedelta(hours=hours, minutes=5)
    with time_machine.travel(moved, tick=True):
        yield timezone.localtime()
