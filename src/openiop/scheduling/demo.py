"""Demo data for scheduling: session templates for every track, flexible appointment
templates per program, staff working hours, a closure day, and family-involvement
consents for the adolescents (so the planner books family sessions every two weeks).

The core step already generated six weeks of sessions, bookings and attendance; nothing
here duplicates them.
"""

from __future__ import annotations

from datetime import time, timedelta

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext
from openiop.demo.history import ADULT_DAY, HOLISTIC_ROTATION, TEEN_DAY
from openiop.participants.models import Consent

from .models import SessionTemplate, SiteClosure, StaffHours

HOURS = {
    # username: [(weekdays, start, end)]
    "clinician": [(range(4), time(10), time(20)), ([4], time(8), time(14))],
    "lmft": [(range(5), time(12), time(21))],
    "counselor": [(range(5), time(12), time(21))],
    "associate": [(range(5), time(8), time(17))],
    "yoga": [(range(6), time(8), time(21))],
    "prescriber": [(range(5), time(8), time(17)), ([1, 3], time(17), time(20))],
    "np": [(range(5), time(11), time(20))],
    "nurse": [(range(5), time(8), time(17))],
}

FLEXIBLE = (
    # kind, title, minutes, counts toward hours, credentials (any of)
    ("individual", "Individual therapy", 50, True, ["LCSW", "LPC", "LMFT"]),
    # Family therapy by a licensed marriage and family therapist (the demo clinic's choice).
    ("family", "Family session", 50, True, ["LMFT"]),
    ("medication", "Medication review", 25, False, ["MD", "NP"]),
)


def build(ctx: DemoContext) -> None:
    ctx.progress("session templates for every track")
    staff = ctx.staff
    facilitators = {
        "group": [staff["clinician"], staff["counselor"], staff["lmft"]],
        "psychoeducation": [staff["counselor"], staff["associate"]],
        "skills": [staff["associate"], staff["clinician"]],
    }
    rows = []
    for track in ctx.tracks:
        layout = TEEN_DAY if track.program.population == "adolescent" else ADULT_DAY
        for day in sorted(track.weekdays):
            cursor = ctx.at(ctx.today, track.start_time)
            for n, (kind, title, minutes) in enumerate(layout):
                if kind == "holistic":
                    kind, title = HOLISTIC_ROTATION[(day + track.pk) % len(HOLISTIC_ROTATION)]
                end = cursor + timedelta(minutes=minutes)
                pool = facilitators.get(kind, [staff["yoga"]])
                rows.append(SessionTemplate(
                    program=track.program, track=track, kind=kind, title=f"{title} ({track.name})",
                    weekday=day, start_time=cursor.time(), end_time=end.time(),
                    duration_minutes=minutes, counts_toward_hours=True,
                    required_credentials=["RYT"] if kind == "yoga" else [],
                    room=track.room, facilitator=pool[(day + n + track.pk) % len(pool)],
                    capacity=track.capacity,
                ))
                cursor = end
    for program in ctx.programs.values():
        for kind, title, minutes, counts, creds in FLEXIBLE:
            rows.append(SessionTemplate(program=program, kind=kind, title=title,
                                        duration_minutes=minutes, counts_toward_hours=counts,
                                        required_credentials=creds,
                                        capacity=6 if kind == "family" else 1))
    SessionTemplate.objects.bulk_create(rows, batch_size=1000)

    hours = []
    for username, spans in HOURS.items():
        for days, start, end in spans:
            hours.extend(StaffHours(user=staff[username], weekday=d, start_time=start, end_time=end)
                         for d in days)
    StaffHours.objects.bulk_create(hours)
    closure_day = ctx.today + timedelta(days=(3 - ctx.today.weekday()) % 7 + 21)
    SiteClosure.objects.create(organization=ctx.organization, date=closure_day,
                               reason="Staff training day (clinic closed)")

    teens = [ep.participant for ep in ctx.episodes
             if ep.status == EpisodeOfCare.Status.ACTIVE and ep.program.population == "adolescent"]
    Consent.objects.bulk_create([
        Consent(participant=p, kind=Consent.Kind.FAMILY_INVOLVEMENT,
                related_person=None, purpose="Family sessions as part of treatment",
                text="I agree that my parent or guardian takes part in family sessions. "
                "(Synthetic demo consent.)", granted_at=ctx.at(ctx.history_start, time(10)),
                recorded_by=staff["intake"])
        for p in teens
    ], batch_size=1000)
    ctx.progress(f"{len(rows)} templates, {len(hours)} staff hour windows, "
                 f"{len(teens)} family-involvement consents, closure on {closure_day}")
