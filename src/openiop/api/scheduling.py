"""Scheduling API: week sessions, rosters and attendance, hours, compliance (weekly plans are
in scheduling_plans).

Permissions mirror the scheduling pages: schedule.view to read, attendance.record to take
attendance, schedule.plan to plan, apply, pin and cancel. Everything is scoped to the
user's organization (404 across organizations). Reads of one participant's hours or
sessions go through get_participant_for_user, so they are audited.

Weeks are Mondays (`YYYY-MM-DD`); another day is a 422 naming the field. Times carry the
organization's UTC offset. The compliance list is read a page at a time (`limit`, and the
`next` cursor of the previous page), counted only when asked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.api.request import StaffRequest
from openiop.audit.vocabulary import ObjectType
from openiop.care.models import EpisodeOfCare, Track
from openiop.core.exceptions import NotPermitted
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Participant
from openiop.participants.selectors import get_participant_for_user
from openiop.scheduling import selectors, services
from openiop.scheduling.hours import minimum_minutes, monday_of, week_bounds
from openiop.scheduling.locks import attendance_lock_reason
from openiop.scheduling.models import Booking, Session

from . import disclose

router = Router(tags=["scheduling"])

# Weeks outside this range are refused (422) before any date arithmetic can overflow.
FIRST_WEEK = date(2000, 1, 3)
LAST_WEEK = date(2199, 12, 30)
MAX_HOURS_WEEKS = 52
DB_INT_MAX = 2_147_483_647


# --- schemas ------------------------------------------------------------------------------

class SiteRef(Schema):
    code: UUID
    name: str


class RoomRef(Schema):
    id: int
    name: str


class StaffRef(Schema):
    id: int
    name: str


class TrackRef(Schema):
    code: UUID
    name: str


class SessionOut(Schema):
    code: UUID
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    site: SiteRef | None
    room: RoomRef | None
    facilitator: StaffRef | None
    track: TrackRef | None
    capacity: int
    booked: int
    status: str
    counts_toward_hours: bool


class AttendanceOut(Schema):
    status: str
    minutes: int
    version: int


class RosterRow(Schema):
    booking: UUID
    participant: UUID
    participant_name: str
    status: str
    pinned: bool
    attendance: AttendanceOut | None


class SessionDetailOut(SessionOut):
    cancel_reason: str
    attendance_lock: str | None
    roster: list[RosterRow]


class AttendanceIn(Schema):
    status: str = Field(..., max_length=20,
                        description="present, late, left_early, absent or excused")
    minutes: int | None = Field(None, ge=0, le=1440,
                                description="Minutes attended; defaults from the status.")
    reason: str = Field("", max_length=200, description="Why a recorded value is corrected.")
    version: int | None = Field(None, ge=1, le=DB_INT_MAX,
                                description="The attendance version the change was made "
                                            "against (409 when it changed since).")


class AttendanceRecordOut(Schema):
    booking: UUID
    status: str
    minutes: int
    version: int


class AllPresentOut(Schema):
    session: UUID
    marked: int


class CancelIn(Schema):
    reason: str = Field(..., max_length=200, description="Why the session is cancelled.")


class CancelOut(Schema):
    session: UUID
    status: str
    notified: int
    alternatives: list[UUID]


class WeekHours(Schema):
    week: date
    minutes: int
    minimum_minutes: int | None = Field(
        None, description="The minimum that applied this week: null before admission, "
        "pro-rated by the days in care in the week of admission.")
    partial: bool = Field(False, description="The week of admission (or discharge).")


class HoursOut(Schema):
    participant: UUID
    weekly_minimum_minutes: int | None
    weeks: list[WeekHours]


class ParticipantBookingOut(Schema):
    booking: UUID
    status: str
    pinned: bool
    attendance: AttendanceOut | None
    session: SessionOut


class ComplianceOut(Schema):
    participant: UUID
    participant_name: str
    minutes: int
    minimum: int
    scheduled: int
    absences: int
    excused: int
    percent: int
    reason: str
    partial: bool = Field(False, description="The week of admission: minimum pro-rated.")


class CompliancePage(Schema):
    results: list[ComplianceOut]
    next: UUID | None = Field(None, description="Pass as `cursor` for the next page; null "
                                                "on the last page.")
    count: int | None = Field(None, description="Rows in the whole list, with count=true.")


class PinIn(Schema):
    pinned: bool


class PinOut(Schema):
    booking: UUID
    pinned: bool


# --- helpers ------------------------------------------------------------------------------

def staff_org(request: StaffRequest, perm: Perm) -> Organization:
    require_perm(request.user, perm)
    profile = getattr(request.user, "staff_profile", None)
    if profile is None:
        raise NotPermitted("Only clinic staff use the scheduling API.")
    return profile.organization


def monday_param(value: date | None, org: Organization, field: str = "week") -> date:
    if value is None:
        return monday_of(timezone.localtime(timezone.now(), selectors.org_tz(org)).date())
    if value.weekday() != 0:
        raise ValidationError({field: f"A week starts on a Monday; {value.isoformat()} is a "
                                      f"{value:%A} (the Monday is {monday_of(value).isoformat()})."})
    if not FIRST_WEEK <= value <= LAST_WEEK:
        raise ValidationError({field: f"Pick a week between {FIRST_WEEK.isoformat()} and "
                                      f"{LAST_WEEK.isoformat()}."})
    return value


def _session_out(s: Session, booked: int, tz: Any, sites: dict[int, Site]) -> dict[str, Any]:
    site = sites.get(s.site_id)
    return {
        "code": s.code, "kind": s.kind, "title": s.title,
        "starts_at": timezone.localtime(s.starts_at, tz),
        "ends_at": timezone.localtime(s.ends_at, tz),
        "duration_minutes": s.duration_minutes,
        "site": {"code": site.code, "name": site.name} if site else None,
        "room": {"id": s.room.pk, "name": s.room.name} if s.room else None,
        "facilitator": {"id": s.facilitator.pk, "name": str(s.facilitator)}
        if s.facilitator else None,
        "track": {"code": s.track.code, "name": s.track.name} if s.track else None,
        "capacity": s.capacity, "booked": booked, "status": s.status,
        "counts_toward_hours": s.counts_toward_hours,
    }


def _sites(org: Organization) -> dict[int, Site]:
    return {s.pk: s for s in Site.objects.filter(organization=org)}


def _attendance(b: Booking) -> dict[str, Any] | None:
    att = getattr(b, "attendance", None)
    if att is None:
        return None
    return {"status": att.status, "minutes": att.minutes_attended, "version": att.version}


def _session(request: StaffRequest, code: UUID) -> Session:
    return selectors.get_session_for_user(request.user, code)


def _booking(session: Session, code: UUID) -> Booking:
    b = (session.bookings.select_related("participant", "session__program__organization")
         .filter(code=code).first())
    if b is None:
        raise Http404
    return b


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's field names as the API's body names them."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.error_dict.items()})


# --- sessions and attendance --------------------------------------------------------------

@router.get("/sessions", response=list[SessionOut])
def list_sessions(
    request: StaffRequest,
    week: date | None = None,
    track: UUID | None = None,
    facilitator: int | None = Query(None, ge=1, le=DB_INT_MAX),
) -> list[dict[str, Any]]:
    """The organization's sessions of one week (cancelled ones left out), with seat counts."""
    org = staff_org(request, Perm.SCHEDULE_VIEW)
    monday = monday_param(week, org)
    filters: dict[str, Any] = {}
    if track is not None:
        filters["track"] = Track.objects.filter(code=track, program__organization=org).first()
        if filters["track"] is None:
            raise ValidationError({"track": "No track with that code in your organization."})
    if facilitator is not None:
        filters["facilitator"] = User.objects.filter(
            pk=facilitator, staff_profile__organization=org).first()
        if filters["facilitator"] is None:
            raise ValidationError({"facilitator": "No staff member with that id in your "
                                                  "organization."})
    sessions, booked = selectors.week_sessions(org, monday, **filters)
    tz, sites = selectors.org_tz(org), _sites(org)
    return [_session_out(s, booked.get(s.pk, 0), tz, sites) for s in sessions]


