"""Read queries shared by pages, calendars and reports (one place to tune)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.utils import timezone

from openiop.care.models import EpisodeOfCare, Program

from .hours import (
    ATTENDED_STATUSES,
    HOLISTIC_KINDS,
    counts_toward_hours,
    minimum_minutes,
    monday_of,
    week_bounds,
    week_minimum,
    weekly_minutes,
)
from .models import APPOINTMENT_KINDS, Attendance, Booking, Session

if TYPE_CHECKING:
    from uuid import UUID

    from django_stubs_ext import WithAnnotations

    from openiop.accounts.models import User
    from openiop.participants.models import Participant


class _FlagFields(TypedDict):
    """What attendance_flags_queryset annotates on each episode."""

    flag_since: datetime
    flag_threshold: int
    flag_days: int
    flag_absences: int

GRID_START_HOUR = 7
GRID_END_HOUR = 22
HOUR_PX = 44


def org_tz(organization: Any) -> zoneinfo.ZoneInfo:
    return organization.zone


def sessions_visible_to(user: User) -> QuerySet[Session]:
    org_id = getattr(user, "staff_organization_id", None)
    if org_id is None:
        return Session.objects.none()
    return Session.objects.filter(program__organization_id=org_id)


def get_session_for_user(user: User, code: UUID | str) -> Session:
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


def week_sessions(organization: Any, week_start: date, *, track: Any = None, facilitator: User | None = None,
                  room: Any = None, participant: Participant | None = None
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


def participant_week_bookings(participant: Participant, week_start: date, tz: zoneinfo.ZoneInfo) -> list[Booking]:
    """The participant's booked sessions of one week (cancelled sessions left out), in order."""
    start, end = week_bounds(week_start, tz)
    return list(Booking.objects.filter(participant=participant, status=Booking.Status.BOOKED,
                                       session__starts_at__gte=start, session__starts_at__lt=end)
                .exclude(session__status=Session.Status.CANCELLED)
                .select_related("session__track", "session__facilitator", "attendance")
                .order_by("session__starts_at"))


def attendance_rows(participant: Participant, since: datetime) -> list[dict]:
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


