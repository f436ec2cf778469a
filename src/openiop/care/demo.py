"""Demo data for care: step-downs and step-ups, discharges with aftercare, waitlists.

Synthetic only. Runs right after the core step (DEMO_STEPS), bulk-created so that it
stays fast at 5,000 participants.
"""

from __future__ import annotations

from datetime import timedelta

from openiop.demo.generator import DemoContext

from .models import Discharge, Enrollment, EpisodeOfCare, LevelOfCareChange

NEXT_PROVIDERS = (
    "Dr. Lena Ortiz, Maple Street Counseling (weekly therapy)",
    "Northside Community Mental Health Center outpatient group",
    "Riverbend Outpatient: Thursday continuing-care group",
    "Primary care: Dr. Hughes, Riverside Family Medicine",
)
SUPPORTS = (
    "SMART Recovery Tuesday evenings; sister as support person; safety plan reviewed.",
    "Alumni group monthly; NAMI family group for partner; 988 on the phone.",
    "AA home group and sponsor; weekly check-in call with case manager.",
    "School counselor weekly; parents in family program; crisis plan on file.",
)
STEP_DOWN_CRITERIA = [
    "PHQ-9 below 10 on two consecutive weeks",
    "No safety concerns for 14 days",
    "Attending work or school again",
    "Relapse-prevention plan written",
]
STEP_UP_CRITERIA = [
    "PHQ-9 rose 5 or more points from baseline",
    "Missed 3 of the last 6 sessions",
    "Needs daily structure (ASAM dimension 5 rated 3)",
]


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    ctx.progress("level-of-care changes, discharges and waitlists")
    clinician = ctx.staff["clinician"]
    changes: list[LevelOfCareChange] = []
    discharges: list[Discharge] = []
    stepped_up: list[int] = []
    for i, ep in enumerate(ctx.episodes):
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        enrollment = next(iter(ep.enrollments.all()), None)
        track = enrollment.track if enrollment else None
        if ep.status == EpisodeOfCare.Status.FINISHED:
            length = (ep.discharged_on - ep.admitted_on).days
            path = i % 5
            if path in (0, 1):
                # Hospital step-down: PHP first, then IOP, then outpatient before discharge.
                changes.append(_change(ep, "PHP", "IOP", ep.admitted_on + timedelta(days=7),
                                       "Stable after partial hospitalization; ready for IOP.",
                                       STEP_DOWN_CRITERIA[1:3], track, clinician))
                changes.append(_change(ep, "IOP", "OP", ep.discharged_on - timedelta(days=10),
                                       "Goals met in IOP; continuing-care phase.",
                                       STEP_DOWN_CRITERIA[::2], track, clinician))
            reason = ("completed", "completed", "completed", "stepped_down", "against_advice",
                      "completed", "transferred", "administrative")[i % 8]
            discharges.append(Discharge(
                episode_id=ep.pk, discharged_on=ep.discharged_on, reason=reason,
                summary=f"Attended {rng.randint(60, 95)}% of scheduled sessions over "
                f"{length // 7} weeks. " + (
                    "Mood and anxiety scores improved; safety plan in place."
                    if reason in ("completed", "stepped_down", "transferred")
                    else "Left the program before completing it; outreach attempted twice."),
                next_provider=NEXT_PROVIDERS[i % len(NEXT_PROVIDERS)]
                if reason not in ("against_advice", "administrative") else "",
                aftercare_appointments=f"First appointment {ep.discharged_on + timedelta(days=6):%b %-d} "
                "at 4:00 PM; psychiatry follow-up in 4 weeks."
                if reason in ("completed", "stepped_down", "transferred") else "",
                medications="Continue current medications as prescribed; prescriber "
                "follow-up in 4 weeks." if ep.prescriber_id else "",
                supports=SUPPORTS[i % len(SUPPORTS)], recorded_by=ep.primary_therapist or clinician,
            ))
        elif ep.status == EpisodeOfCare.Status.ACTIVE:
            days_in = (ctx.today - ep.admitted_on).days
            if i % 6 == 1 and days_in > 14:
                # Admitted from a hospital stay at PHP, stepped down to IOP.
                changes.append(_change(ep, "PHP", "IOP", ep.admitted_on + timedelta(days=rng.randint(5, 10)),
                                       "Symptoms stabilized in partial hospitalization.",
                                       STEP_DOWN_CRITERIA[:2], track, clinician))
            elif i % 23 == 4 and days_in > 21:
                changes.append(_change(ep, "IOP", "PHP", ctx.today - timedelta(days=rng.randint(2, 6)),
                                       "Worsening depression despite full IOP attendance.",
                                       STEP_UP_CRITERIA[::2], track, clinician))
                stepped_up.append(ep.pk)
    LevelOfCareChange.objects.bulk_create(changes, batch_size=1000)
    Discharge.objects.bulk_create(discharges, batch_size=1000)
    if stepped_up:
        # Stepped up clinically; the payer still authorizes IOP (a flagged mismatch).
        EpisodeOfCare.objects.filter(pk__in=stepped_up).update(
            level_of_care="PHP", authorized_level_of_care="IOP")
    waitlisted = _waitlist(ctx)
    ctx.progress(f"{len(changes)} level changes, {len(discharges)} discharges, "
                 f"{len(stepped_up)} step-ups, {waitlisted} on waitlists")


