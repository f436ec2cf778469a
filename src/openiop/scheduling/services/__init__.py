"""The verbs of scheduling: generate, plan, apply, cancel, take attendance, share calendars.

Every function checks permission and input first, then writes in one transaction with
an audit event (DEVELOPING.md, write path).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import Enrollment, EpisodeOfCare, Program, Track
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted

from ..locks import attendance_lock_reason
from ..models import (
    Attendance,
    AttendanceChange,
    Booking,
    CalendarFeed,
    Notification,
    Session,
    SessionTemplate,
    SiteClosure,
)
from .common import book_open_seats, same_org
from .plans import (
    APPOINTMENT_TITLES,
    plan_apply,
    plan_week,
    plan_week_start,
)
from .setup import (
    closure_add,
    closure_remove,
    closures_add_holidays,
    credentials_parse,
    minutes_between,
    staff_hours_add,
    staff_hours_remove,
    staff_max_hours_set,
    template_deactivate,
    template_save,
    template_set_active,
)

if TYPE_CHECKING:
    from openiop.participants.models import Participant

DEFAULT_LATE_MINUTES = 15


# --- sessions -----------------------------------------------------------------------------

def sessions_generate(*, actor: User, program: Program, start: date, end: date,
                      request: HttpRequest | None = None) -> int:
    """Dated sessions from the program's fixed templates for [start, end], skipping site
    closures and holidays and sessions that already exist. Returns how many were made."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, program.organization_id)
    if end < start:
        raise ValidationError({"end": "The end date must be on or after the start date."})
    if (end - start).days > 92:
        raise ValidationError({"end": "Generate at most 13 weeks at a time."})
    tz = program.organization.zone
    templates = list(SessionTemplate.objects.filter(program=program, is_active=True,
                                                    weekday__isnull=False)
                     .select_related("track", "room"))
    closures = SiteClosure.objects.filter(organization_id=program.organization_id,
                                          date__gte=start, date__lte=end)
    closed_all = {c.date for c in closures if c.site_id is None}
    closed_site = {(c.site_id, c.date) for c in closures if c.site_id is not None}
    existing = set(Session.objects.filter(template__in=templates, starts_at__date__gte=start - timedelta(days=1),
                                          starts_at__date__lte=end + timedelta(days=1))
                   .values_list("template_id", "starts_at"))
    new = []
    day = start
    while day <= end:
        site_id = program.site_id
        if day not in closed_all and (site_id, day) not in closed_site:
            for t in templates:
                if t.weekday != day.weekday() or (t.track and not t.track.is_active) or \
                        t.start_time is None or t.end_time is None:
                    continue
                starts = datetime.combine(day, t.start_time, tzinfo=tz)
                ends = datetime.combine(day, t.end_time, tzinfo=tz)
                if (t.pk, starts) in existing:
                    continue
                new.append(Session(program=program, track=t.track, kind=t.kind, title=t.title,
                                   starts_at=starts, ends_at=ends, site_id=site_id, room=t.room,
                                   facilitator=t.facilitator, counts_toward_hours=t.counts_toward_hours,
                                   capacity=t.capacity, template=t))
        day += timedelta(days=1)
    with transaction.atomic():
        Session.objects.bulk_create(new, batch_size=1000)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SESSIONS, object_id=program.code,
                     organization=program.organization, request=request,
                     reason=f"{len(new)} sessions {start}..{end}")
    return len(new)