def participant_hours(participant: Participant, *, weeks: int = 8, today: date | None = None,
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
    participant: Participant
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


def counted_q(prefix: str = "session__") -> Q:
    """hours.counts_toward_hours as a filter on a session (through `prefix`)."""
    return Q(**{f"{prefix}counts_toward_hours": True}) & (
        Q(**{f"{prefix}program__holistic_counts_toward_hours": True})
        | ~Q(**{f"{prefix}kind__in": sorted(HOLISTIC_KINDS)}))


def _week_minimum_case(organization: Any, week_start: date) -> Case:
    """Each active episode's minimum for the week (hours.week_minimum) as SQL: one branch
    per program and day of admission in the week (programs are few; participants many)."""
    monday = monday_of(week_start)
    whens = []
    for pk, hours in Program.objects.filter(organization=organization).values_list(
            "pk", "weekly_hour_minimum").order_by("pk"):
        full = minimum_minutes(hours)
        whens.append(When(program_id=pk, admitted_on__isnull=True, then=Value(full)))
        whens.append(When(program_id=pk, admitted_on__lte=monday, then=Value(full)))
        for day in range(1, 7):
            admitted = monday + timedelta(days=day)
            need, _partial = week_minimum(full, week_start=monday, admitted_on=admitted)
            whens.append(When(program_id=pk, admitted_on=admitted, then=Value(need)))
    return Case(*whens, default=Value(0), output_field=IntegerField())


def compliance_queryset(organization: Any, week_start: date,
                        participant_ids: Any = None) -> QuerySet[EpisodeOfCare]:
    """Active episodes whose attended counted minutes of the week are under their minimum,
    by name. Filtered, counted and paged in the database: one query per page, whatever
    the size of the clinic (`compliance_rows` adds the reasons for one page)."""
    tz = org_tz(organization)
    start, end = week_bounds(week_start, tz)
    sunday = monday_of(week_start) + timedelta(days=6)
    qs = EpisodeOfCare.objects.filter(program__organization=organization,
                                      status=EpisodeOfCare.Status.ACTIVE,
                                      admitted_on__lte=sunday)
    if participant_ids is not None:  # a caseload: ids or a values() queryset
        qs = qs.filter(participant_id__in=participant_ids)
    attended = (Booking.objects
                .filter(participant_id=OuterRef("participant_id"), status=Booking.Status.BOOKED,
                        session__starts_at__gte=start, session__starts_at__lt=end,
                        attendance__status__in=sorted(ATTENDED_STATUSES))
                .exclude(session__status=Session.Status.CANCELLED)
                .filter(counted_q())
                .order_by().values("participant_id")
                .annotate(total=Sum("attendance__minutes_attended")).values("total"))
    return (qs.annotate(need=_week_minimum_case(organization, week_start),
                        attended_minutes=Coalesce(Subquery(attended), Value(0)))
            .filter(attended_minutes__lt=F("need"))
            .select_related("participant", "program")
            .order_by("participant__legal_last_name", "participant_id", "pk"))


def compliance_rows(organization: Any, week_start: date,
                    episodes: list[EpisodeOfCare]) -> list[ComplianceRow]:
    """The rows of `episodes` (a page of compliance_queryset) with their reasons: one query."""
    tz = org_tz(organization)
    start, end = week_bounds(week_start, tz)
    ids = [e.participant_id for e in episodes]
    rows = (Booking.objects.filter(participant_id__in=ids, status=Booking.Status.BOOKED,
                                   session__starts_at__gte=start, session__starts_at__lt=end)
            .exclude(session__status=Session.Status.CANCELLED)
            .values("participant_id", "session__kind", "session__counts_toward_hours",
                    "session__program__holistic_counts_toward_hours", "session__starts_at",
                    "session__ends_at", "attendance__status", "attendance__minutes_attended")
            if ids else [])
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
        elif status == Attendance.Status.ABSENT:
            st["absences"] += 1
        elif status == Attendance.Status.EXCUSED:
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


def compliance(organization: Any, week_start: date,
               participant_ids: Any = None) -> list[ComplianceRow]:
    """Everyone in an active episode under the weekly minimum for the week, with the reason.

    Reasons, in order: not scheduled enough to reach the minimum; absences; excused
    absences; and, for a week in progress, sessions still to come. Someone admitted after
    the week is not listed; in the week of admission the minimum is pro-rated and the row
    is marked partial (hours.week_minimum). Pages use compliance_queryset + compliance_rows
    to read one page at a time.
    """
    return compliance_rows(organization, week_start,
                           list(compliance_queryset(organization, week_start, participant_ids)))


@dataclass
class FlagRow:
    participant: Participant
    episode: EpisodeOfCare
    absences: int
    threshold: int
    period_days: int
    missed: list[Booking]


def _policy(program: Any) -> tuple[int, int]:
    """(absences, period in days) of a program's attendance policy."""
    policy = program.typed_settings.attendance_policy
    return policy.absences, policy.period_days


def attendance_flags_queryset(organization: Any, *, today: date | None = None
                              ) -> QuerySet[WithAnnotations[EpisodeOfCare, _FlagFields]]:
    """Active episodes whose unexcused absences in their program's period reached its
    threshold, most absences first: counted and paged in the database (the policy of each
    program becomes one SQL branch)."""
    tz = org_tz(organization)
    today = today or timezone.localtime(timezone.now(), tz).date()
    since_whens, threshold_whens, days_whens = [], [], []
    for program in Program.objects.filter(organization=organization).order_by("pk"):
        threshold, days = _policy(program)
        since = datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=tz)
        since_whens.append(When(program_id=program.pk, then=Value(since)))
        threshold_whens.append(When(program_id=program.pk, then=Value(threshold)))
        days_whens.append(When(program_id=program.pk, then=Value(days)))
    if not since_whens:
        # No rows, so none lacks the annotations.
        return cast("QuerySet[WithAnnotations[EpisodeOfCare, _FlagFields]]",
                    EpisodeOfCare.objects.none())
    absences = (Booking.objects
                .filter(participant_id=OuterRef("participant_id"),
                        attendance__status=Attendance.Status.ABSENT,
                        session__starts_at__gte=OuterRef("flag_since"))
                .order_by().values("participant_id")
                .annotate(n=Count("pk")).values("n"))
    return (EpisodeOfCare.objects.filter(program__organization=organization,
                                         status=EpisodeOfCare.Status.ACTIVE)
            .annotate(flag_since=Case(*since_whens, output_field=DateTimeField()),
                      flag_threshold=Case(*threshold_whens, default=Value(0),
                                          output_field=IntegerField()),
                      flag_days=Case(*days_whens, default=Value(14), output_field=IntegerField()))
            .annotate(flag_absences=Coalesce(Subquery(absences), Value(0)))
            .filter(flag_threshold__gt=0, flag_absences__gte=F("flag_threshold"))
            .select_related("participant", "program")
            .order_by("-flag_absences", "participant__legal_last_name", "participant_id", "pk"))


