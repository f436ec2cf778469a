"""Day-before session reminders (a periodic job), sent through the notifications app.

Who gets one: the participant, through their portal account; and for a family session, a
family member whose family-access consent shares the family schedule (what the family
portal shows them: the same `openiop.access` decision, taken at the job's time). They
arrive as in-app notifications, and by e-mail and text message as each person's contact
preferences say (notifications.services.deliver): a phone number on
the participant's record is not consent to automated texts (47 U.S.C. 227(b)(1)(A)), so
people without an account get no reminder.

What a reminder says: only that there is a session tomorrow, its time and its site. No
session title, kind, track or program name: "Substance use group" or a program named for
its population would disclose that the person is in treatment for a substance use disorder,
which 42 CFR 2.12(a)(1) and 2.13(c) protect, and anything beyond the time and place is more than a
reminder needs (HIPAA minimum necessary, 45 CFR 164.502(b)); e-mail and texts are not
secure and may be read by others on a shared phone.

When: between REMIND_FROM and REMIND_UNTIL in the organization's time zone, the day before;
the job runs every 15 minutes, so bookings made during the day are reminded too. Each
(booking, person) is a `SessionReminder` row: created before anything is sent, in the same
transaction, under a unique key, so a second run or a second worker sends nothing again.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.access.decisions import family_members_allowed
from openiop.accounts.models import User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.notifications.services import notify
from openiop.organizations.models import Organization

from ..models import Booking, Session, SessionReminder

# A reminder goes out during the day before the session, never at night: the hours follow
# the calling-time limits of 47 CFR 64.1200(c)(1) (8 a.m. to 9 p.m. at the called party's
# location), which bind telemarketing; we keep them for reminders as a courtesy.
REMIND_FROM = time(9, 0)
REMIND_UNTIL = time(20, 0)
# The family-access consent scope that shares the family-session schedule
# (participants.consents.FAMILY_SCOPES).
FAMILY_SCHEDULE_SCOPE = "family_schedule"


def reminder_text(session: Session, zone: Any) -> str:
    """The whole message: when and where, nothing about what (see the module's note)."""
    local = session.starts_at.astimezone(zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return (f"You have a session tomorrow at {hour} at {session.site.name}. "
            "Reply STOP to stop text messages.")


def _family_recipients(bookings: list[Booking], now: datetime) -> dict[int, list[User]]:
    """participant id -> the family members the access decision lets see the family
    schedule at `now` (`access.decisions.family_members_allowed`, the family portal's own
    decision: the consent in force and its scope, the family role, the policy table), for
    the family sessions among `bookings`. One query for all of them."""
    pids = {b.participant_id for b in bookings if b.session.kind == "family"}
    return family_members_allowed(pids, FAMILY_SCHEDULE_SCOPE, now=now)


def _due_bookings(org: Organization, now: datetime) -> list[Booking]:
    local = now.astimezone(org.zone)
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=org.zone)
    end = datetime.combine(tomorrow + timedelta(days=1), time(0), tzinfo=org.zone)
    return list(Booking.objects.filter(
        status=Booking.Status.BOOKED, session__program__organization=org,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gte=start, session__starts_at__lt=end,
    ).select_related("session__site", "participant__user").order_by("session__starts_at", "pk"))


def session_reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder due now that was not sent before; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for org in Organization.objects.order_by("pk"):
        local_time = now.astimezone(org.zone).time()
        if not REMIND_FROM <= local_time < REMIND_UNTIL:
            continue
        bookings = _due_bookings(org, now)
        if not bookings:
            continue
        done = set(SessionReminder.objects.filter(booking__in=bookings)
                   .values_list("booking_id", "user_id"))
        family = _family_recipients(bookings, now)
        for booking in bookings:
            own = booking.participant.user
            people: list[tuple[User, bool]] = []
            if own is not None and own.is_active:
                people.append((own, False))
            if booking.session.kind == "family":
                people += [(u, True) for u in family.get(booking.participant_id, [])]
            for user, is_family in people:
                if (booking.pk, user.pk) in done:
                    continue
                if _send_once(booking, user, is_family, org, now):
                    sent += 1
    return sent


def _send_once(booking: Booking, user: User, is_family: bool, org: Organization,
               now: datetime) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                SessionReminder.objects.create(booking=booking, user=user, sent_at=now)
        except IntegrityError:  # sent by another run or worker meanwhile
            return False
        if is_family:
            # Telling a family member of a session is a disclosure under their consent.
            audit_record(actor=None, action=Action.DISCLOSE, object_type=ObjectType.SESSION_REMINDER,
                         object_id=booking.code, participant=booking.participant,
                         organization=org, recipient=f"family member (user {user.pk})",
                         purpose="family-access consent: family schedule",
                         reason="day-before session reminder")
        else:
            audit_record(actor=None, action=Action.CREATE, object_type=ObjectType.SESSION_REMINDER,
                         object_id=booking.code, participant=booking.participant,
                         organization=org, reason=f"day-before reminder to user {user.pk}")
        notify(users=[user], text=reminder_text(booking.session, org.zone), now=now)
    return True
