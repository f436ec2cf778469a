"""Read queries shared by pages, calendars and reports (one place to tune)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from openiop.care.models import EpisodeOfCare

from .hours import (
    ATTENDED_STATUSES,
    counts_toward_hours,
    minimum_minutes,
    monday_of,
    week_bounds,
    week_minimum,
    weekly_minutes,
)
from .models import APPOINTMENT_KINDS, Attendance, Booking, Session

GRID_START_HOUR = 7
GRID_END_HOUR = 22
HOUR_PX = 44


def org_tz(organization: Any) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(organization.time_zone)


def sessions_visible_to(user: Any) -> QuerySet[Session]:
    org_id = getattr(user, "staff_organization_id", None)
    if org_id is None:
        return Session.objects.none()
    return Session.objects.filter(program__organization_id=org_id)


def get_session_for_user(user: Any, code: Any) -> Session:
    try:
        return sessions_visible_to(user).select_related(
            "program__organization", "track", "room", "facilitator", "site").get(code=code)
    except (Session.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass
class GridEvent:
    session: Session
    top: int
    height: int
    lane: int = 0
    lanes: int = 1
    booked: int = 0
    label: str = ""

    @property
    def clients(self) -> list[Any]:
        """Who an appointment (individual, family, medication) is with, so a clinician's
        calendar names the client; empty for groups (week_sessions prefetches them)."""
        if self.session.kind not in APPOINTMENT_KINDS:
            return []
        return [b.participant for b in getattr(self.session, "booked_rows", [])]

    @property
    def left_pct(self) -> float:
        return round(100 * self.lane / self.lanes, 2)

    @property
    def width_pct(self) -> float:
        return round(100 / self.lanes, 2)


@dataclass
class GridDay:
    day: date
    events: list[GridEvent] = field(default_factory=list)
    closed: str = ""


def sessions_of_day(organization: Any, today: date, *, look_ahead_days: int = 7,
                    limit: int = 25) -> tuple[date, list[Session]]:
    """(day, sessions) for the staff home page: today's sessions, or, on a day without
    any (a weekend, a holiday), those of the next day that has some within a week.

    Days are the organization's local days. One query, whatever the day: the first
    `limit` sessions from today on, in time order, are all of the first day that has any
    (up to `limit`; the week grid has the rest).
    """
    tz = organization.zone
    start = datetime.combine(today, time.min, tzinfo=tz)
    upcoming = list(
        Session.objects.filter(program__organization=organization, starts_at__gte=start,
                               starts_at__lt=start + timedelta(days=look_ahead_days + 1))
        .exclude(status=Session.Status.CANCELLED)
        .select_related("program", "room", "facilitator")
        .order_by("starts_at", "pk")[:limit])
    if not upcoming:
        return today, []
    day = upcoming[0].starts_at.astimezone(tz).date()
    return day, [s for s in upcoming if s.starts_at.astimezone(tz).date() == day]


def week_grid(sessions: list[Session], week_start: date, tz: zoneinfo.ZoneInfo,
              booked: dict[int, int] | None = None) -> dict[str, Any]:
    """Days with positioned events for the .weekgrid layout (overlaps side by side)."""
    days = [GridDay(week_start + timedelta(days=i)) for i in range(7)]
    for s in sessions:
        local = s.starts_at.astimezone(tz)
        end = s.ends_at.astimezone(tz)
        idx = (local.date() - week_start).days
        if not 0 <= idx < 7:
            continue
        start_min = local.hour * 60 + local.minute
        end_min = end.hour * 60 + end.minute if end.date() == local.date() else 24 * 60
        top = max(0, (start_min - GRID_START_HOUR * 60) * HOUR_PX // 60)
        bottom = min((GRID_END_HOUR - GRID_START_HOUR) * HOUR_PX,
                     (end_min - GRID_START_HOUR * 60) * HOUR_PX // 60)
        days[idx].events.append(GridEvent(s, top, max(bottom - top - 2, 18),
                                          booked=(booked or {}).get(s.pk, 0)))
    for d in days:
        d.events.sort(key=lambda e: (e.top, e.session.pk))
        lanes_end: list[int] = []
        cluster: list[GridEvent] = []
        cluster_end = -1
        for e in d.events:
            if e.top >= cluster_end and cluster:
                for c in cluster:
                    c.lanes = len(lanes_end)
                cluster, lanes_end = [], []
            lane = next((i for i, end in enumerate(lanes_end) if end <= e.top), None)
            if lane is None:
                lanes_end.append(e.top + e.height)
                lane = len(lanes_end) - 1
            else:
                lanes_end[lane] = e.top + e.height
            e.lane = lane
            cluster.append(e)
            cluster_end = max(cluster_end, e.top + e.height)
        for c in cluster:
            c.lanes = max(1, len(lanes_end))
    hours = [f"{h % 12 or 12} {'AM' if h < 12 else 'PM'}" for h in range(GRID_START_HOUR, GRID_END_HOUR)]
    return {"days": days, "hours": hours, "height": (GRID_END_HOUR - GRID_START_HOUR) * HOUR_PX,
            "week_start": week_start}


def week_sessions(organization: Any, week_start: date, *, track: Any = None, facilitator: Any = None,
                  room: Any = None, participant: Any = None
                  ) -> tuple[Sequence[Session], dict[int, int]]:
    """Sessions of one week for a track, clinician, room or participant, with seat counts."""
    tz = org_tz(organization)
    start, end = week_bounds(week_start, tz)
    qs = Session.objects.filter(program__organization=organization, starts_at__gte=start,
                                starts_at__lt=end).exclude(status=Session.Status.CANCELLED)
    if track is not None:
        qs = qs.filter(track=track)
    if facilitator is not None:
        qs = qs.filter(facilitator=facilitator)
    if room is not None:
        qs = qs.filter(room=room)
    if participant is not None:
        qs = qs.filter(bookings__participant=participant, bookings__status=Booking.Status.BOOKED)
    qs = qs.select_related("room", "facilitator", "track").annotate(
        n_booked=Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED), distinct=True))
    # The client of each appointment, for the event label: one query for the whole week.
    qs = qs.prefetch_related(Prefetch(
        "bookings", to_attr="booked_rows",
        queryset=Booking.objects.filter(status=Booking.Status.BOOKED,
                                        session__kind__in=APPOINTMENT_KINDS)
        .select_related("participant")))
    sessions = list(qs.order_by("starts_at"))
    return sessions, {s.pk: s.n_booked for s in sessions}


def participant_week_bookings(participant: Any, week_start: date, tz: zoneinfo.ZoneInfo) -> list[Booking]:
    """The participant's booked sessions of one week (cancelled sessions left out), in order."""
    start, end = week_bounds(week_start, tz)
    return list(Booking.objects.filter(participant=participant, status=Booking.Status.BOOKED,
                                       session__starts_at__gte=start, session__starts_at__lt=end)
                .exclude(session__status=Session.Status.CANCELLED)
                .select_related("session__track", "session__facilitator", "attendance")
                .order_by("session__starts_at"))


