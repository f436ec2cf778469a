"""Grow a test clinic by n participants at once, to prove a page's query count does not
depend on the size of the clinic (the same count at two sizes)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from openiop.care.models import Enrollment, EpisodeOfCare
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance, Booking, Session

_numbers = itertools.count(1)


def add_participants(world: Any, n: int, *, sessions: list[Session] = (),
                     status: str = "absent") -> list[Participant]:
    """n participants of world.org, each in an active episode of world.program (admitted
    30 days ago, world.clinician their therapist), enrolled in world.track, booked into
    every session of `sessions` with attendance `status`."""
    first = next(_numbers)
    for _ in range(n - 1):
        next(_numbers)
    Participant.objects.bulk_create([
        Participant(organization=world.org, mrn=f"S{first + i:06d}", legal_first_name="Sam",
                    legal_last_name=f"Scale{first + i:06d}", date_of_birth=date(1988, 3, 9))
        for i in range(n)])
    people = list(Participant.objects.filter(
        organization=world.org, mrn__in=[f"S{first + i:06d}" for i in range(n)]).order_by("mrn"))
    admitted = timezone.localdate() - timedelta(days=30)
    EpisodeOfCare.objects.bulk_create([
        EpisodeOfCare(participant=p, program=world.program, status="active", level_of_care="IOP",
                      admitted_on=admitted, primary_therapist=world.clinician) for p in people])
    episodes = list(EpisodeOfCare.objects.filter(participant__in=people).order_by("pk"))
    Enrollment.objects.bulk_create([
        Enrollment(episode=ep, track=world.track, start_date=admitted) for ep in episodes])
    Booking.objects.bulk_create([Booking(session=s, participant=p)
                                 for s in sessions for p in people])
    bookings = Booking.objects.filter(participant__in=people, session__in=list(sessions))
    Attendance.objects.bulk_create([
        Attendance(booking=b, status=status,
                   minutes_attended=0 if status in ("absent", "excused") else 60)
        for b in bookings])
    return people