def attendance_flag_rows(episodes: list[WithAnnotations[EpisodeOfCare, _FlagFields]]
                         ) -> list[FlagRow]:
    """The rows of `episodes` (a page of attendance_flags_queryset) with the sessions each
    person missed: one query for the page."""
    if not episodes:
        return []
    earliest = min(e.flag_since for e in episodes)
    missed: dict[int, list[Booking]] = defaultdict(list)
    for b in (Booking.objects.filter(participant_id__in={e.participant_id for e in episodes},
                                     attendance__status=Attendance.Status.ABSENT,
                                     session__starts_at__gte=earliest)
              .select_related("session", "attendance").order_by("session__starts_at", "pk")):
        missed[b.participant_id].append(b)
    return [FlagRow(e.participant, e, e.flag_absences, e.flag_threshold, e.flag_days,
                    [b for b in missed[e.participant_id] if b.session.starts_at >= e.flag_since])
            for e in episodes]


def attendance_flags(organization: Any, *, today: date | None = None) -> list[FlagRow]:
    """Participants whose absences in the program's period reached its review threshold.

    The policy is program data: Program.settings["attendance_policy"] = {"absences": 3,
    "period_days": 14}: a program policy, as IOPs publish their own (some allow at most 6
    missed sessions per 12-week cycle). Excused absences do not count. Pages use
    attendance_flags_queryset + attendance_flag_rows to read one page at a time.
    """
    return attendance_flag_rows(list(attendance_flags_queryset(organization, today=today)))


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


# How many open sessions per (program, kind) `makeup_options_for` reads: enough that a
# person's own upcoming bookings among them still leave `limit` to offer.
MAKEUP_CANDIDATES = 24


def makeup_options_for(bookings: list[Booking], *, limit: int = 3) -> dict[int, list[Session]]:
    """makeup_options for many missed bookings in two queries (booking pk -> sessions):
    the first open upcoming sessions of each (program, kind), then which of them each
    person is already booked in."""
    if not bookings:
        return {}
    pairs = sorted({(b.session.program_id, b.session.kind) for b in bookings})
    seats = Coalesce(Subquery(
        Booking.objects.filter(session_id=OuterRef("pk"), status=Booking.Status.BOOKED)
        .order_by().values("session_id").annotate(n=Count("pk")).values("n")), Value(0))
    candidates = list(
        Session.objects.filter(reduce(or_, (Q(program_id=p, kind=k) for p, k in pairs)),
                               status=Session.Status.SCHEDULED, starts_at__gt=timezone.now())
        .annotate(n_booked=seats).filter(n_booked__lt=F("capacity"))
        .annotate(rank=Window(RowNumber(), partition_by=[F("program_id"), F("kind")],
                              order_by=[F("starts_at").asc(), F("pk").asc()]))
        .filter(rank__lte=MAKEUP_CANDIDATES).order_by("starts_at", "pk"))
    own = set(Booking.objects.filter(session_id__in=[c.pk for c in candidates],
                                     participant_id__in={b.participant_id for b in bookings},
                                     status=Booking.Status.BOOKED)
              .values_list("session_id", "participant_id")) if candidates else set()
    out: dict[int, list[Session]] = {}
    for b in bookings:
        fits: list[Session] = [c for c in candidates
                               if c.program_id == b.session.program_id
                               and c.kind == b.session.kind
                               and (c.pk, b.participant_id) not in own]
        out[b.pk] = fits[:limit]
    return out


# --- planning jobs ------------------------------------------------------------------------

def planning_jobs(organization: Any) -> list[Any]:
    """The organization's plans still being made (the page links to their progress)."""
    from openiop.jobs.models import Job

    return list(Job.objects.filter(organization=organization, kind="plan_week",
                                   state__in=[Job.State.QUEUED, Job.State.RUNNING])
                .order_by("-created_at")[:5])


def planning_job(organization: Any, code: UUID | str) -> Any:
    from openiop.jobs.models import Job

    return Job.objects.filter(organization=organization, kind="plan_week", code=code).first()
