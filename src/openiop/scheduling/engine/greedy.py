"""Greedy baseline: the plan a careful scheduler would make by hand, for comparison.

Participants with the fewest options go first; each is booked into every attendable
session of the enrolled track while seats last, then each due appointment takes the
first free candidate in the same ranked order the CP-SAT model sees.
"""

from __future__ import annotations

import time
from collections import defaultdict

from .continuity import keep_usual
from .model import MINUTES_PER_DAY, Instance, Plan, PlanStatus
from .options import AppointmentOption, Options, build_options
from .plan import make_plan
from .resources import Ledger


def greedy_choice(instance: Instance, options: Options, groups: set[int] | None = None, *,
                  seated_first: bool = False, deadline: float | None = None) -> set[int]:
    """Greedy's selection. With `groups` (group option keys decided beforehand, e.g. by
    tracks.seats_and_tracks) those seats are booked instead of the enrolled track's, a
    due appointment left unbooked then gets one other appointment moved for it
    (`_book_the_unbooked`, which starts nothing new past `deadline`), and with
    `seated_first` the people those seats bring to the minimum book their appointments
    before the others."""
    ledger = Ledger(instance, options)
    chosen: set[int] = set()
    conflicts: dict[int, set[int]] = {}
    for a, b in options.conflicts:
        conflicts.setdefault(a, set()).add(b)
        conflicts.setdefault(b, set()).add(a)

    def free(key: int) -> bool:
        return not (conflicts.get(key, set()) & chosen)

    def n_options(pid: str) -> int:
        return len(options.groups[pid]) + sum(len(v) for v in options.appointments[pid].values())

    def short_with_seats(pid: str, minimum: int) -> bool:
        """Below the minimum with the seats decided beforehand, even with every due
        appointment booked."""
        assert groups is not None
        minutes = options.fixed_minutes[pid] + sum(
            o.counted for o in options.groups[pid] if o.key in groups) + sum(
            max((o.counted for o in lst), default=0) for lst in options.appointments[pid].values())
        return minutes < minimum

    if groups is None or not seated_first:
        order = sorted(instance.participants, key=lambda p: (n_options(p.id), p.id))
    else:
        # Those the seats bring to the minimum book their appointments first: their free
        # time is what the seats leave, and an appointment they cannot book costs them the
        # minimum; the others, with fewer seats, have more free times to take.
        order = sorted(instance.participants, key=lambda p: (
            short_with_seats(p.id, p.minimum_minutes), n_options(p.id), p.id))
    for p in order:
        primary = p.tracks[0] if p.tracks else None
        for o in options.groups[p.id]:
            wanted = o.key in groups if groups is not None else (o.track == primary or o.pinned)
            if wanted and free(o.key) and ledger.group_ok(o):
                ledger.take_group(o)
                chosen.add(o.key)
        group_keys = {o.key: o for o in options.groups[p.id]}
        for nid in sorted(options.appointments[p.id]):
            lst = options.appointments[p.id][nid]
            booked = False
            for appt in lst:
                if free(appt.key) and ledger.appointment_ok(appt):
                    ledger.take_appointment(appt)
                    chosen.add(appt.key)
                    booked = True
                    break
            if booked or groups is None:
                continue
            # Seats decided beforehand must not cost a due appointment (cadence comes
            # first): give up the fewest unpinned sessions in the way of its free time.
            best = None
            for appt in lst:
                blocking = conflicts.get(appt.key, set()) & chosen
                if (blocking and all(k in group_keys and not group_keys[k].pinned for k in blocking)
                        and ledger.appointment_ok(appt) and (best is None or len(blocking) < len(best[1]))):
                    best = (appt, blocking)
            if best is not None:
                appt, blocking = best
                for k in blocking:
                    chosen.discard(k)
                    ledger.taken[group_keys[k].session.id] -= 1
                ledger.take_appointment(appt)
                chosen.add(appt.key)
    if groups is not None:
        for _round in range(3):
            if not _book_the_unbooked(options, ledger, chosen, conflicts, deadline):
                break
    # Continuity is a rule: a stand-in booked early (before a later participant's own
    # appointments took their times) goes back to the usual clinician where that is free.
    return keep_usual(instance, options, chosen)


# Times tried per unbooked appointment (each tries to move one other appointment): keeps
# the pass linear in the week (measured on the generated school week of 300).
MAX_MOVE_ATTEMPTS = 48
# Other times checked for the appointment moved out of the way. Every attempt used to read
# the moved appointment's whole list (up to MAX_UNCAPPED_CANDIDATES once widened) with the
# clinician's whole week: on the week after a closure, where many due appointments stay
# unbookable and cost every attempt every round, the rebooking grew faster than the week
# (5 s at 200 participants, 30 s at 400). The list is ranked (usual clinician and good
# days first) and read once per appointment until the plan changes (`other_times`).
MAX_MOVE_TARGETS = 64