@router.get("/sessions/{code}", response=SessionDetailOut)
def get_session(request: StaffRequest, code: UUID) -> dict[str, Any]:
    """One session with its roster (every booking, cancelled ones included)."""
    org = staff_org(request, Perm.SCHEDULE_VIEW)
    session = _session(request, code)
    bookings = list(session.bookings.select_related("participant", "attendance")
                    .order_by("participant__legal_last_name", "participant__legal_first_name"))
    booked = sum(1 for b in bookings if b.status == Booking.Status.BOOKED)
    out = _session_out(session, booked, selectors.org_tz(org), {session.site_id: session.site})
    return out | {
        "cancel_reason": session.cancel_reason,
        "attendance_lock": attendance_lock_reason(session),
        "roster": [{"booking": b.code, "participant": b.participant.code,
                    "participant_name": b.participant.display_name, "status": b.status,
                    "pinned": b.pinned, "attendance": _attendance(b)} for b in bookings],
    }


@router.post("/sessions/{code}/bookings/{booking}/attendance", response=AttendanceRecordOut)
def record_attendance(request: StaffRequest, code: UUID, booking: UUID,
                      payload: AttendanceIn) -> dict[str, Any]:
    """Record or correct one person's attendance. 409 when locked (e.g. the note is signed)
    or when `version` is stale; 422 names the field (status, minutes)."""
    staff_org(request, Perm.ATTENDANCE_RECORD)
    b = _booking(_session(request, code), booking)
    try:
        att = services.attendance_record(actor=request.user, booking=b, status=payload.status,
                                         minutes=payload.minutes, reason=payload.reason,
                                         version=payload.version, request=request)
    except ValidationError as exc:
        raise _renamed(exc, {"minutes_attended": "minutes"}) from None
    return {"booking": b.code, "status": att.status, "minutes": att.minutes_attended,
            "version": att.version}


