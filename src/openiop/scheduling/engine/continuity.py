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
from .options import AppointmentOption, GroupOption, Options
from .resources import Ledger


def keep_usual(instance: Instance, options: Options, chosen: set[int]) -> set[int]:
    """The selection with every stand-in appointment moved back to the usual clinician
    wherever the usual clinician has a free start in it (clinician time, weekly maximum,
    rooms, and the participant's other choices), listed or past the shortlist's cut
    (Options.usual_reserve; a start taken from there becomes a listed candidate). Used
    after greedy and after a solver stopped by its time limit: each move removes a change
    of clinician, which outweighs anything moving one appointment can cost
    (options.W_THERAPIST_CHANGE), and the minutes stay the same. Linear in the selection.
    """
    chosen = set(chosen)
    stand_ins = [o for p in instance.participants for lst in options.appointments[p.id].values()
                 for o in lst if o.key in chosen and o.need.preferred_clinician and not o.preferred]
    if not stand_ins:
        return chosen
    clash: dict[int, set[int]] = defaultdict(set)
    for a, b in options.conflicts:
        clash[a].add(b)
        clash[b].add(a)
    ledger = Ledger(instance, options)
    for p in instance.participants:
        for lst in options.appointments[p.id].values():
            for o in lst:
                if o.key in chosen:
                    ledger.take_appointment(o)
    for o in stand_ins:
        ledger.release_appointment(o)
        chosen.discard(o.key)
        back = next((c for c in options.appointments[o.participant][o.need.id] if c.preferred
                     and not (clash[c.key] & chosen) and ledger.appointment_ok(c)), None)
        if back is None:
            back = _from_reserve(instance, options, o, chosen, ledger, clash) or o
        ledger.take_appointment(back)
        chosen.add(back.key)
    return chosen


def _from_reserve(instance: Instance, options: Options, o: AppointmentOption, chosen: set[int],
                  ledger: Ledger, clash: dict[int, set[int]]) -> AppointmentOption | None:
    """The first free start of the usual clinician past the shortlist's cut, added to the
    options as a candidate of the need (with its conflicts, so a model built later stays
    exact)."""
    starts = options.usual_reserve.get(o.need.id)
    if not starts:
        return None
    mine = [x for x in options.groups[o.participant]] + [
        x for lst in options.appointments[o.participant].values() for x in lst
        if x.need.id != o.need.id]

    def apart(x: GroupOption | AppointmentOption, start: int, end: int) -> bool:
        gap = instance.travel(o.site, x.site)
        return not (x.start < end + gap and start < x.end + gap)

    usual = o.need.preferred_clinician or ""
    for start in starts:
        end = start + o.need.minutes
        cand = AppointmentOption(options.next_key, o.participant, o.need, usual, start, end,
                                 o.site, True)
        if not ledger.appointment_ok(cand) or not all(
                apart(x, start, end) for x in mine if x.key in chosen):
            continue
        options.next_key += 1
        starts.remove(start)
        options.appointments[o.participant][o.need.id].append(cand)
        for x in mine:
            if not apart(x, start, end):
                options.conflicts.append((x.key, cand.key))
                clash[x.key].add(cand.key)
                clash[cand.key].add(x.key)
        return cand
    return None


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