def _book_the_unbooked(
    options: Options, ledger: Ledger, chosen: set[int], conflicts: dict[int, set[int]],
    deadline: float | None = None,
) -> bool:
    """Book due appointments left unbooked, each at a time where at most one other
    appointment holds its clinician, moving that one to another of its own free times (an
    ejection chain of length one), and giving up the person's own unpinned seats in the
    way only when no time needs none (cadence comes first, as in the main pass). Booking
    around seats decided beforehand fills clinicians' times in another order than plain
    greedy; this is what it takes to book as many due appointments as greedy does.
    Bounded work per unbooked appointment (MAX_MOVE_ATTEMPTS times, MAX_MOVE_TARGETS
    other times for the one moved, a clinician's bookings read per day), so the pass is
    linear in the week; nothing new is started past `deadline`.
    Returns whether any was booked."""
    seat_of = {o.key: o for lst in options.groups.values() for o in lst}
    # (clinician, day) -> the appointments booked that day.
    booked: dict[tuple[str, int], list[AppointmentOption]] = defaultdict(list)

    def day(o: AppointmentOption) -> tuple[str, int]:
        return (o.clinician, o.start // MINUTES_PER_DAY)

    unbooked: list[list[AppointmentOption]] = []
    for pid in sorted(options.appointments):
        for nid in sorted(options.appointments[pid]):
            lst = options.appointments[pid][nid]
            held = [o for o in lst if o.key in chosen]
            if held:
                booked[day(held[0])].append(held[0])
            elif lst:
                unbooked.append(lst)

    def free(key: int) -> bool:
        return not (conflicts.get(key, set()) & chosen)

    # Where an appointment could go if it were moved, with the plan as it stands (it
    # released): read once per appointment, not once per attempt that would move it, until
    # a booking changes the plan. Taking `c` only takes clinician time and rooms, so a time
    # that is not free without `c` is not free with it either (the person's seats given up
    # for `c` free only that person's times: then the list is read again).
    places: dict[int, list[AppointmentOption]] = {}

    def other_times(moved: AppointmentOption) -> list[AppointmentOption]:
        found = places.get(moved.key)
        if found is None:
            found = []
            checked = 0
            for c2 in options.appointments[moved.participant][moved.need.id]:
                if c2.key == moved.key or not free(c2.key):
                    continue
                if ledger.appointment_ok(c2):
                    found.append(c2)
                checked += 1
                if checked >= MAX_MOVE_TARGETS:
                    break
            places[moved.key] = found
        return found

    def attempt(c: AppointmentOption, seats: set[int]) -> bool:
        blockers = [b for b in booked[day(c)] if b.start < c.end and c.start < b.end]
        if len(blockers) > 1:
            return False
        moved = blockers[0] if blockers else None
        targets: list[AppointmentOption] = []
        if moved is not None:
            ledger.release_appointment(moved)
            chosen.discard(moved.key)
            if moved.participant == c.participant and seats:
                targets = options.appointments[moved.participant][moved.need.id]
            else:
                targets = other_times(moved)
                if not targets:
                    ledger.take_appointment(moved)
                    chosen.add(moved.key)
                    return False
        if ledger.appointment_ok(c):
            ledger.take_appointment(c)
            chosen.add(c.key)
            for k in seats:
                chosen.discard(k)
                ledger.taken[seat_of[k].session.id] -= 1
            if moved is None:
                booked[day(c)].append(c)
                places.clear()  # the plan changed
                return True
            checked = 0
            for c2 in targets:
                if c2.key == moved.key or not free(c2.key):
                    continue
                if ledger.appointment_ok(c2):
                    ledger.take_appointment(c2)
                    chosen.add(c2.key)
                    booked[day(moved)].remove(moved)
                    booked[day(c)].append(c)
                    booked[day(c2)].append(c2)
                    places.clear()  # the plan changed
                    return True
                checked += 1
                if checked >= MAX_MOVE_TARGETS:
                    break
            for k in seats:
                chosen.add(k)
                ledger.taken[seat_of[k].session.id] += 1
            ledger.release_appointment(c)
            chosen.discard(c.key)
        if moved is not None:
            ledger.take_appointment(moved)
            chosen.add(moved.key)
        return False

    progress = False
    for n_done, lst in enumerate(unbooked):
        if deadline is not None and n_done % 16 == 0 and time.perf_counter() > deadline:
            break
        for give_up_seats in (False, True):
            done = False
            tried = 0
            for c in lst:
                in_way = conflicts.get(c.key, set()) & chosen
                if in_way and not give_up_seats:
                    continue
                if any(k not in seat_of or seat_of[k].pinned for k in in_way):
                    continue
                if attempt(c, in_way):
                    done = True
                    break
                tried += 1
                if tried >= MAX_MOVE_ATTEMPTS:
                    break
            if done:
                progress = True
                break
    return progress


def changed_needs(options: Options, chosen: set[int]) -> frozenset[str]:
    """Due appointments a selection gives to someone other than the usual clinician."""
    return frozenset(o.need.id for lst in options.appointments.values() for opts in lst.values()
                     for o in opts if o.key in chosen and o.need.preferred_clinician
                     and not o.preferred)


def solve_greedy(instance: Instance) -> Plan:
    started = time.perf_counter()
    options = build_options(instance)
    chosen = greedy_choice(instance, options)
    return make_plan(instance, options, chosen, None, bound=0, status=PlanStatus.GREEDY,
                     seconds=time.perf_counter() - started, method="greedy",
                     missing_reason="the greedy baseline found no free time left for it")