def attendance_rows(participant: Any, since: datetime) -> list[dict]:
    """Attendance of a participant since a moment, shaped for hours.weekly_minutes."""
    return [
        {"starts_at": r["booking__session__starts_at"], "kind": r["booking__session__kind"],
         "counts_toward_hours": r["booking__session__counts_toward_hours"],
         "holistic_counts": r["booking__session__program__holistic_counts_toward_hours"],
         "status": r["status"], "minutes_attended": r["minutes_attended"]}
        for r in Attendance.objects.filter(
            booking__participant=participant, booking__session__starts_at__gte=since,
            booking__status=Booking.Status.BOOKED,
        ).values("booking__session__starts_at", "booking__session__kind",
                 "booking__session__counts_toward_hours",
                 "booking__session__program__holistic_counts_toward_hours", "status",
                 "minutes_attended")
    ]


def participant_hours(participant: Any, *, weeks: int = 8, today: date | None = None,
                      episode: EpisodeOfCare | None = None) -> list[dict]:
    """Attended counted hours per week for the last `weeks` weeks (oldest first).

    With `episode`, each week also carries the minimum that applied (`minimum`: None before
    admission, pro-rated for the week of admission) and `partial` (hours.week_minimum)."""
    tz = org_tz(participant.organization)
    today = today or timezone.localtime(timezone.now(), tz).date()
    this_monday = monday_of(today)
    first = this_monday - timedelta(weeks=weeks - 1)
    totals = weekly_minutes(attendance_rows(participant, week_bounds(first, tz)[0]), tz)
    out = []
    for i in range(weeks):
        week = first + timedelta(weeks=i)
        row: dict[str, Any] = {"week": week, "minutes": totals.get(week, 0)}
        if episode is not None:
            row["minimum"], row["partial"] = week_minimum(
                minimum_minutes(episode.program.weekly_hour_minimum), week_start=week,
                admitted_on=episode.admitted_on, discharged_on=episode.discharged_on)
        out.append(row)
    return out


