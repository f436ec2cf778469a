"""The demo clinic's past and near future: six weeks of sessions through the next two, with
bookings and attendance, none on a site's public holidays (run by the core step of
`openiop.demo.generator`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from openiop.accounts.models import User
from openiop.care.models import EpisodeOfCare, Track
from openiop.organizations.models import Room
from openiop.participants.models import Availability, Participant
from openiop.scheduling.models import Attendance, Booking, Session

if TYPE_CHECKING:
    from .generator import DemoContext


# Session layout of one track day: (kind, title, minutes). Adult tracks are 3 h, teen 2 h.
ADULT_DAY = (
    ("group", "Process group", 90),
    ("psychoeducation", "Psychoeducation", 60),
    ("holistic", "", 30),
)
TEEN_DAY = (("group", "Teen process group", 60), ("skills", "Skills group", 60))
HOLISTIC_ROTATION = (
    ("mindfulness", "Mindfulness practice"), ("yoga", "Gentle yoga"),
    ("art", "Art therapy"), ("exercise", "Movement and exercise"),
)

ATTENDANCE_WEIGHTS = (
    (Attendance.Status.PRESENT, 84), (Attendance.Status.LATE, 5),
    (Attendance.Status.LEFT_EARLY, 3), (Attendance.Status.ABSENT, 6),
    (Attendance.Status.EXCUSED, 2),
)


def _holiday_closures(ctx: DemoContext, start: date, end: date) -> set[tuple[int, date]]:
    """Close every site on its public holidays between start and end (SiteClosure rows, as
    the director's "add public holidays" does), before any session is placed; returns the
    closed (site id, day) pairs the demo schedule skips."""
    from openiop.scheduling.models import SiteClosure
    from openiop.scheduling.services.setup import site_holidays

    closures = [
        SiteClosure(organization=ctx.organization, site=site, date=day, reason=name[:120])
        for site in ctx.sites for year in range(start.year, end.year + 1)
        for day, name in sorted(site_holidays(site, year).items()) if start <= day <= end
    ]
    SiteClosure.objects.bulk_create(closures)
    ctx.progress(f"{len(closures)} public-holiday closures")
    return {(c.site_id, c.date) for c in closures}


def build_history(ctx: DemoContext) -> None:
    """Sessions from six weeks ago through the next two weeks, with bookings and
    attendance; none on a site's closed days (its public holidays)."""
    shared = ctx.rng
    start = ctx.history_start
    end = ctx.today - timedelta(days=ctx.today.weekday()) + timedelta(days=20)
    now = ctx.now
    closed = _holiday_closures(ctx, start, end)
    ctx.progress(f"sessions {start} to {end}")
    facilitators = {
        "group": [ctx.staff["clinician"], ctx.staff["counselor"], ctx.staff["lmft"]],
        "psychoeducation": [ctx.staff["counselor"], ctx.staff["associate"], ctx.staff["clinician"]],
        "skills": [ctx.staff["associate"], ctx.staff["clinician"]],
        "holistic": [ctx.staff["yoga"]],
    }
    members: dict[int, list[tuple[Participant, date, date | None]]] = {}
    for ep in ctx.episodes:
        for enr in ep.enrollments.all():
            members.setdefault(enr.track_id, []).append((ep.participant, enr.start_date, enr.end_date))

    sessions: list[Session] = []
    session_members: list[list[Participant]] = []
    group_busy: dict[int, list[tuple[datetime, datetime]]] = {}
    # A track's place in the clinic's list, not its primary key: the same in every database.
    track_no = {track.pk: no for no, track in enumerate(ctx.tracks)}

    def group_sessions(tracks: list[Track]) -> None:
        day = start
        day_index = 0
        while day <= end:
            for track in tracks:
                if day.weekday() not in track.weekdays or (track.program.site_id, day) in closed:
                    continue
                layout = TEEN_DAY if track.program.population == "adolescent" else ADULT_DAY
                cursor = ctx.at(day, track.start_time)
                roster = [p for p, s, e in members.get(track.pk, [])
                          if s <= day and (e is None or day <= e)]
                for n, (kind, title, minutes) in enumerate(layout):
                    if kind == "holistic":
                        kind, title = HOLISTIC_ROTATION[
                            (day_index + track_no[track.pk]) % len(HOLISTIC_ROTATION)]
                    pool = facilitators.get(kind, facilitators["holistic"])
                    room = (ctx.rooms["Studio"] if kind == "yoga"
                            and track.room.site_id == ctx.sites[0].pk else track.room)
                    # Rotate facilitators, skipping anyone already leading a group (or seeing
                    # a featured persona) then; parallel cohorts of a very large demo may
                    # still share one.
                    rotation = [pool[(day_index + n + track_no[track.pk] + j) % len(pool)]
                                for j in range(len(pool))]
                    slot = (cursor, cursor + timedelta(minutes=minutes))
                    lead = next((u for u in rotation if all(
                        slot[1] <= a or slot[0] >= b for a, b in group_busy.get(u.pk, ()))),
                        rotation[0])
                    group_busy.setdefault(lead.pk, []).append(slot)
                    sessions.append(Session(
                        program=track.program, track=track, kind=kind,
                        title=f"{title} ({track.name})", starts_at=cursor,
                        ends_at=cursor + timedelta(minutes=minutes), site=track.program.site,
                        room=room, facilitator=lead,
                        capacity=track.capacity,
                        status=(Session.Status.COMPLETED if cursor + timedelta(minutes=minutes) < now
                                else Session.Status.SCHEDULED),
                    ))
                    session_members.append(roster)
                    cursor += timedelta(minutes=minutes)
            day += timedelta(days=1)
            day_index += 1

    # Individual therapy weekly, medication review every 4 weeks for those with a
    # prescriber, family sessions every 2 weeks for teens: each in the first free slot
    # that double-books no clinician, room or participant and avoids the participant's
    # work and school windows (what a scheduler would do).
    def minutes_of(t: time) -> int:
        return t.hour * 60 + t.minute

    busy: dict[tuple[str, int, date], list[tuple[int, int]]] = {}

    def is_free(key: tuple[str, int, date], a: int, b: int) -> bool:
        return all(b <= s0 or a >= e0 for s0, e0 in busy.get(key, ()))

    def occupy(key: tuple[str, int, date], a: int, b: int) -> None:
        busy.setdefault(key, []).append((a, b))

    def occupy_sessions(placed: list[Session]) -> None:
        for s_ in placed:
            local = s_.starts_at.astimezone(ctx.tz)
            a = local.hour * 60 + local.minute
            b = a + int((s_.ends_at - s_.starts_at).total_seconds() // 60)
            occupy(("staff", s_.facilitator_id, local.date()), a, b)
            occupy(("room", s_.room_id, local.date()), a, b)

    windows_by_person: dict[int, list[tuple[int, int, int]]] = {}
    for w_ in Availability.objects.filter(participant__organization=ctx.organization).order_by(
        "participant_id", "weekday", "start_time", "pk"
    ).values_list(
        "participant_id", "weekday", "start_time", "end_time"
    ):
        windows_by_person.setdefault(w_[0], []).append(
            (w_[1], minutes_of(w_[2]), minutes_of(w_[3])))

    offices = [r for k, r in ctx.rooms.items() if k.startswith("Office")]
    candidate_starts = [minutes_of(time(h, m)) for h in range(8, 20) for m in (0, 30)]

    def place(ep: EpisodeOfCare, track: Track, week: date, who: User, minutes: int,
              rooms: list[Room], day_order: list[int]) -> tuple[datetime, Room] | None:
        person = ep.participant_id
        for weekday in day_order:
            day = week + timedelta(days=weekday)
            if (ep.program.site_id, day) in closed:
                continue
            blocked = [(s0, e0) for wd, s0, e0 in windows_by_person.get(person, ())
                       if wd == weekday]
            if weekday in track.weekdays:
                blocked.append((minutes_of(track.start_time), minutes_of(track.end_time)))
            preferred = [minutes_of(track.end_time), minutes_of(track.start_time) - minutes - 10]
            for a in preferred + candidate_starts:
                b = a + minutes
                if a < 8 * 60 or b > 21 * 60:
                    continue
                if any(not (b + 10 <= s0 or a >= e0 + 10) for s0, e0 in blocked):
                    continue
                if not is_free(("staff", who.pk, day), a, b) or not is_free(
                        ("person", person, day), a, b):
                    continue
                room = next((r for r in rooms if is_free(("room", r.pk, day), a, b)), None)
                if room is None:
                    continue
                occupy(("staff", who.pk, day), a, b)
                occupy(("room", room.pk, day), a, b)
                occupy(("person", person, day), a, b)
                return ctx.at(day, time(a // 60, a % 60)), room
        return None

    def appointments(number: int, ep: EpisodeOfCare) -> None:
        enr = next(iter(ep.enrollments.all()), None)
        if enr is None:
            return
        track = enr.track
        site_rooms = [r for r in offices if r.site_id == ep.program.site_id] or offices
        track_days = sorted(track.weekdays)
        other_days = [d for d in range(5) if d not in track_days]
        week = start
        w = 0
        while week <= end:
            monday_in = enr.start_date <= week + timedelta(days=6)
            still_in = enr.end_date is None or week <= enr.end_date
            if monday_in and still_in:
                appts = [("individual", "Individual therapy", ep.primary_therapist, 50,
                          site_rooms)]
                if ep.prescriber and w % 4 == number % 4:
                    appts.append(("medication", "Medication review", ep.prescriber, 25,
                                  site_rooms))
                if ep.program.population == "adolescent" and w % 2 == 0:
                    appts.append(("family", "Family session", ctx.staff["lmft"], 50,
                                  [ctx.rooms["Family Room"], *site_rooms]))
                for k, (kind, title, who, minutes, rooms) in enumerate(appts):
                    order = track_days[k % len(track_days):] + track_days[:k % len(track_days)]
                    spot = place(ep, track, week, who, minutes, rooms, order + other_days)
                    if spot is None:
                        continue
                    starts, room = spot
                    if starts.date() < enr.start_date or (
                            enr.end_date and starts.date() > enr.end_date):
                        continue
                    sessions.append(Session(
                        program=ep.program, track=None, kind=kind, title=title,
                        starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                        site=ep.program.site, room=room, facilitator=who,
                        capacity=6 if kind == "family" else 1,
                        status=Session.Status.COMPLETED if starts + timedelta(minutes=minutes) < now
                        else Session.Status.SCHEDULED,
                    ))
                    session_members.append([ep.participant])
                    # Seen by the lead rotation of groups generated after it.
                    group_busy.setdefault(who.pk, []).append(
                        (starts, starts + timedelta(minutes=minutes)))
            week += timedelta(weeks=1)
            w += 1

    # The clinic's first cohort of each track (every clinic size has it), then the featured
    # personas' own appointments, then the parallel cohorts of a larger clinic, then
    # everyone else's appointments: the featured personas' calendar (and so their chart) is
    # the same at every size, and the parallel cohorts' groups are led around it.
    base = ctx.extra.get("base_tracks", len(ctx.tracks))
    group_sessions(ctx.tracks[:base])
    occupy_sessions(sessions)
    numbered = list(enumerate(ctx.episodes))
    for number, ep in numbered:
        if ep.participant_id in ctx.featured:
            appointments(number, ep)
    placed = len(sessions)
    group_sessions(ctx.tracks[base:])
    occupy_sessions(sessions[placed:])
    for number, ep in numbered:
        if ep.participant_id not in ctx.featured:
            appointments(number, ep)

    ctx.progress(f"{len(sessions):,} sessions")
    ctx.bulk_create(sessions, label="sessions", batch_size=1000)
    bookings = [
        Booking(session_id=session.pk, participant_id=person.pk)
        for session, roster in zip(sessions, session_members, strict=True)
        for person in roster
    ]
    ctx.progress(f"{len(bookings):,} bookings and their attendance")
    ctx.bulk_create(bookings, label="bookings")
    by_session = {s.pk: s for s in sessions}
    statuses = [s for s, _ in ATTENDANCE_WEIGHTS]
    weights = [w for _, w in ATTENDANCE_WEIGHTS]
    recorder = ctx.staff["frontdesk"]
    attendance: list[Attendance] = []
    for booking in bookings:
        session = by_session[booking.session_id]
        if session.ends_at >= now:
            continue
        rng = ctx.rng_for(booking.participant_id, default=shared)
        status = rng.choices(statuses, weights)[0]
        length = session.duration_minutes
        minutes = {
            Attendance.Status.PRESENT: length,
            Attendance.Status.LATE: max(length - rng.choice([10, 15, 20]), 0),
            Attendance.Status.LEFT_EARLY: max(length - rng.choice([15, 20, 30]), 0),
        }.get(status, 0)
        attendance.append(Attendance(booking_id=booking.pk, status=status,
                                     minutes_attended=minutes, recorded_by_id=recorder.pk))
    ctx.bulk_create(attendance, label="attendance")
    ctx.progress(f"{len(bookings):,} bookings, {len(attendance):,} attendance records")
    ctx.extra["session_kinds"] = sorted({s.kind for s in sessions})
