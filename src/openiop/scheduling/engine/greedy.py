"""Greedy baseline: the plan a careful scheduler would make by hand, for comparison.

Participants with the fewest options go first; each is booked into every attendable
session of the enrolled track while seats last, then each due appointment takes the
first free candidate in the same ranked order the CP-SAT model sees.
"""

from __future__ import annotations

import time

from .continuity import keep_usual
from .model import Instance, Plan, PlanStatus
from .options import Options, build_options
from .plan import make_plan
from .resources import Ledger


def greedy_choice(instance: Instance, options: Options, groups: set[int] | None = None) -> set[int]:
    """Greedy's selection. With `groups` (group option keys decided beforehand, e.g. by
    tracks.seats_and_tracks) those seats are booked instead of the enrolled track's."""
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

    order = sorted(instance.participants, key=lambda p: (n_options(p.id), p.id))
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
    # Continuity is a rule: a stand-in booked early (before a later participant's own
    # appointments took their times) goes back to the usual clinician where that is free.
    return keep_usual(instance, options, chosen)


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