def session_cancel(*, actor: User, session: Session, reason: str,
                   request: HttpRequest | None = None) -> list[Notification]:
    """Cancel a session; each booked participant gets an in-app notice with alternatives."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, session.program.organization_id)
    if session.status == Session.Status.CANCELLED:
        raise InvalidTransition("This session is already cancelled.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled (staff see it)."})
    if Attendance.objects.filter(booking__session=session).exists():
        raise InvalidTransition("Attendance was taken for this session; it cannot be cancelled.")
    alternatives = list(
        Session.objects.filter(program=session.program, kind=session.kind,
                               status=Session.Status.SCHEDULED,
                               starts_at__gt=max(timezone.now(), session.starts_at - timedelta(days=1)),
                               starts_at__lt=session.starts_at + timedelta(days=8))
        .exclude(pk=session.pk)
        .annotate(n=Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED)))
        .order_by("starts_at")
    )
    alternatives = [s for s in alternatives if s.n < s.capacity][:3]
    notices = []
    with transaction.atomic():
        session.status = Session.Status.CANCELLED
        session.cancel_reason = reason.strip()[:200]
        session.save(update_fields=["status", "cancel_reason"])
        booked = list(session.bookings.filter(status=Booking.Status.BOOKED).select_related("participant"))
        local = timezone.localtime(session.starts_at, _tz(session))
        for b in booked:
            n = Notification.objects.create(
                participant=b.participant, kind=Notification.Kind.CANCELLED, session=session,
                message=f"{session.get_kind_display()} on {local:%a %b %-d at %-I:%M %p} is cancelled."
                + (" Other times you could join are listed." if alternatives else ""),
            )
            n.alternatives.set(alternatives)
            notices.append(n)
        session.bookings.filter(status=Booking.Status.BOOKED).update(status=Booking.Status.CANCELLED)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SESSION, object_id=session.code,
                     organization=session.program.organization, request=request,
                     reason=f"cancelled; {len(booked)} notified")
    return notices


def _tz(session: Session) -> Any:
    return session.program.organization.zone


# --- attendance ---------------------------------------------------------------------------

def attendance_record(*, actor: User, booking: Booking, status: str, minutes: int | None = None,
                      note: str = "", version: int | None = None, reason: str = "",
                      request: HttpRequest | None = None) -> Attendance:
    """Record or correct one person's attendance.

    Minutes default to the session length (present) or 0 (absent, excused); late arrival
    and early leave default to 15 minutes less. Minutes longer than the session are
    refused. A correction keeps the old values in AttendanceChange and the audit trail.
    Refused once a registered lock (e.g. the signed note, see scheduling.locks) holds.
    """
    require_perm(actor, Perm.ATTENDANCE_RECORD)
    session = booking.session
    same_org(actor, session.program.organization_id)
    if status not in Attendance.Status.values:
        raise ValidationError({"status": f"Choose one of: {', '.join(Attendance.Status.values)}."})
    if session.status == Session.Status.CANCELLED:
        raise InvalidTransition("The session was cancelled; there is no attendance to take.")
    if booking.status != Booking.Status.BOOKED:
        raise InvalidTransition("This booking was cancelled.")
    tz = _tz(session)
    if timezone.localtime(session.starts_at, tz).date() > timezone.localtime(timezone.now(), tz).date():
        raise ValidationError({"status": "Attendance can be taken from the day of the session."})
    locked = attendance_lock_reason(session)
    if locked:
        raise InvalidTransition(f"Attendance is locked: {locked}")
    length = session.duration_minutes
    if minutes is None:
        minutes = {"present": length, "late": max(length - DEFAULT_LATE_MINUTES, 0),
                   "left_early": max(length - DEFAULT_LATE_MINUTES, 0)}.get(status, 0)
    if minutes < 0:
        raise ValidationError({"minutes_attended": "Minutes attended cannot be negative."})
    if minutes > length:
        raise ValidationError({"minutes_attended": f"Minutes attended ({minutes}) cannot be longer "
                                                   f"than the session ({length} min)."})
    if status in (Attendance.Status.ABSENT, Attendance.Status.EXCUSED) and minutes:
        raise ValidationError({"minutes_attended": "Absent or excused means 0 minutes attended."})
    if status in (Attendance.Status.LATE, Attendance.Status.LEFT_EARLY) and minutes >= length:
        raise ValidationError({"minutes_attended": "Late or left early: enter the minutes actually "
                                                   f"attended (less than {length})."})
    with transaction.atomic():
        existing = Attendance.objects.select_for_update().filter(booking=booking).first()
        if existing is None:
            att = Attendance.objects.create(booking=booking, status=status, minutes_attended=minutes,
                                            recorded_by=actor, note=note[:200])
            audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ATTENDANCE, object_id=att.pk,
                         participant=booking.participant, request=request)
            return att
        if version is not None and existing.version != version:
            raise Conflict("Someone else changed this attendance; reload and try again.")
        if existing.status == status and existing.minutes_attended == minutes and existing.note == note[:200]:
            return existing
        AttendanceChange.objects.create(attendance=existing, changed_by=actor,
                                        old_status=existing.status, old_minutes=existing.minutes_attended,
                                        new_status=status, new_minutes=minutes, reason=reason[:200])
        updated = Attendance.objects.filter(pk=existing.pk, version=existing.version).update(
            status=status, minutes_attended=minutes, note=note[:200], recorded_by=actor,
            version=existing.version + 1, recorded_at=timezone.now())
        if not updated:
            raise Conflict("Someone else changed this attendance; reload and try again.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ATTENDANCE, object_id=existing.pk,
                     participant=booking.participant, request=request,
                     reason=reason[:200] or "attendance corrected")
        existing.refresh_from_db()
        return existing


def attendance_all_present(*, actor: User, session: Session,
                           request: HttpRequest | None = None) -> int:
    """Mark everyone booked and not yet recorded as present for the full session."""
    bookings = list(session.bookings.filter(status=Booking.Status.BOOKED, attendance__isnull=True)
                    .select_related("participant", "session__program__organization"))
    with transaction.atomic():
        for b in bookings:
            attendance_record(actor=actor, booking=b, status=Attendance.Status.PRESENT,
                              request=request)
    return len(bookings)


def makeup_offer(*, actor: User, booking: Booking, session: Session,
                 request: HttpRequest | None = None) -> Notification:
    """Offer a make-up session for a missed one: book it and tell the participant."""
    require_perm(actor, Perm.ATTENDANCE_RECORD)
    same_org(actor, session.program.organization_id)
    participant = booking.participant
    if session.program.organization_id != participant.organization_id:
        raise NotPermitted("That session belongs to another organization.")
    if session.status != Session.Status.SCHEDULED or session.starts_at <= timezone.now():
        raise InvalidTransition("Offer an upcoming, scheduled session.")
    if session.bookings.filter(status=Booking.Status.BOOKED).count() >= session.capacity:
        raise ValidationError({"session": "That session is full."})
    with transaction.atomic():
        b, _ = Booking.objects.get_or_create(session=session, participant=participant,
                                             defaults={"pinned": True})
        if b.status != Booking.Status.BOOKED:
            b.status, b.pinned = Booking.Status.BOOKED, True
            b.save(update_fields=["status", "pinned"])
        local = timezone.localtime(session.starts_at, _tz(session))
        n = Notification.objects.create(
            participant=participant, kind=Notification.Kind.MAKEUP, session=session,
            message=f"Make-up: {session.get_kind_display()} on {local:%a %b %-d at %-I:%M %p}.")
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.BOOKING, object_id=b.code,
                     participant=participant, request=request, reason="make-up offered")
    return n


def booking_set_pinned(*, actor: User, booking: Booking, pinned: bool,
                       request: HttpRequest | None = None) -> Booking:
    """Pin (keep on re-planning) or unpin a booking."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, booking.session.program.organization_id)
    with transaction.atomic():
        booking.pinned = pinned
        booking.save(update_fields=["pinned"])
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.BOOKING, object_id=booking.code,
                     participant=booking.participant, request=request,
                     reason="pinned" if pinned else "unpinned")
    return booking


