"""Why an appointment went to another clinician than the participant's usual one.

Continuity is a rule of the objective (options.W_THERAPIST_CHANGE): the usual clinician is
replaced only when they cannot take the appointment this week. For every replacement the
plan states which of these held for each of the usual clinician's candidate times, in
plain words, so the diff can show a "therapist changes" section with reasons. Everything
is indexed once per plan (by clinician and day), so the cost is linear in the week.
"""

from __future__ import annotations

from collections import defaultdict

from .model import (
    MINUTES_PER_DAY,
    Appointment,
    Instance,
    Need,
    Participant,
    TherapistChange,
    fmt_hours,
)
from .options import Options


def therapist_changes(
    instance: Instance, options: Options, appointments: list[Appointment] | tuple[Appointment, ...],
    group_bookings: dict[str, tuple[str, ...]],
) -> tuple[TherapistChange, ...]:
    needs: dict[str, tuple[Participant, Need]] = {
        n.id: (p, n) for p in instance.participants for n in p.needs}
    moved = [a for a in appointments
             if needs[a.need][1].preferred_clinician
             and a.clinician != needs[a.need][1].preferred_clinician]
    if not moved:
        return ()
    clinicians = {c.id: c for c in instance.clinicians}
    groups = {g.id: g for g in instance.groups}
    load: dict[str, int] = dict(options.clinician_fixed_minutes)
    by_clinician_day: dict[tuple[str, int], list[Appointment]] = defaultdict(list)
    own: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in appointments:
        load[a.clinician] = load.get(a.clinician, 0) + a.end - a.start
        by_clinician_day[(a.clinician, a.start // MINUTES_PER_DAY)].append(a)
        own[a.participant].append((a.start, a.end))
    out = []
    for a in sorted(moved, key=lambda a: (a.participant, a.need)):
        p, need = needs[a.need]
        usual = need.preferred_clinician or ""
        c = clinicians.get(usual)
        name = c.name if c else "The usual clinician"
        booked = own[p.id] + [(groups[s].start, groups[s].end) for s in group_bookings.get(p.id, ())
                              if s in groups]
        candidates = [o for o in options.appointments[p.id].get(need.id, []) if o.preferred]
        if c is None:
            reason = "the usual clinician is not on this week's roster"
        elif need.credentials and not (c.credentials & need.credentials):
            reason = f"{name} does not hold a credential this appointment requires"
        elif not candidates:
            reason = (f"{name} does not work at any time the participant is free this week "
                      "(outside their commitments and sessions)")
        elif load.get(usual, 0) + need.minutes > c.max_weekly_minutes:
            reason = f"{name}'s weekly maximum of {fmt_hours(c.max_weekly_minutes)} is reached"
        else:
            taken = clash = 0
            for o in candidates:
                if any(s < o.end and o.start < e for s, e in booked if (s, e) != (a.start, a.end)):
                    clash += 1
                elif any(b.start < o.end and o.start < b.end
                         for b in by_clinician_day.get((usual, o.start // MINUTES_PER_DAY), ())):
                    taken += 1
            parts = []
            if taken:
                parts.append(f"{name}'s free times are taken by other due appointments")
            if clash:
                parts.append(f"the times {name} is free clash with the participant's sessions "
                             "this week")
            if not parts:
                parts.append(f"no room was free at the times {name} is free")
            reason = "; ".join(parts)
        out.append(TherapistChange(a.need, p.id, need.kind, usual, a.clinician,
                                   reason[0].upper() + reason[1:] + "."))
    return tuple(out)
