"""The bridge between the database and the engine: build a week, read the plan back.

Times become minutes from Monday 00:00 local (organization time zone) so the engine never
sees a time zone; dated sessions come back through the same zone.
"""

from __future__ import annotations

import hashlib
import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch

from openiop.accounts.models import StaffProfile
from openiop.care.models import Enrollment, EpisodeOfCare, Program, Track
from openiop.finder.geo import haversine_miles
from openiop.organizations.models import Organization, Room, Site
from openiop.participants.models import Availability, Consent

from . import engine
from .hours import counts_toward_hours, minimum_minutes, week_bounds
from .models import (
    APPOINTMENT_KINDS,
    GROUP_KINDS,
    Booking,
    Session,
    SessionTemplate,
    StaffHours,
)

# Cadence (common practice, not a regulation: individual therapy weekly; family sessions
# when the participant consents; medication review by the prescriber every 2-4 weeks) is a
# program policy: its defaults are in care.program_settings, programs change them there.
DEFAULT_CREDENTIALS = {
    "individual": ["LCSW", "LPC", "LMFT", "LISW", "PhD", "PsyD", "CADC"],
    # Family therapy by a licensed marriage and family therapist (a default; programs may widen it).
    "family": ["LMFT"],
    "medication": ["MD", "DO", "NP"],
}
DEFAULT_MINUTES = {"individual": 50, "family": 50, "medication": 25}
DEFAULT_STAFF_HOURS = [(d, time(8), time(20)) for d in range(5)]
ROOM_KIND_GROUP_MIN = 8
ROOM_KIND_FAMILY_MIN = 4


def room_kind(room: Room) -> str:
    if room.capacity >= ROOM_KIND_GROUP_MIN:
        return "group"
    if room.capacity >= ROOM_KIND_FAMILY_MIN:
        return "family"
    return "office"


