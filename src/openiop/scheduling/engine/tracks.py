"""Seats and tracks first: a small exact model, then the greedy appointments.

Who reaches the weekly minimum is decided mostly by group seats: a person with a daytime
job reaches it only in an evening track, and when the evening track has fewer seats than
the people who need it, which people get them (and who moves to an acceptable alternative
track listed on their record) is the choice that matters. That choice does not depend on
clinicians, so it is made exactly on a model of only seats and tracks (a few variables per
person, linear in the week), and the greedy planner then books appointments around it.

Objective, in the same tiers as the main model (options.W_*): participants reaching the
minimum (every due appointment counted as booked, which the cadence rules require), then
sessions attended, then staying in the enrolled track. A move to another track is a
proposal shown to the director (Plan.track_moves); nothing is changed on the person's
enrollment by the engine.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from .model import Instance
from .options import W_BELOW_MIN, W_CONTINUITY, W_SKIPPED_GROUP, Options
from .resources import group_capacity


def seats_and_tracks(
    instance: Instance, options: Options, *, seconds: float, seed: int, workers: int,
) -> set[int] | None:
    """Group option keys to book (pinned ones included), or None when no participant has a
    choice of track (greedy's seats are then as good as any) or nothing was found in time."""
    if not any(len(p.tracks) > 1 for p in instance.participants):
        return None
    m = cp_model.CpModel()
    seat: dict[int, cp_model.IntVar] = {}
    takers: dict[str, list[cp_model.IntVar]] = {}
    pinned: dict[str, int] = {}
    terms = []
    hint: list[tuple[cp_model.IntVar, int]] = []
    for p in instance.participants:
        gopts = options.groups[p.id]
        y = {t: m.new_bool_var(f"y{p.id}:{t}") for t in p.tracks}
        if y:
            m.add_exactly_one(y.values())
            hint.extend((v, int(t == p.tracks[0])) for t, v in y.items())
            terms.append((-W_CONTINUITY, 1 - y[p.tracks[0]]))
        for o in gopts:
            v = m.new_bool_var(f"s{o.key}")
            seat[o.key] = v
            m.add_implication(v, y[o.track])
            if o.pinned:
                m.add(v == 1)
                pinned[o.session.id] = pinned.get(o.session.id, 0) + 1
            takers.setdefault(o.session.id, []).append(v)
            terms.append((W_SKIPPED_GROUP, v))
        appt = sum(max((o.counted for o in lst), default=0)
                   for lst in options.appointments[p.id].values())
        base = options.fixed_minutes[p.id] + appt
        if base >= p.minimum_minutes:
            continue
        reach = m.new_bool_var(f"z{p.id}")
        m.add(base + sum(o.counted * seat[o.key] for o in gopts) >= p.minimum_minutes * reach)
        terms.append((W_BELOW_MIN, reach))
    capacity = group_capacity(instance)
    for sid, lst in takers.items():
        m.add(sum(lst) <= max(capacity.get(sid, 0), pinned.get(sid, 0)))
    m.maximize(sum(w * t for w, t in terms))
    for v, value in hint:
        m.add_hint(v, value)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.max_time_in_seconds = max(0.5, seconds)
    prm.max_deterministic_time = max(0.5, seconds)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {k for k, v in seat.items() if solver.boolean_value(v)}