# --- membership ---------------------------------------------------------------------------

def membership_leave(*, actor: User, enrollment: Enrollment, end_date: date,
                     request: HttpRequest | None = None) -> int:
    """End a track membership; cancels only bookings of that track's sessions after
    end_date that have not happened. Past sessions, attendance and notes stay as they are.
    Returns the number of bookings cancelled."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    program = enrollment.track.program
    same_org(actor, program.organization_id)
    if end_date < enrollment.start_date:
        raise ValidationError({"end_date": "The end date cannot be before the membership started."})
    tz = program.organization.zone
    cutoff = max(datetime.combine(end_date + timedelta(days=1), datetime.min.time(), tzinfo=tz),
                 timezone.now())
    participant = enrollment.episode.participant
    with transaction.atomic():
        enrollment.end_date = end_date
        enrollment.status = Enrollment.Status.ENDED
        enrollment.save(update_fields=["end_date", "status"])
        n = (Booking.objects.filter(participant=participant, session__track=enrollment.track,
                                    session__starts_at__gte=cutoff, status=Booking.Status.BOOKED,
                                    attendance__isnull=True)
             .update(status=Booking.Status.CANCELLED))
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ENROLLMENT, object_id=enrollment.code,
                     participant=participant, request=request, reason=f"left track; {n} future bookings cancelled")
    return n


def membership_join(*, actor: User, episode: EpisodeOfCare, track: Track, start_date: date,
                    request: HttpRequest | None = None) -> tuple[Enrollment, int]:
    """Join a track from start_date: books the track's upcoming sessions that have a seat.
    Returns the enrollment and the number of bookings made."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, episode.program.organization_id)
    if track.program_id != episode.program_id:
        raise ValidationError({"track": "Pick a track of the participant's program."})
    if not episode.is_open:
        raise InvalidTransition("The episode of care is closed.")
    tz = track.program.organization.zone
    start = max(datetime.combine(start_date, datetime.min.time(), tzinfo=tz), timezone.now())
    participant = episode.participant
    with transaction.atomic():
        enr = Enrollment.objects.create(episode=episode, track=track, start_date=start_date)
        made = book_open_seats(participant, track, start)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ENROLLMENT, object_id=enr.code,
                     participant=participant, request=request, reason=f"joined track; {made} bookings")
    return enr, made


def zoneinfo_of(program: Program) -> Any:
    return program.organization.zone