@dataclass
class WeekContext:
    """What the adapter needs to turn the engine's answer back into rows."""

    organization: Organization
    week_start: date
    tz: zoneinfo.ZoneInfo
    instance: engine.Instance
    participants: dict[str, Any]  # engine id -> Participant
    episodes: dict[str, EpisodeOfCare]
    sessions: dict[str, Session]  # group session code -> Session
    current_groups: dict[str, set[str]]  # participant -> group session codes booked (unpinned)
    current_appointments: dict[str, list[Session]]  # participant -> unpinned appointment sessions
    templates: dict[tuple[int, str], SessionTemplate | None]
    fingerprint: str = ""
    staff_names: dict[str, str] = field(default_factory=dict)
    room_names: dict[str, str] = field(default_factory=dict)
    enrollments: dict[str, Enrollment] = field(default_factory=dict)  # engine id -> enrollment
    tracks: dict[str, Track] = field(default_factory=dict)  # engine track id -> Track

    def to_minutes(self, moment: datetime) -> int:
        start, _ = week_bounds(self.week_start, self.tz)
        local = moment.astimezone(self.tz)
        # Wall-clock minutes from Monday 00:00: what the week grid shows, DST included.
        days = (local.date() - start.date()).days
        return days * 1440 + local.hour * 60 + local.minute

    def to_datetime(self, minutes: int) -> datetime:
        day = self.week_start + timedelta(days=minutes // 1440)
        m = minutes % 1440
        return datetime.combine(day, time(m // 60, m % 60), tzinfo=self.tz)


def _windows(rows: list[tuple[int, time, time]], label: str = "") -> tuple[engine.Window, ...]:
    return tuple(
        engine.Window(d * 1440 + s.hour * 60 + s.minute, d * 1440 + e.hour * 60 + e.minute, label)
        for d, s, e in rows
    )


def build_week(organization: Organization, week_start: date) -> WeekContext:
    """The engine instance for one organization's week (a Monday)."""
    tz = organization.zone
    start, end = week_bounds(week_start, tz)
    week_end_day = week_start + timedelta(days=6)
    programs = {p.pk: p for p in Program.objects.filter(organization=organization, is_active=True)}
    tracks = list(Track.objects.filter(program__in=programs.values(), is_active=True))
    enrollments = list(
        Enrollment.objects.filter(
            track__in=tracks, status=Enrollment.Status.ACTIVE, start_date__lte=week_end_day,
            episode__status=EpisodeOfCare.Status.ACTIVE,
        ).exclude(end_date__lt=week_start)
        .select_related("episode__participant", "episode__program", "track")
        .prefetch_related(Prefetch("acceptable_tracks",
                                   queryset=Track.objects.filter(is_active=True).order_by("start_time")))
        .order_by("episode__participant__mrn")
    )
    participant_ids = [e.episode.participant_id for e in enrollments]
    availability: dict[int, list[Availability]] = defaultdict(list)
    for w in Availability.objects.filter(participant_id__in=participant_ids):
        availability[w.participant_id].append(w)
    family_consent = set(
        Consent.objects.filter(participant_id__in=participant_ids,
                               kind=Consent.Kind.FAMILY_INVOLVEMENT, revoked_at__isnull=True)
        .exclude(expires_at__lt=start).values_list("participant_id", flat=True)
    )
    templates: dict[tuple[int, str], SessionTemplate | None] = {}
    for t in SessionTemplate.objects.filter(program__in=programs.values(), is_active=True,
                                            weekday__isnull=True, kind__in=APPOINTMENT_KINDS):
        templates.setdefault((t.program_id, t.kind), t)

    sessions = list(
        Session.objects.filter(program__in=programs.values(), starts_at__gte=start,
                               starts_at__lt=end)
        .exclude(status=Session.Status.CANCELLED)
        .select_related("room", "facilitator", "track")
    )
    bookings = list(
        Booking.objects.filter(session__in=sessions, status=Booking.Status.BOOKED)
        .select_related("attendance")
    )
    ctx = WeekContext(organization, week_start, tz, engine.Instance((), (), (), ()), {}, {}, {},
                      defaultdict(set), defaultdict(list), templates)
    by_session: dict[int, Session] = {s.pk: s for s in sessions}
    pinned_groups: dict[int, list[str]] = defaultdict(list)
    fixed: dict[int, list[engine.FixedAppointment]] = defaultdict(list)
    fingerprint = hashlib.sha256()
    for b in sorted(bookings, key=lambda b: b.pk):
        s = by_session[b.session_id]
        fingerprint.update(f"{b.pk}:{b.session_id}:{b.participant_id}:{b.pinned};".encode())
        holistic = programs[s.program_id].holistic_counts_toward_hours
        counted = s.duration_minutes if counts_toward_hours(
            kind=s.kind, counts=s.counts_toward_hours, holistic_counts=holistic) else 0
        has_attendance = hasattr(b, "attendance")
        if s.kind in GROUP_KINDS and s.track_id:
            if b.pinned or has_attendance:
                pinned_groups[b.participant_id].append(str(s.code))
            else:
                ctx.current_groups[str(b.participant_id)].add(str(s.code))
        elif b.pinned or has_attendance:
            fixed[b.participant_id].append(engine.FixedAppointment(
                str(s.code), s.kind, ctx.to_minutes(s.starts_at), ctx.to_minutes(s.ends_at),
                str(s.site_id), str(s.facilitator_id) if s.facilitator_id else None,
                str(s.room_id) if s.room_id else None, counted))
        else:
            ctx.current_appointments[str(b.participant_id)].append(s)
    ctx.fingerprint = fingerprint.hexdigest()

    groups = []
    for s in sessions:
        if s.kind in GROUP_KINDS and s.track_id:
            holistic = programs[s.program_id].holistic_counts_toward_hours
            counted = s.duration_minutes if counts_toward_hours(
                kind=s.kind, counts=s.counts_toward_hours, holistic_counts=holistic) else 0
            groups.append(engine.GroupSession(
                str(s.code), str(s.track.code), s.kind, ctx.to_minutes(s.starts_at),
                ctx.to_minutes(s.ends_at), str(s.site_id), s.capacity, counted,
                str(s.room_id) if s.room_id else None,
                str(s.facilitator_id) if s.facilitator_id else None, s.title))
            ctx.sessions[str(s.code)] = s

    # Recent appointments decide which cadence rules are due this week.
    history_from = start - timedelta(days=70)
    last_seen: dict[tuple[int, str], datetime] = {}
    # Continuity: the family therapist is the one the care team names on the episode; when
    # none is named, whoever led the participant's most recent family session.
    last_with: dict[tuple[int, str], int | None] = {}
    for pid, kind, when, who in (
        Booking.objects.filter(participant_id__in=participant_ids, status=Booking.Status.BOOKED,
                               session__kind__in=("family", "medication"),
                               session__starts_at__gte=history_from, session__starts_at__lt=start)
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list("participant_id", "session__kind", "session__starts_at",
                     "session__facilitator_id")
    ):
        if (pid, kind) not in last_seen or when > last_seen[(pid, kind)]:
            last_seen[(pid, kind)] = when
            last_with[(pid, kind)] = who

    people = []
    for enr in enrollments:
        ep = enr.episode
        person = ep.participant
        program = programs[ep.program_id]
        typed = program.typed_settings
        cadence = {"individual_per_week": typed.individual_per_week,
                   "family_every_weeks": typed.family_every_weeks,
                   "medication_review_days": typed.medication_review_days}
        pid = str(person.pk)
        kinds_fixed = {fa.kind for fa in fixed[person.pk]}
        booked_now: dict[str, Session] = {}
        for s in sorted(ctx.current_appointments.get(pid, []), key=lambda s: s.starts_at):
            booked_now.setdefault(s.kind, s)
        needs = []

        def need(kind: str, preferred: int | None, rule: str, *, usual_role: str = "",
                 _program=program, _pid=pid, _now=booked_now) -> engine.Need:
            tpl = templates.get((_program.pk, kind))
            creds = (tpl.required_credentials if tpl and tpl.required_credentials
                     else DEFAULT_CREDENTIALS[kind])
            minutes = tpl.duration_minutes if tpl else DEFAULT_MINUTES[kind]
            counted = tpl.counts_toward_hours if tpl else kind != "medication"
            now = _now.get(kind)
            current = ((str(now.facilitator_id), ctx.to_minutes(now.starts_at))
                       if now and now.facilitator_id and now.duration_minutes == minutes else None)
            return engine.Need(f"{_pid}:{kind}", kind, minutes, frozenset(creds), counted,
                               str(preferred) if preferred else None,
                               "family" if kind == "family" else "office", rule, current,
                               usual_role if preferred else "")

        if cadence["individual_per_week"] and "individual" not in kinds_fixed:
            needs.append(need("individual", ep.primary_therapist_id, "individual therapy weekly"))
        every = int(cadence["family_every_weeks"] or 0)
        last_family = last_seen.get((person.pk, "family"))
        if (every and person.pk in family_consent and "family" not in kinds_fixed
                and (last_family is None or (start - last_family).days >= 7 * every - 3)):
            named = ep.family_therapist_id
            needs.append(need("family", named or last_with.get((person.pk, "family")),
                              f"family session every {every} weeks (family involvement consented)",
                              usual_role="family therapist" if named else ""))
        days = int(cadence["medication_review_days"] or 0)
        last_med = last_seen.get((person.pk, "medication"))
        if (ep.prescriber_id and days and "medication" not in kinds_fixed
                and (last_med is None or (end - last_med).days >= days)):
            needs.append(need("medication", ep.prescriber_id,
                              f"medication review every {days} days"))
        busy = tuple(
            engine.Window(w.weekday * 1440 + w.start_time.hour * 60 + w.start_time.minute,
                          w.weekday * 1440 + w.end_time.hour * 60 + w.end_time.minute,
                          w.get_kind_display().lower())
            for w in availability[person.pk]
        )
        # The enrolled track first, then the other tracks of the program the person can
        # attend (Enrollment.acceptable_tracks): the engine may seat them in one of those,
        # which the plan shows as a move for the director to accept or decline.
        alternatives = tuple(str(t.code) for t in enr.acceptable_tracks.all()
                             if t.program_id == enr.track.program_id and t.pk != enr.track_id)
        people.append(engine.Participant(
            pid, f"{person.display_name} ({person.mrn})", str(program.code),
            (str(enr.track.code), *alternatives),
            str(program.site_id), minimum_minutes(program.weekly_hour_minimum), busy, tuple(needs),
            tuple(pinned_groups[person.pk]), tuple(fixed[person.pk]),
        ))
        ctx.participants[pid] = person
        ctx.episodes[pid] = ep
        ctx.enrollments[pid] = enr

    staff = list(StaffProfile.objects.filter(organization=organization, is_active=True,
                                             user__is_active=True).select_related("user"))
    hours: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for h in StaffHours.objects.filter(user__in=[s.user for s in staff]):
        hours[h.user_id].append((h.weekday, h.start_time, h.end_time))
    clinicians = []
    for prof in staff:
        creds = frozenset(prof.credentials or [])
        if not creds:
            continue
        clinicians.append(engine.Clinician(
            str(prof.user_id), str(prof.user), creds, _windows(hours[prof.user_id] or DEFAULT_STAFF_HOURS),
            prof.max_weekly_hours * 60))
        ctx.staff_names[str(prof.user_id)] = str(prof.user)
    rooms = []
    for r in Room.objects.filter(site__organization=organization, is_active=True):
        rooms.append(engine.Room(str(r.pk), str(r.site_id), r.capacity, room_kind(r)))
        ctx.room_names[str(r.pk)] = r.name
    ctx.tracks = {str(t.code): t for t in tracks}
    engine_tracks = tuple(
        engine.Track(str(t.code), str(programs[t.program_id].code),
                     f"{t.name} track ({t.days_label} {t.start_time:%H:%M}-{t.end_time:%H:%M})")
        for t in tracks
    )
    ctx.instance = engine.Instance(tuple(people), tuple(clinicians), tuple(rooms), tuple(groups),
                                   engine_tracks, travel_minutes=travel_between_sites(organization),
                                   label=f"{organization.slug} {week_start}")
    return ctx


# Travel between two sites of the organization, from their coordinates: straight-line
# distance at an urban average of 15 mph plus 10 minutes to leave one and settle in at the
# other, rounded up to 5 minutes. An operational assumption, not a clinical rule; sites
# without coordinates get the engine's default (30 minutes).
TRAVEL_MPH = 15
TRAVEL_FIXED_MINUTES = 10


def travel_between_sites(organization: Organization) -> dict[tuple[str, str], int]:
    sites = [s for s in Site.objects.filter(organization=organization)
             if s.latitude is not None and s.longitude is not None]
    out: dict[tuple[str, str], int] = {}
    for i, a in enumerate(sites):
        for b in sites[i + 1:]:
            miles = haversine_miles(a.latitude, a.longitude, b.latitude, b.longitude)
            minutes = miles / TRAVEL_MPH * 60 + TRAVEL_FIXED_MINUTES
            out[(str(a.pk), str(b.pk))] = int(math.ceil(minutes / 5) * 5)
    return out


APPOINTMENT_TITLES = {"individual": "Individual therapy", "family": "Family session",
                      "medication": "Medication review"}


def therapist_change_rows(ctx: WeekContext, plan: engine.Plan) -> list[dict]:
    """The plan's "therapist changes" as rows for the diff: each appointment booked with
    someone other than the participant's usual clinician, who takes it instead, and why.
    Sorted by participant name, then time."""
    when = {a.need: a.start for a in plan.appointments}
    rows = []
    for change in plan.therapist_changes:
        person = ctx.participants.get(change.participant)
        rows.append({
            "participant": change.participant,
            "name": person.display_name if person is not None else change.participant,
            "what": APPOINTMENT_TITLES.get(change.kind, change.kind.title()),
            "when": ctx.to_datetime(when[change.need]).isoformat(),
            "usual": ctx.staff_names.get(change.usual, ""),
            "usual_role": change.usual_role,
            "assigned": ctx.staff_names.get(change.assigned, ""),
            "reason": change.reason,
        })
    return sorted(rows, key=lambda r: (r["name"], r["when"]))


def track_move_rows(ctx: WeekContext, plan: engine.Plan) -> list[dict]:
    """The plan's proposed track moves as rows for the diff: each person the plan seats in
    an acceptable other track rather than their own, and why their own track does not serve
    them this week. Sorted by participant name. Linear in the week: seats taken are counted
    in one pass over the plan's group bookings."""
    moves = plan.track_moves(ctx.instance)
    if not moves:
        return []
    taken: dict[str, int] = defaultdict(int)
    for sids in plan.group_bookings.values():
        for sid in sids:
            taken[sid] += 1
    by_track: dict[str, list[engine.GroupSession]] = defaultdict(list)
    for g in ctx.instance.groups:
        by_track[g.track].append(g)
    track_of = {g.id: g.track for g in ctx.instance.groups}
    people = {p.id: p for p in ctx.instance.participants}
    rows = []
    for pid, own, other in moves:
        p, person = people[pid], ctx.participants[pid]
        own_name, other_name = ctx.tracks[own].name, ctx.tracks[other].name
        attendable = [g for g in by_track[own]
                      if not any(w.overlaps(g.start, g.end) for w in p.busy)]
        full = [g for g in attendable if taken[g.id] >= g.capacity]
        if not by_track[own]:
            reason = f"the {own_name} track has no sessions this week"
        elif not attendable:
            kept = sorted({w.label for w in p.busy if w.label
                           and any(w.overlaps(g.start, g.end) for g in by_track[own])})
            reason = (f"cannot attend the {own_name} track's sessions this week"
                      + (f" ({', '.join(kept)})" if kept else ""))
        elif full:
            reason = (f"no seat in the {own_name} track: {len(full)} of the {len(attendable)} "
                      f"session{'s' if len(attendable) != 1 else ''} they can attend "
                      f"{'are' if len(full) != 1 else 'is'} full")
        else:
            reason = (f"the {other_name} track brings them closer to the weekly minimum "
                      f"than the {own_name} sessions they can attend")
        rows.append({
            "participant": pid, "name": person.display_name, "code": str(person.code),
            "enrollment": str(ctx.enrollments[pid].code), "from_track": own_name,
            "to_track": other_name, "from_code": own, "to_code": other, "reason": reason,
            "sessions": sum(1 for sid in plan.group_bookings.get(pid, ())
                            if track_of.get(sid) == other),
        })
    return sorted(rows, key=lambda r: (r["name"], r["participant"]))