@router.post("/sessions/{code}/all-present", response=AllPresentOut)
def all_present(request: StaffRequest, code: UUID) -> dict[str, Any]:
    """Mark everyone booked and not yet recorded as present for the full session."""
    staff_org(request, Perm.ATTENDANCE_RECORD)
    session = _session(request, code)
    n = services.attendance_all_present(actor=request.user, session=session, request=request)
    return {"session": session.code, "marked": n}


@router.post("/sessions/{code}/cancel", response=CancelOut)
def cancel_session(request: StaffRequest, code: UUID, payload: CancelIn) -> dict[str, Any]:
    """Cancel a session; each booked participant gets an in-app notice listing up to three
    other sessions of the same kind with a free seat (always offered by the service)."""
    staff_org(request, Perm.SCHEDULE_PLAN)
    session = _session(request, code)
    notices = services.session_cancel(actor=request.user, session=session,
                                      reason=payload.reason, request=request)
    alternatives = [s.code for s in notices[0].alternatives.all()] if notices else []
    return {"session": session.code, "status": session.status, "notified": len(notices),
            "alternatives": alternatives}


@router.post("/bookings/{booking}/pin", response=PinOut)
def pin_booking(request: StaffRequest, booking: UUID, payload: PinIn) -> dict[str, Any]:
    """Pin a booking (re-planning keeps it) or unpin it."""
    org = staff_org(request, Perm.SCHEDULE_PLAN)
    b = (Booking.objects.select_related("participant", "session__program")
         .filter(code=booking, session__program__organization=org).first())
    if b is None:
        raise Http404
    b = services.booking_set_pinned(actor=request.user, booking=b, pinned=payload.pinned,
                                    request=request)
    return {"booking": b.code, "pinned": b.pinned}


# --- one participant (audited reads) ------------------------------------------------------

def _participant(request: StaffRequest, code: UUID) -> Participant:
    """The participant, when their attendance may go to the requester (else a 404)."""
    staff_org(request, Perm.SCHEDULE_VIEW)
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, kind=Kind.SCHEDULE)
    return disclose.release_one(request, participant, participant, object_type=ObjectType.API_SCHEDULE)


@router.get("/participants/{code}/hours", response=HoursOut)
def participant_hours(
    request: StaffRequest, code: UUID,
    weeks: int = Query(8, ge=1, le=MAX_HOURS_WEEKS),
) -> dict[str, Any]:
    """Attended counted minutes per week (oldest first) and the program's weekly minimum
    (null when the participant has no open episode)."""
    participant = _participant(request, code)
    episode = participant.episodes.select_related("program").current()
    minimum = minimum_minutes(episode.program.weekly_hour_minimum) if episode else None
    weeks_out = [w | {"minimum_minutes": w.get("minimum", minimum),
                      "partial": w.get("partial", False)}
                 for w in selectors.participant_hours(participant, weeks=weeks, episode=episode)]
    return {"participant": participant.code, "weekly_minimum_minutes": minimum,
            "weeks": weeks_out}


