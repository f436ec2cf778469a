"""What the scheduling services share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from openiop.access.decisions import require_organization

from ..models import Booking, Session

# A write on another organization's rows is refused by the one access decision.
same_org = require_organization


def book_open_seats(participant: Any, track: Any, start: datetime) -> int:
    """Book the participant into every scheduled session of the track from `start` that
    still has a seat (a cancelled booking is booked again); return how many. Joining a
    track and a track move accepted with a plan both do this."""
    booked = 0
    for s in (Session.objects.filter(track=track, starts_at__gte=start,
                                     status=Session.Status.SCHEDULED)
              .annotate(n=Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED)))
              .order_by("starts_at", "pk")):
        if s.n >= s.capacity:
            continue
        b, created = Booking.objects.get_or_create(session=s, participant=participant)
        if not created and b.status != Booking.Status.BOOKED:
            b.status = Booking.Status.BOOKED
            b.save(update_fields=["status"])
        booked += 1
    return booked
