"""Continuity of the usual clinician: keeping it, and saying why when it cannot be kept.

Continuity is a rule of the objective (options.W_THERAPIST_CHANGE): the usual clinician is
replaced only when they cannot take the appointment this week. `keep_usual` makes that
hold for any selection (greedy's, or a solver's stopped by its time limit) by moving each
stand-in appointment back to the usual clinician wherever they and the participant are
both free; verify.avoidable_changes re-checks it from the instance. For every replacement
left, the plan states which of these held for each of the usual clinician's candidate
times, in plain words, so the diff can show a "therapist changes" section with reasons.
Everything is indexed once per plan (by clinician and day), so the cost is linear in the
week.
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
from .options import (
    W_SHORT_MINUTE,
    W_SKIPPED_GROUP,
    W_THERAPIST_CHANGE,
    AppointmentOption,
    GroupOption,
    Options,
)
from .resources import Ledger


def keep_usual(instance: Instance, options: Options, chosen: set[int]) -> set[int]:
    """The selection with every stand-in appointment moved back to the usual clinician
    wherever the usual clinician has a free start in it (clinician time, weekly maximum,
    rooms, and the participant's other choices), listed or past the shortlist's cut
    (Options.usual_reserve; a start taken from there becomes a listed candidate).

    A start that clashes only with group sessions the participant could skip is taken too,
    giving those up, when that leaves the person's weekly minimum as it was and costs less
    than a change of clinician on the objective's scale (the weights rank continuity above
    a group session and below the minimum). Used after greedy and after a solver stopped
    by its time limit; every move lowers the objective and keeps the people at the
    minimum. Linear in the selection.
    """
    chosen = set(chosen)
    stand_ins = [o for p in instance.participants for lst in options.appointments[p.id].values()
                 for o in lst if o.key in chosen and o.need.preferred_clinician and not o.preferred]
    if not stand_ins:
        return chosen
    ledger = Ledger(instance, options)
    for p in instance.participants:
        for lst in options.appointments[p.id].values():
            for o in lst:
                if o.key in chosen:
                    ledger.take_appointment(o)
    people = {p.id: p for p in instance.participants}
    for o in stand_ins:
        ledger.release_appointment(o)
        chosen.discard(o.key)
        back, give_up = _usual_start(instance, options, people[o.participant], o, chosen,
                                     ledger)
        chosen -= give_up
        ledger.take_appointment(back)
        chosen.add(back.key)
    return chosen


def _usual_start(
    instance: Instance, options: Options, p: Participant, o: AppointmentOption,
    chosen: set[int], ledger: Ledger,
) -> tuple[AppointmentOption, set[int]]:
    """The usual clinician's first free start for `o`'s need and the group sessions to give
    up for it (none when a start is free outright), or `o` itself when there is none.
    Clashes are the options' own rule (overlap, or less than the travel time between
    sites), tested against this person's options only."""
    mine: list[GroupOption | AppointmentOption] = [
        *options.groups[p.id],
        *(x for lst in options.appointments[p.id].values() for x in lst if x.need.id != o.need.id)]
    booked = [x for x in mine if x.key in chosen]

    def apart(x: GroupOption | AppointmentOption, start: int, end: int) -> bool:
        gap = instance.travel(o.site, x.site)
        return not (x.start < end + gap and start < x.end + gap)

    def in_the_way(start: int, end: int) -> set[int]:
        return {x.key for x in booked if not apart(x, start, end)}
    skippable = {g.key: g for g in options.groups[p.id] if g.key in chosen and not g.pinned}
    # The appointment's own minutes count wherever it is booked.
    minutes = options.fixed_minutes[p.id] + o.counted + sum(x.counted for x in booked)

    def worth_it(blocking: set[int]) -> bool:
        if not blocking <= skippable.keys():
            return False
        after = minutes - sum(skippable[k].counted for k in blocking)
        if minutes >= p.minimum_minutes > after:
            return False  # the minimum comes before continuity
        short = max(0, p.minimum_minutes - after) - max(0, p.minimum_minutes - minutes)
        # Left under the change's weight: room for the small tiers (travel, moves, balance).
        return (W_SKIPPED_GROUP * len(blocking) + W_SHORT_MINUTE * short
                < W_THERAPIST_CHANGE - 1_000)

    best: tuple[AppointmentOption, set[int]] | None = None
    for c in options.appointments[p.id][o.need.id]:
        if not c.preferred or not ledger.appointment_ok(c):
            continue
        blocking = in_the_way(c.start, c.end)
        if not blocking:
            return c, set()
        if (best is None or len(blocking) < len(best[1])) and worth_it(blocking):
            best = (c, blocking)

    usual = o.need.preferred_clinician or ""
    reserve = options.usual_reserve.get(o.need.id, [])
    found: tuple[int, set[int]] | None = None
    for start in reserve:
        end = start + o.need.minutes
        if not ledger.appointment_ok(AppointmentOption(-1, p.id, o.need, usual, start, end,
                                                       o.site, True)):
            continue
        blocking = in_the_way(start, end)
        if not blocking:
            found = (start, set())
            break
        if (best is None and (found is None or len(blocking) < len(found[1]))
                and worth_it(blocking)):
            found = (start, blocking)
    if found is None:
        return best if best is not None else (o, set())
    # A reserve start becomes a listed candidate, with its conflicts (a model built later
    # stays exact).
    start, blocking = found
    end = start + o.need.minutes
    cand = AppointmentOption(options.next_key, p.id, o.need, usual, start, end, o.site, True)
    options.next_key += 1
    reserve.remove(start)
    options.appointments[p.id][o.need.id].append(cand)
    for x in mine:
        if not apart(x, start, end):
            options.conflicts.append((x.key, cand.key))
    return cand, blocking


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
        # The usual clinician's listed times and those past the shortlist's cut.
        candidates = [(o.start, o.end) for o in options.appointments[p.id].get(need.id, [])
                      if o.preferred] + [(t, t + need.minutes)
                                         for t in options.usual_reserve.get(need.id, ())]
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
            for start, end in candidates:
                if any(s < end and start < e for s, e in booked if (s, e) != (a.start, a.end)):
                    clash += 1
                elif any(b.start < end and start < b.end
                         for b in by_clinician_day.get((usual, start // MINUTES_PER_DAY), ())):
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
        if need.usual_role:
            # The care team named this clinician for the appointment (e.g. the family
            # therapist): say so first, then why they cannot take it.
            who = f"{need.usual_role} {c.name}" if c else f"the named {need.usual_role}"
            reason = f"{who} cannot take it this week: {reason}"
        out.append(TherapistChange(a.need, p.id, need.kind, usual, a.clinician,
                                   reason[0].upper() + reason[1:] + ".", need.usual_role))
    return tuple(out)