@router.get("/participants/{code}/sessions", response=list[ParticipantBookingOut])
def participant_sessions(
    request: StaffRequest, code: UUID,
    week: date | None = None,
) -> list[dict[str, Any]]:
    """The participant's bookings of one week (cancelled ones included, with their status)."""
    participant = _participant(request, code)
    org = participant.organization
    tz = selectors.org_tz(org)
    start, end = week_bounds(monday_param(week, org), tz)
    bookings = list(
        Booking.objects.filter(participant=participant, session__starts_at__gte=start,
                               session__starts_at__lt=end)
        .select_related("attendance", "session__room", "session__facilitator", "session__track")
        .prefetch_related(Prefetch("session__bookings",
                                   queryset=Booking.objects.filter(status=Booking.Status.BOOKED),
                                   to_attr="booked_rows"))
        .order_by("session__starts_at")
    )
    sites = _sites(org)
    return [{"booking": b.code, "status": b.status, "pinned": b.pinned,
             "attendance": _attendance(b),
             "session": _session_out(b.session, len(b.session.booked_rows),  # type: ignore[attr-defined]
                                     tz, sites)}
            for b in bookings]


# --- compliance ---------------------------------------------------------------------------

COMPLIANCE_LIMIT = 50
COMPLIANCE_CURSOR = Query(None, description="The `next` value of the previous page.")


def _compliance_after(qs: Any, org: Organization, cursor: UUID) -> Any:
    """The rows after the cursor's in the list's order (name, participant, episode): a
    range on the sort key rather than an offset, so a deep page costs what the first does.
    The cursor is the episode of the previous page's last row; it still pages correctly
    when that person has since reached the minimum (the key is read from the episode)."""
    key = (EpisodeOfCare.objects.filter(code=cursor, program__organization=org)
           .values_list("participant__legal_last_name", "participant_id", "pk").first())
    if key is None:
        raise ValidationError({"cursor": "Not a page link of this list: pass the `next` value "
                                         "of the previous page."})
    name, person, pk = key
    return qs.filter(Q(participant__legal_last_name__gt=name)
                     | Q(participant__legal_last_name=name, participant_id__gt=person)
                     | Q(participant__legal_last_name=name, participant_id=person, pk__gt=pk))


@router.get("/compliance", response=CompliancePage)
def compliance(
    request: StaffRequest,
    week: date | None = None,
    limit: int = Query(COMPLIANCE_LIMIT, ge=1, le=200,
                       description="Rows per page (1 to 200)."),
    cursor: UUID | None = COMPLIANCE_CURSOR,
    count: bool = Query(False, description="Also count the whole list (one more query)."),
) -> dict[str, Any]:
    """Everyone in an active episode under the weekly minimum for the week, with the reason,
    by name, `limit` rows a page. Follow `next` (as `cursor`) until it is null. The list is
    counted only when asked (`count=true`). 422: `week` not a Monday or out of range,
    `limit` out of 1-200, `cursor` not a page link of this list."""
    org = staff_org(request, Perm.SCHEDULE_VIEW)
    week_start = monday_param(week, org)
    qs = selectors.compliance_queryset(org, week_start)
    page_qs = _compliance_after(qs, org, cursor) if cursor else qs
    episodes = list(page_qs[:limit + 1])
    more, episodes = len(episodes) > limit, episodes[:limit]
    rows = selectors.compliance_rows(org, week_start, episodes)
    return {
        "results": [{"participant": r.participant.code,
                     "participant_name": r.participant.display_name, "minutes": r.attended,
                     "minimum": r.minimum, "scheduled": r.scheduled, "absences": r.absences,
                     "excused": r.excused, "percent": r.percent, "reason": r.reason,
                     "partial": r.partial} for r in rows],
        "next": episodes[-1].code if more else None,
        "count": qs.count() if count else None,
    }
