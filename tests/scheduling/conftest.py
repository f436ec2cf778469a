"""Small scheduling worlds built from factories (no demo)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from openiop.scheduling.models import SessionTemplate

from .. import factories as f


@pytest.fixture
def sched(world):
    """The shared world plus a group room, an office, templates for the evening track and a
    second participant."""
    w = world
    group_room = f.room(w.site, name="Group A", capacity=12)
    office = f.room(w.site, name="Office 1", capacity=3)
    w.track.room = group_room
    w.track.save()
    for day in w.track.weekdays:
        SessionTemplate.objects.create(program=w.program, track=w.track, kind="group",
                                       title="Process group", weekday=day, start_time=time(18),
                                       end_time=time(19, 30), duration_minutes=90, room=group_room,
                                       facilitator=w.colleague, capacity=10)
        SessionTemplate.objects.create(program=w.program, track=w.track, kind="psychoeducation",
                                       title="Psychoeducation", weekday=day, start_time=time(19, 30),
                                       end_time=time(21), duration_minutes=90, room=group_room,
                                       facilitator=w.colleague, capacity=10)
    SessionTemplate.objects.create(program=w.program, kind="individual", title="Individual therapy",
                                   duration_minutes=50, required_credentials=["LCSW", "LPC"])
    w.group_room, w.office = group_room, office
    other = f.participant(w.org, legal_first_name="Sam", legal_last_name="Quill")
    ep = f.episode(other, w.program, therapist=w.clinician)
    f.enrollment(ep, w.track)
    w.other, w.other_episode = other, ep
    today = timezone.localdate()
    w.next_monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return w