def membership_move(*, actor: User, enrollment: Enrollment, track: Track | None, start_date: date,
                    request: HttpRequest | None = None) -> tuple[Enrollment | None, int, int]:
    """Move a participant from their track to another of the program from start_date (or
    only leave it when track is None), in one transaction.

    The old membership ends the day before; its bookings from start_date on that have no
    attendance are cancelled (membership_leave); the new track's upcoming sessions with a
    seat are booked (membership_join). Returns (new enrollment, cancelled, booked).
    """
    require_perm(actor, Perm.SCHEDULE_PLAN)
    episode = enrollment.episode
    same_org(actor, episode.program.organization_id)
    today = timezone.localtime(timezone.now(), zoneinfo_of(episode.program)).date()
    if start_date < today:
        raise ValidationError({"start_date": "The move date cannot be in the past; past sessions and "
                                             "attendance stay as they are."})
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise InvalidTransition("That track membership has already ended.")
    if track is not None and track.pk == enrollment.track_id:
        raise ValidationError({"track": f"Already in the {track.name} track; pick another one."})
    if track is not None and (track.program_id != episode.program_id or not track.is_active):
        raise ValidationError({"track": "Pick an active track of the participant's program."})
    end_date = max(start_date - timedelta(days=1), enrollment.start_date)
    with transaction.atomic():
        cancelled = membership_leave(actor=actor, enrollment=enrollment, end_date=end_date,
                                     request=request)
        if track is None:
            return None, cancelled, 0
        new, booked = membership_join(actor=actor, episode=episode, track=track,
                                      start_date=start_date, request=request)
    return new, cancelled, booked


def membership_set_alternatives(*, actor: User, enrollment: Enrollment, tracks: Iterable[Track],
                                request: HttpRequest | None = None) -> list[Track]:
    """Set the other tracks this person can attend (the planner may propose a move to one
    when their own track has no seat). Only active tracks of the enrollment's program, which
    share its level of care and age group; never the enrolled track itself."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    program = enrollment.track.program
    same_org(actor, program.organization_id)
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise InvalidTransition("That track membership has ended.")
    chosen = sorted(set(tracks), key=lambda t: (t.start_time, t.pk))
    wrong = [t for t in chosen
             if t.program_id != program.pk or not t.is_active or t.pk == enrollment.track_id]
    if wrong:
        raise ValidationError({"tracks": "Pick only other active tracks of the participant's "
                                         f"program ({', '.join(t.name for t in wrong)} is not one)."})
    with transaction.atomic():
        enrollment.acceptable_tracks.set(chosen)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ENROLLMENT,
                     object_id=enrollment.code, participant=enrollment.episode.participant,
                     request=request, reason="acceptable other tracks: "
                     + (", ".join(t.name for t in chosen) or "none"))
    return chosen


# --- calendars ----------------------------------------------------------------------------

def feed_create(*, actor: User, participant: Participant | None = None, user: User | None = None,
                request: HttpRequest | None = None) -> CalendarFeed:
    """A new secret calendar URL (the old ones stay until revoked)."""
    if participant is not None:
        require_perm(actor, Perm.SCHEDULE_VIEW)
        same_org(actor, participant.organization_id)
    elif user is None or user.pk != actor.pk:
        raise NotPermitted("Staff create calendar links only for themselves.")
    with transaction.atomic():
        feed = CalendarFeed.objects.create(token=secrets.token_urlsafe(32), participant=participant,
                                           user=user, created_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CALENDAR_FEED, object_id=feed.pk,
                     participant=participant, organization=None if participant else
                     getattr(actor.staff_profile, "organization", None), request=request)
    return feed


def feed_revoke(*, actor: User, feed: CalendarFeed, request: HttpRequest | None = None) -> None:
    if feed.participant is not None:
        require_perm(actor, Perm.SCHEDULE_VIEW)
        same_org(actor, feed.participant.organization_id)
    elif feed.user_id != actor.pk:
        raise NotPermitted("Only the owner can revoke this link.")
    if feed.revoked_at:
        return
    with transaction.atomic():
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CALENDAR_FEED, object_id=feed.pk,
                     participant=feed.participant, request=request, reason="revoked")


__all__ = [
    "APPOINTMENT_TITLES",
    "attendance_all_present",
    "attendance_record",
    "booking_set_pinned",
    "closure_add",
    "closure_remove",
    "closures_add_holidays",
    "credentials_parse",
    "feed_create",
    "feed_revoke",
    "makeup_offer",
    "membership_join",
    "membership_leave",
    "membership_move",
    "membership_set_alternatives",
    "minutes_between",
    "plan_apply",
    "plan_week",
    "plan_week_start",
    "same_org",
    "session_cancel",
    "sessions_generate",
    "staff_hours_add",
    "staff_hours_remove",
    "staff_max_hours_set",
    "template_deactivate",
    "template_save",
    "template_set_active",
    "zoneinfo_of",
]