def _change(ep: EpisodeOfCare, frm: str, to: str, on: object, reason: str,
            criteria: list[str], track: object, who: object) -> LevelOfCareChange:
    return LevelOfCareChange(
        episode_id=ep.pk, from_level=frm, to_level=to,
        direction="up" if ("OP", "IOP", "PHP").index(to) > ("OP", "IOP", "PHP").index(frm)
        else "down",
        effective_on=on, reason=reason, criteria_met=list(criteria), from_track=track,
        to_track=track, recorded_by=ep.primary_therapist or who,
    )


def _waitlist(ctx: DemoContext) -> int:
    """Fill the first adult track to capacity, then put two more people on its waitlist."""
    with_episode = {ep.participant_id for ep in ctx.episodes}
    free = [p for p in ctx.participants if p.pk not in with_episode and p.age_on(ctx.today) >= 18]
    track = next(t for t in ctx.tracks if t.program.population == "adult")
    active = Enrollment.objects.filter(track=track, status=Enrollment.Status.ACTIVE).count()
    needed = max(track.capacity - active, 0)
    people = free[: needed + 2]
    episodes = []
    for n, person in enumerate(people):
        waiting = n >= needed
        episodes.append(EpisodeOfCare(
            participant=person, program=track.program, level_of_care="IOP",
            status=EpisodeOfCare.Status.WAITLIST if waiting else EpisodeOfCare.Status.ACTIVE,
            authorized_level_of_care="IOP", admitted_on=ctx.today - timedelta(days=2 + n),
            primary_therapist=ctx.staff["clinician"],
        ))
    EpisodeOfCare.objects.bulk_create(episodes)
    created = list(EpisodeOfCare.objects.filter(participant__in=people, program=track.program)
                   .order_by("pk"))
    Enrollment.objects.bulk_create([
        Enrollment(episode=ep, track=track, start_date=ep.admitted_on,
                   status=Enrollment.Status.WAITLISTED if ep.status == EpisodeOfCare.Status.WAITLIST
                   else Enrollment.Status.ACTIVE)
        for ep in created
    ])
    ctx.extra["waitlisted_participants"] = [ep.participant_id for ep in created
                                            if ep.status == EpisodeOfCare.Status.WAITLIST]
    # Later steps (scheduling, outcomes) see these episodes too.
    ctx.episodes.extend(
        EpisodeOfCare.objects.filter(pk__in=[ep.pk for ep in created])
        .select_related("participant", "program").prefetch_related("enrollments__track"))
    return sum(1 for ep in created if ep.status == EpisodeOfCare.Status.WAITLIST)