@dataclass
class ComplianceRow:
    participant: Any
    episode: EpisodeOfCare
    minimum: int
    attended: int
    scheduled: int
    absences: int
    excused: int
    reason: str
    partial: bool = False  # the week of admission: the minimum is pro-rated

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.attended / self.minimum)) if self.minimum else 100


def compliance(organization: Any, week_start: date,
               participant_ids: Any = None) -> list[ComplianceRow]:
    """Everyone in an active episode under the weekly minimum for the week, with the reason.

    Reasons, in order: not scheduled enough to reach the minimum; absences; excused
    absences; and, for a week in progress, sessions still to come. Someone admitted after
    the week is not listed; in the week of admission the minimum is pro-rated and the row
    is marked partial (hours.week_minimum).
    """
    tz = org_tz(organization)
    start, end = week_bounds(week_start, tz)
    sunday = monday_of(week_start) + timedelta(days=6)
    episodes_qs = EpisodeOfCare.objects.filter(program__organization=organization,
                                               status=EpisodeOfCare.Status.ACTIVE,
                                               admitted_on__lte=sunday)
    if participant_ids is not None:  # a caseload: ids or a values() queryset
        episodes_qs = episodes_qs.filter(participant_id__in=participant_ids)
    episodes = list(episodes_qs
                    .select_related("participant", "program")
                    .order_by("participant__legal_last_name", "participant_id"))
    ids = [e.participant_id for e in episodes]
    rows = (Booking.objects.filter(participant_id__in=ids, status=Booking.Status.BOOKED,
                                   session__starts_at__gte=start, session__starts_at__lt=end)
            .exclude(session__status=Session.Status.CANCELLED)
            .values("participant_id", "session__kind", "session__counts_toward_hours",
                    "session__program__holistic_counts_toward_hours", "session__starts_at",
                    "session__ends_at", "attendance__status", "attendance__minutes_attended"))
    stats: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    now = timezone.now()
    for r in rows:
        if not counts_toward_hours(kind=r["session__kind"], counts=r["session__counts_toward_hours"],
                                   holistic_counts=r["session__program__holistic_counts_toward_hours"]):
            continue
        st = stats[r["participant_id"]]
        length = int((r["session__ends_at"] - r["session__starts_at"]).total_seconds() // 60)
        st["scheduled"] += length
        status = r["attendance__status"]
        if status in ATTENDED_STATUSES:
            st["attended"] += r["attendance__minutes_attended"] or 0
        elif status == "absent":
            st["absences"] += 1
        elif status == "excused":
            st["excused"] += 1
        elif r["session__starts_at"] > now:
            st["upcoming"] += length
    out = []
    for ep in episodes:
        need, partial = week_minimum(minimum_minutes(ep.program.weekly_hour_minimum),
                                     week_start=week_start, admitted_on=ep.admitted_on)
        st = stats[ep.participant_id]
        if need is None or st["attended"] >= need:
            continue
        reasons = []
        if st["scheduled"] < need:
            reasons.append("not scheduled" if not st["scheduled"] else
                           f"scheduled for only {st['scheduled'] / 60:.1f} h")
        if st["absences"]:
            reasons.append(f"{st['absences']} absence{'s' if st['absences'] > 1 else ''}")
        if st["excused"]:
            reasons.append(f"{st['excused']} excused")
        if st["upcoming"]:
            reasons.append(f"{st['upcoming'] / 60:.1f} h still to come")
        reasons = reasons or ["partial attendance"]
        if partial:
            reasons.insert(0, f"admitted {ep.admitted_on:%a %b %-d}, minimum pro-rated")
        out.append(ComplianceRow(ep.participant, ep, need, st["attended"], st["scheduled"],
                                 st["absences"], st["excused"], ", ".join(reasons), partial))
    return out


@dataclass
class FlagRow:
    participant: Any
    episode: EpisodeOfCare
    absences: int
    threshold: int
    period_days: int
    missed: list[Booking]


def attendance_flags(organization: Any, *, today: date | None = None) -> list[FlagRow]:
    """Participants whose absences in the program's period reached its review threshold.

    The policy is program data: Program.settings["attendance_policy"] = {"absences": 3,
    "period_days": 14}: a program policy, as IOPs publish their own (some allow at most 6
    missed sessions per 12-week cycle). Excused absences do not count.
    """
    tz = org_tz(organization)
    today = today or timezone.localtime(timezone.now(), tz).date()
    episodes = list(EpisodeOfCare.objects.filter(program__organization=organization,
                                                 status=EpisodeOfCare.Status.ACTIVE)
                    .select_related("participant", "program"))
    if not episodes:
        return []
    longest = max(e.program.typed_settings.attendance_policy.period_days for e in episodes)
    since = datetime.combine(today - timedelta(days=longest), datetime.min.time(), tzinfo=tz)
    missed: dict[int, list[Booking]] = defaultdict(list)
    for b in (Booking.objects.filter(participant_id__in=[e.participant_id for e in episodes],
                                     attendance__status=Attendance.Status.ABSENT,
                                     session__starts_at__gte=since)
              .select_related("session", "attendance").order_by("session__starts_at")):
        missed[b.participant_id].append(b)
    out = []
    for ep in episodes:
        policy = ep.program.typed_settings.attendance_policy
        threshold, days = policy.absences, policy.period_days
        cutoff = datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=tz)
        lst = [b for b in missed[ep.participant_id] if b.session.starts_at >= cutoff]
        if threshold and len(lst) >= threshold:
            out.append(FlagRow(ep.participant, ep, len(lst), threshold, days, lst))
    out.sort(key=lambda r: (-r.absences, r.participant.legal_last_name))
    return out


def makeup_options(booking: Booking, *, limit: int = 3) -> Sequence[Session]:
    """Upcoming sessions of the same kind in the program with a free seat."""
    s = booking.session
    qs = (Session.objects.filter(program_id=s.program_id, kind=s.kind, status=Session.Status.SCHEDULED,
                                 starts_at__gt=timezone.now())
          .exclude(bookings__participant_id=booking.participant_id,
                   bookings__status=Booking.Status.BOOKED)
          .annotate(n=Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED)))
          .order_by("starts_at"))
    return [x for x in qs[: limit * 4] if x.n < x.capacity][:limit]


# --- planning jobs ------------------------------------------------------------------------

def planning_jobs(organization: Any) -> list[Any]:
    """The organization's plans still being made (the page links to their progress)."""
    from openiop.jobs.models import Job

    return list(Job.objects.filter(organization=organization, kind="plan_week",
                                   state__in=[Job.State.QUEUED, Job.State.RUNNING])
                .order_by("-created_at")[:5])


def planning_job(organization: Any, code: Any) -> Any:
    from openiop.jobs.models import Job

    return Job.objects.filter(organization=organization, kind="plan_week", code=code).first()
